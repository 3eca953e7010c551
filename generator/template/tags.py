"""Stack-wide tags on every resource type that takes them."""

from __future__ import annotations

from troposphere import Tags, Template

# Resource types whose Tags property is a plain mapping rather than a list of Key/Value pairs.
MAPPING_TAGS = frozenset({"AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::VpcLink", "AWS::ApiGatewayV2::Stage"})
# Resource types that call their tags something else.
TAG_PROPERTY = {"AWS::Cognito::UserPool": "UserPoolTags"}


def apply_tags(template: Template, tags: tuple[tuple[str, str], ...]) -> None:
    """Add ``tags`` to every taggable resource, after any tags the resource already has."""
    if not tags:
        return
    for resource in template.resources.values():
        prop = TAG_PROPERTY.get(resource.resource_type, "Tags")
        if prop not in resource.props:
            continue
        if resource.resource_type in MAPPING_TAGS or prop != "Tags":
            existing = dict(resource.properties.get(prop, {}))
            resource.properties[prop] = {**existing, **dict(tags)}
        else:
            existing = resource.properties.get(prop)
            names = {tag["Key"] for tag in existing.to_dict()} if existing else set()
            extra = Tags(**{key: value for key, value in tags if key not in names})
            resource.properties[prop] = existing + extra if existing else extra
