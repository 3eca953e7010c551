"""A template as plain data (dicts, lists, strings, numbers), the same as troposphere's ``to_dict``
gives, in a third of the time.

troposphere's ``encode_to_dict`` asks every value, strings included, whether it has a ``to_dict``
and then a ``JSONrepr`` method, and each resource's ``to_dict`` encodes its properties, which the
caller then walks again: the values of a nested property are walked once per level above them.
For the default stack that is ~11,400 calls and ~7% of a cold ``ecsapi template`` (callgrind,
2026-12-07). :func:`plain` walks each value once, answers the JSON types by their exact type first,
and does what troposphere's own methods do for its own classes (the same validation, in the same
order, so the same first error); anything else goes through its own ``to_dict`` or ``JSONrepr``,
as ``encode_to_dict`` does. tests/template/test_plain.py compares the two on every stacks/ variant.
"""

from __future__ import annotations

from typing import Any

from troposphere import AWSHelperFn, BaseAWSObject, Tags, Template

# troposphere's own methods, which plain() does inline: a class that overrides one is encoded by calling it.
_OBJECT_TO_DICT = BaseAWSObject.to_dict
_HELPER_TO_DICT = AWSHelperFn.to_dict
_TAGS_TO_DICT = Tags.to_dict
# Values that are already plain: returned as they are (troposphere's walk returns them unchanged too).
_SCALARS = frozenset({str, int, bool, float, type(None)})


def template_dict(template: Template) -> dict[str, Any]:
    """``template.to_dict()`` as troposphere's ``Template.to_dict`` makes it, built by :func:`plain`."""
    t: dict[str, Any] = {}
    # troposphere's Template.to_dict, section by section, in its order (the keys' order is the dict's).
    if template.description:
        t["Description"] = template.description
    if template.metadata:
        t["Metadata"] = template.metadata
    if template.conditions:
        t["Conditions"] = template.conditions
    if template.mappings:
        t["Mappings"] = template.mappings
    if template.outputs:
        t["Outputs"] = template.outputs
    if template.parameters:
        t["Parameters"] = template.parameters
    if template.version:
        t["AWSTemplateFormatVersion"] = template.version
    if template.transform:
        t["Transform"] = template.transform
    if template.rules:
        t["Rules"] = template.rules
    if template.globals:
        t["Globals"] = template.globals
    t["Resources"] = template.resources
    return plain(t)


def plain(value: Any) -> Any:
    """``troposphere.encode_to_dict(value)``: ``value`` with every troposphere or awacs object in it
    replaced by its plain form, validating each resource and property as its ``to_dict`` does."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {name: plain(item) for name, item in value.items()}
    if kind is list or kind is tuple:
        return [plain(item) for item in value]
    to_dict = getattr(kind, "to_dict", None)
    if to_dict is _OBJECT_TO_DICT:
        return _object(value)
    if to_dict is _HELPER_TO_DICT:
        return plain(value.data)
    if to_dict is _TAGS_TO_DICT:
        return [plain(tag) for tag in value.tags]
    # encode_to_dict's own order for everything else.
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items()}
    if hasattr(value, "JSONrepr"):
        return plain(value.JSONrepr())
    return value


def _object(resource: BaseAWSObject) -> dict[str, Any]:
    """troposphere's ``BaseAWSObject.to_dict()`` (validation on), encoded once."""
    if resource.do_validation:
        resource._validate_props()
        resource.validate()
    if resource.properties:
        return plain(resource.resource)
    if hasattr(resource, "resource_type"):
        return {name: plain(item) for name, item in resource.resource.items() if name != "Properties"}
    return {}
