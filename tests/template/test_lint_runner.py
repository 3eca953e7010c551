"""The template tests lint in their own process (tests.support.templates.cfn_lint: cfn-lint's runner,
loaded once per worker); it must find exactly what the cfn-lint command finds, rule by rule and line
by line, or a clean result there would prove nothing about the command."""

from __future__ import annotations

import json

import pytest

from tests.support.templates import cfn_lint, cfn_lint_command


def _findings_of_the_command(path) -> set[tuple[str, int]]:
    result = cfn_lint_command(path, "--format", "parseable")
    assert result.returncode != 0, result.stdout + result.stderr
    # parseable: "file:line:column:end line:end column:RULE:message", a line per finding.
    found = set()
    for line in result.stdout.splitlines():
        fields = line[len(f"{path}:"):].split(":", 5)
        found.add((fields[4], int(fields[0])))
    return found


@pytest.mark.integration
def test_the_in_process_lint_finds_what_the_command_finds(default_template, tmp_path):
    template = json.loads(json.dumps(default_template))
    # An error (a property the type does not have), a warning (an unused parameter) and an
    # informational finding (a join that a Sub would say more plainly), in the template the stack ships.
    template["Resources"]["Extra"] = {"Type": "AWS::SNS::Topic", "Properties": {"NoSuchProperty": 1}}
    template["Parameters"]["Unused"] = {"Type": "String"}
    template["Outputs"]["Joined"] = {"Value": {"Fn::Join": ["", ["region-", {"Ref": "AWS::Region"}]]}}
    path = tmp_path / "flawed.json"
    path.write_text(json.dumps(template, indent=2))

    in_process = {(f.split()[0], int(f.rsplit(":", 1)[1].rstrip(")"))) for f in cfn_lint(path)}
    assert in_process == _findings_of_the_command(path)
    assert {rule[0] for rule, _ in in_process} == {"E", "W", "I"}, in_process
