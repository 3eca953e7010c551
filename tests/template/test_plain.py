"""generator/template/plain.py gives what troposphere's own to_dict gives: the same data in the same
key order, the same validation errors, and other classes' own to_dict or JSONrepr honoured."""

from __future__ import annotations

import json

import pytest
from awacs.aws import Allow, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Ref, Sub, Tags, Template, encode_to_dict, s3, sqs
from troposphere.cloudformation import CustomResource

from generator import build_template
from generator.template.plain import plain, template_dict
from tests.support.templates import VARIANTS


def ordered(data) -> str:
    """``data`` as JSON text in its own key order: equal text means equal data and equal order."""
    return json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_encodes_as_troposphere_encodes_it(variant, release):
    template = build_template(VARIANTS[variant], release)
    assert ordered(template.to_dict()) == ordered(Template.to_dict(template))


def test_a_template_with_every_section_encodes_as_troposphere_encodes_it():
    template = Template(Description="every section", Metadata={"Key": ("a", "tuple")})
    template.set_version("2010-09-09")
    template.set_transform("AWS::Serverless-2016-10-31")
    template.add_condition("Yes", {"Fn::Equals": ["a", "a"]})
    template.add_mapping("Map", {"eu": {"Ami": "x"}})
    template.add_rule("Rule", {"Assertions": [{"Assert": {"Fn::Equals": ["a", "a"]}}]})
    bucket = template.add_resource(s3.Bucket("Bucket", Tags=Tags(Name="b") + Tags(Team="t")))
    template.add_resource(sqs.Queue("Queue", DependsOn=bucket, Metadata={"Note": Sub("${AWS::Region}")}))
    template.add_resource(s3.BucketPolicy("Policy", Bucket=Ref(bucket), PolicyDocument=PolicyDocument(
        Statement=[Statement(Effect=Allow, Principal=Principal("Service", "s3.amazonaws.com"), Action=[],
                             Resource=[GetAtt(bucket, "Arn")])])))
    template.add_resource(CustomResource("Custom", ServiceToken="arn"))
    assert ordered(template_dict(template)) == ordered(Template.to_dict(template))


class Legacy:
    """Neither troposphere nor awacs: encoded through its own to_dict, as encode_to_dict does."""

    def to_dict(self):
        return {"Nested": (Ref("A"), "b")}


class Represented:
    def JSONrepr(self):
        return ["x", Sub("y")]


class Text(str):
    pass


@pytest.mark.parametrize("value", [
    {"a": (1, 2.5, None, True)}, [Legacy(), Represented()], Text("sub-class"), {"k": [Tags(A="1")]},
    Ref("Thing"),
], ids=["tuples", "own-methods", "str-subclass", "tags", "helper"])
def test_a_value_encodes_as_encode_to_dict_encodes_it(value):
    assert ordered(plain(value)) == ordered(encode_to_dict(value))


def test_a_value_of_no_known_kind_is_returned_as_it_is():
    assert plain(object) is encode_to_dict(object) is object


def test_a_missing_required_property_fails_with_troposphere_s_own_error():
    template = Template()
    template.add_resource(s3.BucketPolicy("Policy", Bucket="b"))  # PolicyDocument is required
    with pytest.raises(ValueError) as ours:
        template_dict(template)
    with pytest.raises(ValueError) as theirs:
        Template.to_dict(template)
    assert str(ours.value) == str(theirs.value) and "PolicyDocument" in str(ours.value)


def test_a_resource_without_validation_is_not_validated():
    template = Template()
    template.add_resource(s3.BucketPolicy("Policy", Bucket="b").no_validation())
    assert template_dict(template) == Template.to_dict(template) == {
        "Resources": {"Policy": {"Properties": {"Bucket": "b"}, "Type": "AWS::S3::BucketPolicy"}}}
