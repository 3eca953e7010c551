"""Names the template derives from the stack fit their resources' limits whatever the stack is
called (a stack name may have 128 characters, "CreateStack", AWS CloudFormation API Reference),
measured against the maxLength of the resource schemas cfn-lint ships."""

from __future__ import annotations

import re

import pytest

from tests.support.cloudformation import schema
from tests.support.templates import VARIANTS

LONGEST_STACK_NAME = "s" * 128
STACK_UUID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
PSEUDO = {
    "AWS::StackName": LONGEST_STACK_NAME,
    "AWS::StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{LONGEST_STACK_NAME}/{STACK_UUID}",
    "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
# Limits a schema states in a property's description but not as maxLength.
DESCRIBED_LIMITS = {
    # "The display name must be maximum 100 characters long" (AWS::SNS::Topic schema, DisplayName).
    ("AWS::SNS::Topic", "DisplayName"): 100,
}


def resolve(value):
    """A string value with the pseudo parameters filled in; None when it depends on a resource."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (function, argument), = value.items()
    if function == "Ref":
        return PSEUDO.get(argument)
    if function == "Fn::Select":
        items = resolve_list(argument[1])
        return None if items is None else items[int(argument[0])]
    if function == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: resolve(v) for name, v in variables.items()}

        def fill(match: re.Match) -> str:
            name = match.group(1)
            found = values.get(name, PSEUDO.get(name))
            if found is None:
                raise LookupError(name)
            return found

        try:
            return re.sub(r"\$\{([^}!]+)\}", fill, text)
        except LookupError:
            return None
    return None


def resolve_list(value):
    if isinstance(value, dict) and "Fn::Split" in value:
        separator, text = value["Fn::Split"]
        text = resolve(text)
        return None if text is None else text.split(separator)
    return None


def named_properties(template: dict):
    """(logical id, type, property, resolved value, maxLength) for every top-level string property
    the schema bounds (as maxLength or in :data:`DESCRIBED_LIMITS`) whose value is known here."""
    for name, resource in template["Resources"].items():
        if "::" not in resource["Type"] or resource["Type"].startswith("Custom::"):
            continue
        properties = schema(resource["Type"])["properties"]
        for key, value in resource.get("Properties", {}).items():
            limit = properties.get(key, {}).get("maxLength", DESCRIBED_LIMITS.get((resource["Type"], key)))
            text = resolve(value)
            if limit is not None and text is not None:
                yield name, resource["Type"], key, text, limit


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_stack_derived_name_fits_its_limit_with_the_longest_stack_name(render, variant):
    checked = list(named_properties(render(VARIANTS[variant])))
    names = {(name, key) for name, _, key, _, _ in checked}
    config = VARIANTS[variant]
    expected = {("ApiAccessLogGroup", "LogGroupName")}
    if config.auth.uses_cognito:  # an external issuer: no Cognito resource at all
        expected |= {("UserPool", "UserPoolName"), ("UserPoolClient", "ClientName")}
        if config.auth.machine_client:
            expected |= {("MachineClient", "ClientName"), ("UserPoolDomain", "Domain")}
    assert expected <= names
    if config.alarms:
        assert ("AlarmTopic", "DisplayName") in names
    for name, resource_type, key, text, limit in checked:
        assert len(text) <= limit, f"{variant}/{name} ({resource_type}) {key} has {len(text)} > {limit}: {text}"


def test_cognito_names_carry_the_stack_uuid_not_its_name(default_template):
    pool = resolve(default_template["Resources"]["UserPool"]["Properties"]["UserPoolName"])
    client = resolve(default_template["Resources"]["UserPoolClient"]["Properties"]["ClientName"])
    assert (pool, client) == (f"ecsapi-users-{STACK_UUID}", f"ecsapi-web-{STACK_UUID}")


def test_the_api_access_log_group_is_a_vended_logs_group_unique_to_the_stack(default_template):
    group = default_template["Resources"]["ApiAccessLogGroup"]["Properties"]
    assert resolve(group["LogGroupName"]) == f"/aws/vendedlogs/ecsapi-api-access-{STACK_UUID}"
    stage = default_template["Resources"]["ApiStage"]["Properties"]
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
