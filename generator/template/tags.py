"""Stack-wide tags on every resource type that takes them.

:class:`TaggedTemplate` tags a resource as it is added, after the tags its builder gave it: the
builders take the stack's tags through the template they are handed, and none of them (nor a pass
at the end) reaches into the resources another one returned.
"""

from __future__ import annotations

from troposphere import AWSObject, Tags, Template

from generator.template.plain import template_dict

# Resource types whose Tags property is a plain mapping rather than a list of Key/Value pairs.
MAPPING_TAGS = frozenset({
    "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::VpcLink", "AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::DomainName",
})
# Resource types that call their tags something else.
TAG_PROPERTY = {"AWS::Cognito::UserPool": "UserPoolTags"}


class TaggedTemplate(Template):
    """A ``Template`` whose :meth:`add_resource` adds ``tags`` (name, value pairs) to every
    taggable resource, after any tags the resource already has."""

    def __init__(self, tags: tuple[tuple[str, str], ...] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.stack_tags = tuple(tags)

    def add_resource(self, resource):
        for each in resource if isinstance(resource, list) else [resource]:
            _add_tags(each, self.stack_tags)
        return super().add_resource(resource)

    def to_dict(self) -> dict:
        """The template as plain data: what troposphere's ``Template.to_dict`` gives, made in one
        walk (generator/template/plain.py)."""
        return template_dict(self)


def _add_tags(resource: AWSObject, tags: tuple[tuple[str, str], ...]) -> None:
    prop = TAG_PROPERTY.get(resource.resource_type, "Tags")
    if not tags or prop not in resource.props:
        return
    existing = getattr(resource, prop, None)
    if resource.resource_type in MAPPING_TAGS or prop != "Tags":
        setattr(resource, prop, {**dict(existing or {}), **dict(tags)})
    else:
        names = {tag["Key"] for tag in existing.to_dict()} if existing else set()
        extra = Tags(**{key: value for key, value in tags if key not in names})
        setattr(resource, prop, existing + extra if existing else extra)
