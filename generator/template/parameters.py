"""Template parameters, grouped and labelled for the console's quick-create page."""

from __future__ import annotations

from dataclasses import field

from troposphere import Parameter, Template

from generator.model.records import dataclass


@dataclass
class ParameterInterface:
    """Collects parameters in the order the console should show them.

    ``AWS::CloudFormation::Interface`` metadata is what the quick-create page renders: groups in
    order, each parameter with a human label instead of its logical id.
    """

    groups: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def add(self, template: Template, group: str, label: str, parameter: Parameter) -> Parameter:
        template.add_parameter(parameter)
        self.groups.setdefault(group, []).append(parameter.title)
        self.labels[parameter.title] = label
        return parameter

    def metadata(self) -> dict:
        return {
            "ParameterGroups": [
                {"Label": {"default": group}, "Parameters": names} for group, names in self.groups.items()
            ],
            "ParameterLabels": {name: {"default": label} for name, label in sorted(self.labels.items())},
        }
