"""What an update from one template to another does: resources added, removed and changed, the
properties that change, which resources CloudFormation replaces, and what that costs.

Replacement is decided the way CloudFormation decides it: a resource is replaced when a
*create-only* property changes (AWS CloudFormation User Guide, "Update behaviors of stack
resources": "Replacement ... AWS CloudFormation recreates the resource during an update"; the
resource type schema's ``createOnlyProperties`` are "properties that can only be specified by the
customer when creating a resource", CloudFormation CLI, "Resource type schema"). The create-only
properties come from the resource provider schemas that cfn-lint ships (``cfnlint.schema``), never
from a list of our own. A value that is not known until deploy (a parameter, a condition, an
attribute of a resource the update changes, the id of a resource the update replaces) makes the
answer "may replace".

``compare`` is pure: two template dicts in, a frozen :class:`Changes` out. Only ``text`` and
``as_json`` format it; the CLI prints.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from generator.tooling.domain_changes import domain_warnings

Replacement = Literal["yes", "maybe", "no"]

# CloudFormation evaluates schemas per region; create-only properties are the same in every region
# for the types this project uses, and the diff of two templates has no region of its own.
SCHEMA_REGION = "us-east-1"
# The resources that hold data a user would miss: items, users, the key that decrypts them, logs.
DATA_TYPES = {
    "AWS::DynamoDB::Table": "table",
    "AWS::Cognito::UserPool": "user pool",
    "AWS::KMS::Key": "KMS key",
    "AWS::Logs::LogGroup": "log group",
}
# ecsapi's own custom resources whose answers an update keeps, by type, with why: diff treats their
# attributes as unchanged instead of "may be anything". The AZ choice answers the same zone at every
# position that keeps its subnets, or fails the update before any subnet is touched
# (generator/runs_in_aws/availability_zones.py refuses a move), so a subnet never moves AZ through it.
KEEPS_ITS_ANSWERS = {
    "Custom::AvailabilityZones": "an update keeps each AZ position's zone or fails before any subnet changes",
}
# Attribute names whose value is the identity of the resource: a replaced resource has new ones.
IDENTITY_ATTRIBUTES = ("Arn", "Id", "Name", "Uri")
# ... and those a resource updated in place keeps.
STABLE_ATTRIBUTES = IDENTITY_ATTRIBUTES
# Create-only properties that end in "Name" but name *another* thing, not this resource: two
# resources may carry the same value, so it is not a unique key.
NOT_OWN_NAMES = {("AWS::EC2::VPCEndpoint", "ServiceName")}
# Sections besides Resources whose differences an update applies.
SECTIONS = ("Parameters", "Conditions", "Rules", "Mappings", "Outputs", "Metadata", "Description",
            "Transform", "AWSTemplateFormatVersion")


@dataclass(frozen=True)
class PropertyChange:
    path: str  # "CidrBlock", "Tags[0].Value", "(DeletionPolicy)"
    old: Any  # None when absent
    new: Any
    create_only: bool


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    type: str
    replacement: Replacement
    properties: tuple[PropertyChange, ...]
    reasons: tuple[str, ...]  # why it is (or may be) replaced


@dataclass(frozen=True)
class Warning_:
    kind: str  # data-replaced, data-removed, fixed-name, cidr-conflict, routes-removed
    logical_id: str
    certain: bool  # False: only if a "may replace" happens
    message: str


@dataclass(frozen=True)
class Changes:
    added: tuple[tuple[str, str], ...]  # (logical id, type)
    removed: tuple[tuple[str, str], ...]
    changed: tuple[ResourceChange, ...]
    sections: tuple[str, ...]  # other template sections that differ
    warnings: tuple[Warning_, ...] = field(default=())
    parameters: tuple[tuple[str, str], ...] = ()  # (name, "added" | "removed" | "changed")
    outputs: tuple[tuple[str, str], ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.sections)

    def replaced(self, certainty: Replacement = "yes") -> tuple[str, ...]:
        return tuple(c.logical_id for c in self.changed if c.replacement == certainty)


# --- the resource provider schemas -------------------------------------------------------------


def create_only_properties(resource_type: str) -> tuple[tuple[str, ...], ...]:
    """The create-only property paths of ``resource_type`` from cfn-lint's copy of its provider
    schema (``/properties/A/B`` -> ``("A", "B")``); none for custom resources and unknown types."""
    return _schema_paths(resource_type, "createOnlyProperties")


def conditional_create_only_properties(resource_type: str) -> tuple[tuple[str, ...], ...]:
    """The schema's ``conditionalCreateOnlyProperties``: a change may or may not replace the
    resource (DynamoDB's KeySchema is one)."""
    return _schema_paths(resource_type, "conditionalCreateOnlyProperties")


@cache
def _schema_paths(resource_type: str, key: str) -> tuple[tuple[str, ...], ...]:
    if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
        return ()  # a custom resource is updated in place unless its handler answers a new id
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
    from cfnlint.schema._exceptions import ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
    except ResourceNotFoundError:
        return ()
    pointers = schema.get(key, ())
    return tuple(tuple(p.split("/")[2:]) for p in pointers if p.startswith("/properties/"))


def _is_create_only(resource_type: str, path: tuple, conditional: bool = False) -> bool:
    keys = tuple(str(p) for p in path)
    pointers = conditional_create_only_properties(resource_type) if conditional else create_only_properties(resource_type)
    for pointer in pointers:
        n = min(len(pointer), len(keys))
        # A change inside a create-only property, or to a whole value that holds one.
        if all(a == b or a == "*" for a, b in zip(pointer[:n], keys[:n], strict=True)):
            return True
    return False


def own_name_properties(resource_type: str) -> tuple[str, ...]:
    """The properties that name the resource itself and cannot change after creation: a create-only
    ``...Name`` property is the resource's key, so two resources cannot share its value."""
    return tuple(
        pointer[0] for pointer in create_only_properties(resource_type)
        if len(pointer) == 1 and pointer[0].endswith("Name") and (resource_type, pointer[0]) not in NOT_OWN_NAMES
    )


# --- references inside a value ------------------------------------------------------------------


@dataclass(frozen=True)
class _Refs:
    refs: frozenset[str] = frozenset()  # Ref X
    attributes: frozenset[tuple[str, str]] = frozenset()  # GetAtt X.attr
    conditions: frozenset[str] = frozenset()  # Fn::If
    other: bool = False  # another function whose value is not known here (ImportValue, GetAZs, ...)


def _sub_names(text: str) -> list[str]:
    names, i = [], 0
    while (start := text.find("${", i)) >= 0:
        end = text.find("}", start)
        if end < 0:
            break
        if not text.startswith("${!", start):
            names.append(text[start + 2:end])
        i = end + 1
    return names


def references(value: Any) -> _Refs:
    refs, attributes, conditions, other = set(), set(), set(), False

    def walk(v: Any, local: frozenset[str] = frozenset()) -> None:
        nonlocal other
        if isinstance(v, list):
            for item in v:
                walk(item, local)
        elif isinstance(v, dict):
            if len(v) == 1:
                (key, arg), = v.items()
                if key == "Ref":
                    refs.add(arg)
                    return
                if key == "Fn::GetAtt":
                    name, attr = arg.split(".", 1) if isinstance(arg, str) else (arg[0], arg[1])
                    attributes.add((name, attr if isinstance(attr, str) else json.dumps(attr)))
                    return
                if key == "Fn::Sub":
                    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                    walk(variables, local)
                    for name in _sub_names(text):
                        if name in variables:
                            continue
                        if "." in name:
                            attributes.add(tuple(name.split(".", 1)))
                        else:
                            refs.add(name)
                    return
                if key == "Fn::If":
                    conditions.add(arg[0])
                    walk(arg[1:], local)
                    return
                if key in ("Fn::ImportValue", "Fn::GetAZs", "Fn::Transform"):
                    other = True
            for item in v.values():
                walk(item, local)

    walk(value)
    return _Refs(frozenset(refs), frozenset(attributes), frozenset(conditions), other)


# --- comparing ----------------------------------------------------------------------------------


def _property_changes(old: Any, new: Any, path: tuple = ()) -> list[tuple[tuple, Any, Any]]:
    """(path, old, new) for each leaf that differs; an intrinsic function is a leaf."""
    if old == new:
        return []
    both_dicts = isinstance(old, dict) and isinstance(new, dict)
    if both_dicts and not _intrinsic(old) and not _intrinsic(new):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _property_changes(old.get(key), new.get(key), (*path, key))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += _property_changes(a, b, (*path, i))
        return out
    return [(path, old, new)]


def _intrinsic(value: dict) -> bool:
    return len(value) == 1 and next(iter(value)) in ("Ref", "Condition") or any(k.startswith("Fn::") for k in value)


def _path_text(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _determinate(value: Any, parameters: set[str]) -> bool:
    """Whether two such values that read differently are different at deploy: literals, pseudo
    parameters (constant for a stack) and the ids of resources (distinct logical ids, distinct
    resources) are; parameters, attributes and conditions may resolve to anything."""
    r = references(value)
    return not (r.refs & parameters or r.attributes or r.conditions or r.other)


def compare(old: dict, new: dict, stable: frozenset[str] | None = None) -> Changes:
    """What updating a stack from template ``old`` to template ``new`` does (see the module).

    ``stable``: logical ids of custom resources whose answers (id and attributes) the caller knows
    an update keeps; by default those of a type in :data:`KEEPS_ITS_ANSWERS` in both templates. Any
    other custom resource the update changes may answer anything."""
    old_resources, new_resources = old.get("Resources", {}), new.get("Resources", {})
    if stable is None:
        stable = frozenset(
            name for name, resource in new_resources.items()
            if resource.get("Type") in KEEPS_ITS_ANSWERS
            and old_resources.get(name, {}).get("Type") == resource.get("Type")
        )
    added = tuple(sorted((k, new_resources[k]["Type"]) for k in set(new_resources) - set(old_resources)))
    removed = tuple(sorted((k, old_resources[k]["Type"]) for k in set(old_resources) - set(new_resources)))
    kept = sorted(set(old_resources) & set(new_resources))
    changed_parameters = {
        name for name in set(old.get("Parameters", {})) | set(new.get("Parameters", {}))
        if old.get("Parameters", {}).get(name) != new.get("Parameters", {}).get(name)
    }
    changed_conditions = {
        name for name in set(old.get("Conditions", {})) | set(new.get("Conditions", {}))
        if old.get("Conditions", {}).get(name) != new.get("Conditions", {}).get(name)
        or references(new.get("Conditions", {}).get(name)).refs & changed_parameters
    }

    parameter_names = sorted(set(old.get("Parameters", {})) | set(new.get("Parameters", {})))
    diffs: dict[str, list[tuple[tuple, Any, Any]]] = {}
    for name in kept:
        a, b = old_resources[name], new_resources[name]
        entries = _property_changes(a.get("Properties", {}), b.get("Properties", {}))
        for attribute in ("Type", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "DependsOn",
                          "Metadata", "UpdatePolicy", "CreationPolicy"):
            entries += _property_changes(a.get(attribute), b.get(attribute), (f"({attribute})",))
        diffs[name] = entries

    # Replacement propagates: a replaced resource has a new id, so a create-only property that
    # refers to it changes at deploy; an updated resource may answer new attributes. Iterate to a
    # fixed point (each round can only raise a resource's state).
    state: dict[str, Replacement] = {}
    updated: set[str] = set()
    reasons: dict[str, list[str]] = {}
    while True:
        new_state, new_updated, new_reasons = {}, set(), {}
        for name in kept:
            verdict, why, touched = _judge(name, old_resources[name], new_resources[name], diffs[name],
                                           state, updated - stable, changed_parameters, changed_conditions,
                                           new_resources, parameter_names)
            new_state[name], new_reasons[name] = verdict, why
            if touched:
                new_updated.add(name)
        if new_state == state and new_updated == updated:
            reasons = new_reasons
            break
        state, updated = new_state, new_updated

    changed = tuple(
        ResourceChange(
            logical_id=name, type=new_resources[name]["Type"], replacement=state[name],
            properties=tuple(
                PropertyChange(_path_text(path), a, b, _is_create_only(new_resources[name]["Type"], path))
                for path, a, b in diffs[name]
            ),
            reasons=tuple(reasons[name]),
        )
        for name in kept if name in updated or diffs[name] or state[name] != "no"
    )
    sections = tuple(s for s in SECTIONS if old.get(s) != new.get(s))
    result = Changes(added, removed, changed, sections)
    return Changes(added, removed, changed, sections, tuple(_warnings(old, new, result)),
                   _section_entries(old, new, "Parameters"), _section_entries(old, new, "Outputs"))


def _section_entries(old: dict, new: dict, section: str) -> tuple[tuple[str, str], ...]:
    a, b = old.get(section, {}), new.get(section, {})
    return tuple(
        (name, "added" if name not in a else "removed" if name not in b else "changed")
        for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)
    )


def _judge(name, old_resource, new_resource, diff, state, updated, changed_parameters, changed_conditions,
           resources, parameter_names=()) -> tuple[Replacement, list[str], bool]:
    """(replacement, reasons, updated at all) for one resource kept by the update."""
    resource_type = new_resource["Type"]
    if old_resource["Type"] != resource_type:
        return "yes", [f"its type changes ({old_resource['Type']} -> {resource_type})"], True
    verdict: Replacement = "no"
    why: list[str] = []

    def note(reason: str) -> None:
        # Why a resource whose own properties read the same is updated all the same.
        if f"(updated in place) {reason}" not in why:
            why.append(f"(updated in place) {reason}")

    def raise_to(level: Replacement, reason: str) -> None:
        nonlocal verdict
        if reason not in why:
            why.append(reason)
        if level == "yes" or (level == "maybe" and verdict == "no"):
            verdict = level

    for path, a, b in diff:
        if path[0].startswith("("):
            continue
        if not _is_create_only(resource_type, path):
            if _is_create_only(resource_type, path, conditional=True):
                raise_to("maybe", f"{_path_text(path)} changes, which the schema marks conditionally create-only")
            continue
        text = _path_text(path)
        parameters = set(parameter_names)
        if _determinate(a, parameters) and _determinate(b, parameters):
            raise_to("yes", f"create-only property {text} changes")
        else:
            raise_to("maybe", f"create-only property {text} changes to a value known only at deploy")
    # Values that read the same but resolve differently at deploy.
    touched = bool(diff)
    for key, value, create_only, cap in _segments(resource_type, new_resource.get("Properties", {})):

        def raise_capped(level: Replacement, reason: str, cap: bool = cap) -> None:
            raise_to("maybe" if cap and level == "yes" else level, reason)

        r = references(value)
        for ref in sorted(r.refs):
            if state.get(ref) in ("yes", "maybe"):
                touched = True
                if create_only:
                    raise_capped(state[ref], f"{key} refers to {ref}, which {_will(state[ref])} replaced")
                else:
                    note(f"{key} refers to {ref}, which {_will(state[ref])} replaced")
            elif ref in changed_parameters:
                touched = True
                if create_only:
                    raise_capped("maybe", f"{key} refers to parameter {ref}, whose definition changes")
            elif ref in updated and resources.get(ref, {}).get("Type", "").startswith("Custom::"):
                touched = True
                if create_only:
                    raise_capped("maybe", f"{key} refers to {ref}, a custom resource the update changes "
                                 "(its handler may answer a new id)")
        for ref, attribute in sorted(r.attributes):
            custom = resources.get(ref, {}).get("Type", "").startswith("Custom::")
            if state.get(ref) in ("yes", "maybe") or (
                # Updated in place, an AWS resource keeps its identity (ARN, id, name); a custom
                # resource's handler may answer anything.
                ref in updated and (custom or not attribute.endswith(STABLE_ATTRIBUTES))
            ):
                touched = True
                if not create_only:
                    note(f"{key} reads {ref}.{attribute}, which may change")
                elif state.get(ref) == "yes" and attribute.endswith(IDENTITY_ATTRIBUTES):
                    raise_capped("yes", f"{key} reads {ref}.{attribute}, and {ref} will be replaced")
                elif state.get(ref) in ("yes", "maybe"):
                    raise_capped("maybe", f"{key} reads {ref}.{attribute}, and {ref} may be replaced")
                elif custom:
                    raise_capped("maybe", f"{key} reads {ref}.{attribute}, and {ref} is updated: a custom "
                                 "resource, its handler decides whether the value changes")
                else:
                    raise_capped("maybe", f"{key} reads {ref}.{attribute}, and {ref} is updated")
        for condition in sorted(r.conditions & changed_conditions):
            touched = True
            if create_only:
                raise_capped("maybe", f"{key} depends on condition {condition}, which changes")
    return verdict, why, touched


def _segments(resource_type: str, properties: dict) -> list[tuple[str, Any, bool, bool]]:
    """(label, value, create-only, conditional) for each top-level property, and for each nested
    create-only (or conditionally create-only) property that is set: the values whose references
    are checked."""
    out = []
    whole = {p[0] for p in create_only_properties(resource_type) if len(p) == 1}
    for key, value in properties.items():
        out.append((key, value, key in whole, False))
    for conditional, pointers in ((False, create_only_properties(resource_type)),
                                  (True, conditional_create_only_properties(resource_type))):
        for pointer in pointers:
            if not conditional and len(pointer) == 1:
                continue
            value: Any = properties
            for part in pointer:
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None:
                out.append(("/".join(pointer), value, True, conditional))
    return out


def _will(level: Replacement) -> str:
    return "will be" if level == "yes" else "may be"


# --- warnings ----------------------------------------------------------------------------------


def _policy(resource: dict, attribute: str) -> str:
    # Without a policy CloudFormation deletes (AWS CloudFormation User Guide, "DeletionPolicy
    # attribute" and "UpdateReplacePolicy attribute": Delete is the default for most resources).
    return resource.get(attribute, "Delete")


def _warnings(old: dict, new: dict, changes: Changes) -> list[Warning_]:
    old_resources, new_resources = old.get("Resources", {}), new.get("Resources", {})
    out: list[Warning_] = []
    for change in changes.changed:
        if change.replacement == "no":
            continue
        certain = change.replacement == "yes"
        will = "will be" if certain else "may be"
        what = DATA_TYPES.get(change.type)
        name = change.logical_id
        if what:
            policy = _policy(new_resources[name], "UpdateReplacePolicy")
            if policy in ("Retain", "RetainExceptOnCreate"):
                fate = (f"the old {what} (the one in use today, with all its data) is RETAINED: it leaves the "
                        f"stack and stays in your account, orphaned; the new {what} that {name} then names "
                        "is EMPTY")
            elif policy == "Snapshot":
                fate = f"the old {what} is snapshotted, then DELETED; the new one is EMPTY"
            else:
                fate = f"the old {what} is DELETED with its data after the new, EMPTY one is created"
            out.append(Warning_("data-replaced", name, certain,
                                f"{what} {name} {will} REPLACED (UpdateReplacePolicy {policy}): {fate}"))
        for prop in own_name_properties(change.type):
            a = old_resources[name].get("Properties", {}).get(prop)
            b = new_resources[name].get("Properties", {}).get(prop)
            if b is not None and a == b and not (references(b).refs & set(changes.replaced())):
                out.append(Warning_(
                    "fixed-name", name, certain,
                    f"{name} ({change.type}) {will} replaced, but its {prop} is fixed ({json.dumps(b)}): "
                    "CloudFormation creates the replacement first, under the same name, and the update "
                    "FAILS; change the name in the same update or avoid the replacement"))
    for name, resource_type in changes.removed:
        what = DATA_TYPES.get(resource_type)
        if what:
            policy = _policy(old_resources[name], "DeletionPolicy")
            fate = ("RETAINED: it leaves the stack with its data and stays in your account, orphaned (one "
                    "added back later is a new, empty one)"
                    if policy in ("Retain", "RetainExceptOnCreate") else
                    "snapshotted, then DELETED" if policy == "Snapshot" else "DELETED with its data")
            out.append(Warning_("data-removed", name, True,
                                f"{what} {name} is REMOVED (DeletionPolicy {policy}): it is {fate}"))
    out += _cidr_conflicts(old_resources, new_resources, changes)
    out += _removed_routes(old_resources, changes)
    out += domain_warnings(old_resources, new_resources, changes, Warning_)  # generator/tooling/domain_changes.py
    return sorted(out, key=lambda w: (not w.certain, w.kind, w.logical_id))


def _cidr(resource: dict) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    value = resource.get("Properties", {}).get("CidrBlock")
    return ipaddress.ip_network(value, strict=False) if isinstance(value, str) else None


def _cidr_conflicts(old_resources: dict, new_resources: dict, changes: Changes) -> list[Warning_]:
    """A subnet the update creates (added, or the replacement of one) while an old subnet with an
    overlapping block still exists: CloudFormation creates before it deletes, and EC2 refuses a
    subnet whose CIDR overlaps another in the VPC (InvalidSubnet.Conflict)."""
    state = {c.logical_id: c.replacement for c in changes.changed}
    created = [(name, "yes") for name, t in changes.added if t == "AWS::EC2::Subnet"]
    created += [(c.logical_id, c.replacement) for c in changes.changed
                if c.type == "AWS::EC2::Subnet" and c.replacement != "no"]
    out = []
    for name, level in sorted(created):
        block = _cidr(new_resources[name])
        if block is None:
            continue
        for other, resource in sorted(old_resources.items()):
            if resource["Type"] != "AWS::EC2::Subnet" or (_cidr(resource) is None):
                continue
            if resource.get("Properties", {}).get("VpcId") != new_resources[name].get("Properties", {}).get("VpcId"):
                continue
            if block.overlaps(_cidr(resource)):
                if other == name:
                    out.append(Warning_(
                        "cidr-conflict", name, level == "yes",
                        f"subnet {name} {_will(level)} replaced with the same CIDR {block}: CloudFormation "
                        "creates the new subnet while the old one still holds the block, EC2 refuses it "
                        "and the update FAILS"))
                    continue
                still = "is removed by this update" if other not in new_resources else (
                    "is being replaced" if state.get(other, "no") != "no" else "stays")
                creates = "adds" if name not in old_resources else ("replaces" if level == "yes" else "may replace")
                out.append(Warning_(
                    "cidr-conflict", name, level == "yes",
                    f"the update {creates} subnet {name} with CIDR {block}, which overlaps {_cidr(resource)} of "
                    f"the existing {other} (it {still}, and is deleted only after the new subnets are "
                    "created): EC2 refuses the overlapping subnet and the update FAILS"))
    return out


def _removed_routes(old_resources: dict, changes: Changes) -> list[Warning_]:
    """A removed ECS service and the API routes that went to it (service -> Cloud Map service <-
    integration <- routes)."""
    removed = {name for name, _ in changes.removed}
    out = []
    for name, resource_type in changes.removed:
        if resource_type != "AWS::ECS::Service":
            continue
        registries = references(old_resources[name].get("Properties", {}).get("ServiceRegistries"))
        discovery = {ref for ref, _ in registries.attributes} | set(registries.refs)
        integrations = {
            k for k, r in old_resources.items() if r["Type"] == "AWS::ApiGatewayV2::Integration"
            and discovery & ({ref for ref, _ in references(r.get("Properties", {})).attributes}
                             | references(r.get("Properties", {})).refs)
        }
        routes = sorted(
            r["Properties"].get("RouteKey", k) for k, r in old_resources.items()
            if k in removed and r["Type"] == "AWS::ApiGatewayV2::Route"
            and integrations & (references(r["Properties"].get("Target")).refs)
        )
        gone = ", ".join(routes) if routes else "none found"
        out.append(Warning_("routes-removed", name, True,
                            f"service {name} is REMOVED with its routes ({gone}): callers get 404 from the API"))
    return out


# --- formats -------------------------------------------------------------------------------------


def _short(value: Any, other: Any = None, width: int = 70) -> str:
    """``value`` as JSON, cut to ``width``; two long strings are shown around where they differ."""
    text = "(absent)" if value is None else json.dumps(value, sort_keys=True)
    if len(text) <= width:
        return text
    start = 0
    if isinstance(value, str) and isinstance(other, str):
        other_text = json.dumps(other)
        start = next((i for i, (a, b) in enumerate(zip(text, other_text, strict=False)) if a != b), 0)
        start = max(0, start - 20)
    cut = text[start: start + width - 6]
    return ("..." if start else "") + cut + "..."


def text(changes: Changes, old_label: str, new_label: str) -> str:
    """The plain-text report, the same bytes for the same input."""
    maybe = len(changes.replaced("maybe"))
    lines = [
        f"ecsapi diff: {old_label} -> {new_label}",
        f"Resources: {len(changes.added)} added, {len(changes.removed)} removed, {len(changes.changed)} changed "
        f"({len(changes.replaced())} replaced, {maybe} may be replaced)",
    ]
    if changes.sections:
        lines.append(f"Template sections that change: {', '.join(changes.sections)}")
    for section, entries in (("Parameters", changes.parameters), ("Outputs", changes.outputs)):
        if entries:
            lines.append(f"{section}: " + ", ".join(f"{name} {how}" for name, how in entries))
    if changes.warnings:
        lines += ["", "WARNINGS"]
        for w in changes.warnings:
            lines.append(f"  {'!!' if w.certain else '?!'} {w.message}")
    if changes.added or changes.removed or changes.changed:
        lines.append("")
    for name, resource_type in changes.added:
        lines.append(f"+ {name} ({resource_type})")
    for name, resource_type in changes.removed:
        lines.append(f"- {name} ({resource_type})")
    for c in changes.changed:
        tag = {"yes": "REPLACE", "maybe": "MAY REPLACE", "no": "update in place"}[c.replacement]
        lines.append(f"~ {c.logical_id} ({c.type}): {tag}")
        for p in c.properties:
            mark = " [create-only]" if p.create_only else ""
            lines.append(f"    {p.path}: {_short(p.old, p.new)} -> {_short(p.new, p.old)}{mark}")
        for reason in c.reasons:
            in_place = reason.startswith("(updated in place) ")
            lines.append(f"    {'updated in place' if in_place else 'replacement'} because "
                         f"{reason.removeprefix('(updated in place) ')}")
        if not c.properties and not c.reasons:
            lines.append("    (its properties read the same; a value it refers to changes at deploy)")
    if not changes.any:
        lines.append("No changes.")
    return "\n".join(lines) + "\n"


def as_json(changes: Changes, old_label: str, new_label: str) -> str:
    document = {
        "old": old_label,
        "new": new_label,
        "added": [{"logicalId": n, "type": t} for n, t in changes.added],
        "removed": [{"logicalId": n, "type": t} for n, t in changes.removed],
        "changed": [
            {"logicalId": c.logical_id, "type": c.type, "replacement": c.replacement,
             "properties": [{"path": p.path, "old": p.old, "new": p.new, "createOnly": p.create_only}
                            for p in c.properties],
             "reasons": list(c.reasons)}
            for c in changes.changed
        ],
        "sections": list(changes.sections),
        "parameters": [{"name": n, "change": how} for n, how in changes.parameters],
        "outputs": [{"name": n, "change": how} for n, how in changes.outputs],
        "warnings": [{"kind": w.kind, "logicalId": w.logical_id, "certain": w.certain, "message": w.message}
                     for w in changes.warnings],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
