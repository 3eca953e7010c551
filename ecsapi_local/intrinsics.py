"""CloudFormation's intrinsic functions, evaluated with the values the emulator gives the template's
resources: the one resolver the local gateway (gateway_spec), the template reader
(template_reader) and the emulator's run (run, containers, resources) all use.

``physical_ids`` maps a logical id to what ``Ref`` gives locally (``{"UserPool": "us-east-1_abc"}``)
and ``"LogicalId.Attribute"`` to what ``Fn::GetAtt`` gives (``"UserPool.ProviderURL"``); pseudo
parameters come from :func:`pseudo_parameters`; a template parameter that is not in
``physical_ids`` resolves to its Default. ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join`` and
``Fn::Select`` (of a list or an ``Fn::Split``) are evaluated; anything else raises :class:`TemplateError` naming the logical id it belongs to, not a
silent guess. A resolver never changes: :meth:`Resolver.with_physical_ids` returns a new one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from types import MappingProxyType

# moto's default account, which the ARNs moto makes carry: the emulator's AWS::AccountId.
LOCAL_ACCOUNT_ID = "123456789012"

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(ValueError):
    """A part of the template the emulator cannot run; the message names the logical id."""

    def __init__(self, logical_id: str, problem: str) -> None:
        self.logical_id = logical_id
        super().__init__(f"{logical_id}: {problem}")


def pseudo_parameters(region: str, account_id: str = LOCAL_ACCOUNT_ID, stack_name: str | None = None) -> dict[str, str]:
    """The pseudo parameters of a stack in ``region`` (CloudFormation User Guide, "Pseudo parameters
    reference"): the partition and URL suffix follow the region's partition."""
    partition, suffix = ("aws-cn", "amazonaws.com.cn") if region.startswith("cn-") else (
        ("aws-us-gov", "amazonaws.com") if region.startswith("us-gov-") else ("aws", "amazonaws.com"))
    pseudo = {"AWS::Region": region, "AWS::Partition": partition, "AWS::URLSuffix": suffix,
              "AWS::AccountId": account_id}
    if stack_name is not None:
        pseudo["AWS::StackName"] = stack_name
        # A stack id as CloudFormation forms it, arn:...:stack/<name>/<uuid> ("Pseudo parameters
        # reference", AWS::StackId): names derived from its uuid (generator.template.names.unique_name)
        # resolve locally too. The uuid is derived from the name, so a restart gives the same names.
        stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"ecsapi-local:{region}:{stack_name}")
        pseudo["AWS::StackId"] = f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/{stack_uuid}"
    return pseudo


class Resolver:
    """Evaluates the intrinsic functions of ``template`` with ``physical_ids`` and ``pseudo``."""

    def __init__(self, template: Mapping, physical_ids: Mapping[str, str], pseudo: Mapping[str, str]) -> None:
        self.template = template
        self.resources: Mapping = template.get("Resources", {})
        self.parameters: Mapping = template.get("Parameters", {})
        self.physical_ids: Mapping[str, str] = MappingProxyType(dict(physical_ids))
        self.pseudo: Mapping[str, str] = MappingProxyType(dict(pseudo))

    def with_physical_ids(self, more: Mapping[str, str]) -> Resolver:
        """A resolver that also knows ``more`` (which wins over what this one knows)."""
        return Resolver(self.template, {**self.physical_ids, **more}, self.pseudo)

    # --- whole property values ------------------------------------------------------------------

    def resolve(self, value: object, owner: str = "template") -> object:
        """``value`` (maps, lists, scalars) with every intrinsic function replaced by its string;
        ``owner`` (a logical id) names errors."""
        if isinstance(value, list):
            return [self.resolve(item, owner) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::")):
            return self.value(owner, "a property", value)
        return {key: self.resolve(item, owner) for key, item in value.items()}

    # --- one string ------------------------------------------------------------------------------

    def value(self, owner: str, what: str, node) -> str:
        """``node`` as a string; ``owner`` (a logical id) and ``what`` (its property) name errors."""
        if isinstance(node, str):
            return node
        if isinstance(node, bool) or not isinstance(node, dict | int | float):
            raise TemplateError(owner, f"{what} is {node!r}, not a string")
        if not isinstance(node, dict):
            return str(node)
        if len(node) != 1:
            raise TemplateError(owner, f"{what} is {node!r}, not a string or one intrinsic function")
        [(function, argument)] = node.items()
        if function == "Ref":
            return self.ref(owner, what, argument)
        if function == "Fn::GetAtt":
            name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.get_att(owner, what, name, attribute)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return self.sub(owner, what, text, variables)
        if function == "Fn::Join":
            delimiter, parts = argument
            return delimiter.join(self.value(owner, what, part) for part in parts)
        if function == "Fn::Select":
            index, items = argument
            chosen = self.strings(owner, what, items)
            position = int(self.value(owner, what, index))
            if not 0 <= position < len(chosen):
                raise TemplateError(owner, f"{what} selects item {position} of {len(chosen)}")
            return chosen[position]
        raise TemplateError(owner, f"{what} uses {function}, which the emulator does not resolve")

    def strings(self, owner: str, what: str, node) -> list[str]:
        """A list-valued node (a literal list or ``Fn::Split``) as strings."""
        if isinstance(node, list):
            return [self.value(owner, what, item) for item in node]
        if isinstance(node, dict) and list(node) == ["Fn::Split"]:
            delimiter, text = node["Fn::Split"]
            return self.value(owner, what, text).split(delimiter)
        raise TemplateError(owner, f"{what} is {node!r}, not a list the emulator resolves")

    def ref(self, owner: str, what: str, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        if name in self.parameters and "Default" in self.parameters[name]:
            return str(self.parameters[name]["Default"])
        raise TemplateError(owner, f"{what} refers to {name}, which the local resolution does not give "
                                   f"(physical_ids[{name!r}])")

    def get_att(self, owner: str, what: str, name: str, attribute: str) -> str:
        key = f"{name}.{attribute}"
        if key in self.physical_ids:
            return self.physical_ids[key]
        raise TemplateError(owner, f"{what} refers to {key}, which the local resolution does not give "
                                   f"(physical_ids[{key!r}])")

    def sub(self, owner: str, what: str, text: str, variables: Mapping) -> str:
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return self.value(owner, what, variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(owner, what, *name.split(".", 1))
            return self.ref(owner, what, name)

        # "${!Literal}" is CloudFormation's escape for a literal "${Literal}".
        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    # --- what a value names ----------------------------------------------------------------------

    @staticmethod
    def referenced(node) -> str | None:
        """The logical id ``node`` names by Ref, GetAtt or a one-variable Sub, else None."""
        if isinstance(node, dict) and len(node) == 1:
            [(function, argument)] = node.items()
            if function == "Ref" and isinstance(argument, str):
                return argument
            if function == "Fn::GetAtt":
                return argument[0] if isinstance(argument, list) else argument.split(".", 1)[0]
            if function == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                names = _SUB_VARIABLE.findall(text)
                if len(names) == 1:
                    return names[0].split(".", 1)[0]
        return None
