"""Stack tags reach every resource type that takes tags, in whichever shape it takes them."""

from __future__ import annotations

from generator import StackConfig
from generator.template.stack import build_template

TAGS = {"team": "api", "cost-centre": "42"}


def test_tags_reach_every_taggable_resource(render, release):
    template = render(StackConfig(tags=TAGS))
    built = build_template(StackConfig(tags=TAGS), release)
    taggable = 0
    for name, resource in built.resources.items():
        prop = "UserPoolTags" if resource.resource_type == "AWS::Cognito::UserPool" else "Tags"
        if prop not in resource.props:
            continue
        taggable += 1
        emitted = template["Resources"][name]["Properties"][prop]
        as_dict = emitted if isinstance(emitted, dict) else {t["Key"]: t["Value"] for t in emitted}
        assert TAGS.items() <= as_dict.items(), name
    assert taggable > 30


def test_resource_tags_are_kept_beside_stack_tags(render):
    vpc_tags = render(StackConfig(tags=TAGS))["Resources"]["Vpc"]["Properties"]["Tags"]
    keys = [t["Key"] for t in vpc_tags]
    assert keys[0] == "Name" and set(keys) == {"Name", *TAGS}


def test_no_tags_leaves_resources_untouched(default_template):
    assert "Tags" not in default_template["Resources"]["FoodstoreTable"]["Properties"]


def test_a_resource_gets_the_stack_tags_as_it_is_added_even_after_the_build():
    """Tags go on in add_resource (TaggedTemplate), not in a pass that reaches into built resources."""
    from troposphere import Tags, sqs

    template = build_template(StackConfig(tags=TAGS))
    queue = template.add_resource(sqs.Queue("ExtraQueue", Tags=Tags(Name="extra")))
    assert [t["Key"] for t in queue.to_dict()["Properties"]["Tags"]] == ["Name", *sorted(TAGS)]
    untagged = build_template(StackConfig()).add_resource(sqs.Queue("ExtraQueue"))
    assert "Tags" not in untagged.to_dict().get("Properties", {})
