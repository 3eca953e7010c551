"""Outputs, parameters and metadata: what the console and a user see."""

from __future__ import annotations


def test_outputs_give_everything_a_user_needs_to_call_the_api(default_template):
    assert sorted(default_template["Outputs"]) == sorted([
        "ApiUrl", "FoodstoreUrl", "PetstoreUrl", "ApiId", "UserPoolId", "UserPoolClientId", "Region",
        "ClusterName", "VpcId", "NamespaceId", "APITestPage", "AlarmTopicArn", "DashboardName",
    ])
    assert default_template["Outputs"]["FoodstoreUrl"]["Value"] == {"Fn::Sub": "${HttpApi.ApiEndpoint}/foodstore/foods"}


def test_every_parameter_is_grouped_labelled_and_described(default_template):
    interface = default_template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [name for group in interface["ParameterGroups"] for name in group["Parameters"]]
    assert sorted(grouped) == sorted(default_template["Parameters"])
    assert sorted(interface["ParameterLabels"]) == sorted(default_template["Parameters"])
    for parameter in default_template["Parameters"].values():
        assert parameter["Description"]


def test_version_is_in_metadata_and_description(default_template, release):
    assert default_template["Metadata"]["ecsapi"]["version"] == release.version
    assert f"v{release.version}" in default_template["Description"]
