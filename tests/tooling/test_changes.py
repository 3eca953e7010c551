"""generator/tooling/changes.py: what an update replaces, read from the resource schemas' create-only
properties, and the warnings about data, fixed names, subnet CIDRs and routes."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from generator import StackConfig
from generator.model.config_file import load_config
from generator.tooling import changes
from tests.support.processes import REPO

FIXTURES = Path(__file__).with_name("fixtures")
# `git show 014e8eb:templates/ecsapi-v2.0.0.json`: the template of the 2.0.0 release as committed.
RELEASE_2_0_0 = FIXTURES / "ecsapi-v2.0.0-release.json"
RELEASE_2_0_0_SHA256 = "5e7c3a8f7bfd65354ad91ad63d6e8f9f528bcca74ce016a1c4b697ed583886c4"


def by_id(result: changes.Changes) -> dict[str, changes.ResourceChange]:
    return {c.logical_id: c for c in result.changed}


def kinds(result: changes.Changes, certain: bool | None = None) -> set[tuple[str, str]]:
    return {(w.kind, w.logical_id) for w in result.warnings if certain is None or w.certain == certain}


# --- the schemas ---------------------------------------------------------------------------------


def test_create_only_properties_are_read_from_the_schemas_cfn_lint_ships():
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    # AWS::EC2::Subnet: CidrBlock and AvailabilityZone "Update requires: Replacement" (AWS
    # CloudFormation Template Reference); the schema lists them as createOnlyProperties.
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::EC2::Subnet").schema
    expected = {tuple(p.split("/")[2:]) for p in schema["createOnlyProperties"]}
    assert set(changes.create_only_properties("AWS::EC2::Subnet")) == expected
    assert {("CidrBlock",), ("AvailabilityZone",)} <= expected
    # A custom resource has no schema: its handler decides, so no property forces a replacement.
    assert changes.create_only_properties("Custom::ImageBuild") == ()


def test_a_create_only_name_is_the_resources_own_name_and_an_updatable_name_is_not():
    assert changes.own_name_properties("AWS::DynamoDB::Table") == ("TableName",)
    assert changes.own_name_properties("AWS::Logs::LogGroup") == ("LogGroupName",)
    assert "Name" in changes.own_name_properties("AWS::ServiceDiscovery::Service")
    # A VPC link's Name can be updated in place: not a key, two links may share it.
    assert changes.own_name_properties("AWS::ApiGatewayV2::VpcLink") == ()
    # A gateway endpoint's ServiceName names the AWS service, not the endpoint.
    assert changes.own_name_properties("AWS::EC2::VPCEndpoint") == ()


# --- small templates, one rule each ----------------------------------------------------------------


def subnet(cidr: str, az: object = "us-east-1a") -> dict:
    return {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": cidr,
                                                        "AvailabilityZone": az}}


def network(**subnets: dict) -> dict:
    return {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}, **subnets}}


def test_a_changed_create_only_literal_replaces_the_resource_and_its_dependents():
    old = network(A=subnet("10.0.0.0/24"))
    old["Resources"]["Nat"] = {"Type": "AWS::EC2::NatGateway", "Properties": {"SubnetId": {"Ref": "A"}}}
    new = copy.deepcopy(old)
    new["Resources"]["A"]["Properties"]["CidrBlock"] = "10.0.1.0/24"
    result = by_id(changes.compare(old, new))
    assert result["A"].replacement == "yes"
    assert result["A"].properties == (changes.PropertyChange("CidrBlock", "10.0.0.0/24", "10.0.1.0/24", True),)
    # NatGateway SubnetId is create-only: a replaced subnet has a new id, so the gateway goes too.
    assert result["Nat"].replacement == "yes"
    assert result["Nat"].reasons == ("SubnetId refers to A, which will be replaced",)


def test_a_changed_updatable_property_is_an_update_in_place():
    old = network(A=subnet("10.0.0.0/24"))
    new = copy.deepcopy(old)
    new["Resources"]["A"]["Properties"]["MapPublicIpOnLaunch"] = True
    assert by_id(changes.compare(old, new))["A"].replacement == "no"


def test_a_value_known_only_at_deploy_may_replace():
    old = network(A=subnet("10.0.0.0/24", az={"Fn::GetAtt": ["Zones", "Zone1"]}))
    # Any custom resource but ecsapi's AZ choice (changes.KEEPS_ITS_ANSWERS): its answers may change.
    old["Resources"]["Zones"] = {"Type": "Custom::SomeoneElsesZones", "Properties": {"Count": 3}}
    new = copy.deepcopy(old)
    new["Resources"]["Zones"]["Properties"]["Count"] = 2
    result = changes.compare(old, new)
    assert by_id(result)["A"].replacement == "maybe"
    assert by_id(result)["Zones"].replacement == "no"
    # The caller may know the custom resource keeps its answers.
    assert "A" not in by_id(changes.compare(old, new, stable=frozenset({"Zones"})))
    # A parameter whose definition changes: may.
    with_parameter = network(A=subnet({"Ref": "Cidr"}))
    with_parameter["Parameters"] = {"Cidr": {"Type": "String", "Default": "10.0.0.0/24"}}
    other_default = copy.deepcopy(with_parameter)
    other_default["Parameters"]["Cidr"]["Default"] = "10.0.1.0/24"
    assert by_id(changes.compare(with_parameter, other_default))["A"].replacement == "maybe"


def test_a_new_subnet_on_a_block_an_old_one_still_holds_fails():
    old = network(A=subnet("10.0.0.0/24"), B=subnet("10.0.1.0/24"))
    new = network(A=subnet("10.0.1.0/24"))
    result = changes.compare(old, new)
    assert kinds(result, certain=True) == {("cidr-conflict", "A")}
    assert "overlaps 10.0.1.0/24 of the existing B (it is removed by this update" in result.warnings[0].message


def test_a_subnet_replaced_on_its_own_block_fails():
    old = network(A=subnet("10.0.0.0/24", az="us-east-1a"))
    new = network(A=subnet("10.0.0.0/24", az="us-east-1b"))
    assert kinds(changes.compare(old, new), certain=True) == {("cidr-conflict", "A")}


def test_replacing_a_resource_with_a_fixed_name_fails():
    table = {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete",
             "Properties": {"TableName": "items", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                            "ImportSourceSpecification": {"S3BucketSource": {"S3Bucket": "a"}}}}
    old = {"Resources": {"Items": table}}
    new = copy.deepcopy(old)
    new["Resources"]["Items"]["Properties"]["ImportSourceSpecification"]["S3BucketSource"]["S3Bucket"] = "b"
    result = changes.compare(old, new)
    assert kinds(result) == {("fixed-name", "Items"), ("data-replaced", "Items")}
    fixed = next(w for w in result.warnings if w.kind == "fixed-name")
    assert '"items"' in fixed.message and "FAILS" in fixed.message
    replaced = next(w for w in result.warnings if w.kind == "data-replaced")
    assert "DELETED with its data" in replaced.message
    # A new name in the same update is a replacement that works.
    renamed = copy.deepcopy(new)
    renamed["Resources"]["Items"]["Properties"]["TableName"] = "items2"
    assert ("fixed-name", "Items") not in kinds(changes.compare(old, renamed))


def test_a_removed_service_names_the_routes_that_go_with_it(render):
    three = render(load_config(REPO / "stacks" / "three-services.toml"))
    result = changes.compare(three, render(StackConfig()))
    routes = [w for w in result.warnings if w.kind == "routes-removed"]
    assert [w.logical_id for w in routes] == ["OrdersService"]
    assert "GET /shop/orders/{orderId}, PUT /shop/orders/{orderId}" in routes[0].message


# --- the previous release -------------------------------------------------------------------------


def test_the_2_0_0_fixture_is_the_committed_release_template():
    assert hashlib.sha256(RELEASE_2_0_0.read_bytes()).hexdigest() == RELEASE_2_0_0_SHA256


def test_diff_of_the_2_0_0_release_against_the_current_render_lists_every_difference(default_template):
    old = json.loads(RELEASE_2_0_0.read_text())
    result = changes.compare(old, default_template)
    # Independently of the module: every kept resource whose definition differs is listed.
    kept = set(old["Resources"]) & set(default_template["Resources"])
    differing = {n for n in kept if old["Resources"][n] != default_template["Resources"][n]}
    assert differing <= {c.logical_id for c in result.changed}
    assert {n for n, _ in result.added} == set(default_template["Resources"]) - set(old["Resources"])
    assert {n for n, _ in result.removed} == set(old["Resources"]) - set(default_template["Resources"])
    # Upgrading the default stack replaces no table, user pool or key. One log group is replaced on
    # purpose: the API's access logs moved under /aws/vendedlogs/ (a log group's name is create-only),
    # so the old group is retained with 2.0.0's access logs and the new one starts empty; the README's
    # "Updating a stack" says so.
    data = [(w.kind, w.logical_id) for w in result.warnings if w.kind in ("data-replaced", "data-removed")]
    assert data == [("data-replaced", "ApiAccessLogGroup")]
    # Deterministic: the same bytes twice.
    assert changes.text(result, "a", "b") == changes.text(changes.compare(old, default_template), "a", "b")


# --- the variant pairs a user moves between -----------------------------------------------------------


def test_three_to_two_azs_removes_the_third_az_and_replaces_only_the_vpc_link(render):
    result = changes.compare(render(StackConfig()), render(dataclasses.replace(StackConfig(), az_count=2)))
    changed = by_id(result)
    assert {n for n, _ in result.removed} >= {"PublicSubnet3", "PrivateSubnet3", "NatGateway3"}
    # Each AZ position has fixed blocks, and the AZ choice keeps the remaining positions' zones:
    # the first two AZs' subnets are untouched; the VPC link's SubnetIds are create-only.
    assert "PublicSubnet1" not in changed and "PrivateSubnet1" not in changed
    assert changed["VpcLink"].replacement == "yes"
    assert not [w for w in result.warnings if w.kind == "cidr-conflict"]


def test_nat_mode_and_the_test_page_add_and_remove_without_replacing(render):
    default = render(StackConfig())
    for other in (dataclasses.replace(StackConfig(), nat_mode="single"),
                  dataclasses.replace(StackConfig(), test_page=False)):
        for old, new in ((default, render(other)), (render(other), default)):
            result = changes.compare(old, new)
            assert result.replaced() == () and result.replaced("maybe") == ()
            assert result.added or result.removed


def test_turning_the_test_page_off_says_its_function_log_group_is_retained(render):
    result = changes.compare(render(StackConfig()), render(dataclasses.replace(StackConfig(), test_page=False)))
    (warning,) = [w for w in result.warnings if w.kind == "data-removed"]
    assert warning.logical_id == "SitePublishFunctionLogGroup"
    assert "DeletionPolicy Retain" in warning.message and "RETAINED" in warning.message


def test_removing_a_service_says_its_table_and_logs_stay_and_its_routes_go(render):
    three = render(load_config(REPO / "stacks" / "three-services.toml"))
    result = changes.compare(three, render(StackConfig()))
    assert kinds(result) == {("data-removed", "OrdersTable"), ("data-removed", "OrdersLogGroup"),
                             ("routes-removed", "OrdersService")}
    table = next(w for w in result.warnings if w.logical_id == "OrdersTable")
    assert "RetainExceptOnCreate" in table.message and "orphaned" in table.message
    # Adding it back is additions only.
    back = changes.compare(render(StackConfig()), three)
    assert back.removed == () and back.warnings == () and back.replaced() == ()


def test_the_customer_managed_key_replaces_the_image_repository_and_keeps_the_data(render):
    plain, keyed = render(StackConfig()), render(dataclasses.replace(StackConfig(), customer_managed_key=True))
    on = changes.compare(plain, keyed)
    assert on.added == (("StackKey", "AWS::KMS::Key"),)
    # ECR EncryptionConfiguration is create-only, and the task definitions name the repository's
    # URI (create-only ContainerDefinitions); tables and log groups take the key in place.
    assert on.replaced() == ("FoodstoreTaskDefinition", "ImageRepository", "PetstoreTaskDefinition")
    assert all(by_id(on)[n].replacement == "no" for n in ("FoodstoreTable", "PetstoreTable", "FoodstoreLogGroup")
               if n in by_id(on))
    off = changes.compare(keyed, plain)
    assert kinds(off) == {("data-removed", "StackKey")}


# --- formats ----------------------------------------------------------------------------------------


def test_the_text_and_json_reports_say_the_same_thing(render):
    result = changes.compare(render(StackConfig()), render(dataclasses.replace(StackConfig(), az_count=2)))
    text = changes.text(result, "old.json", "new.json")
    document = json.loads(changes.as_json(result, "old.json", "new.json"))
    assert text.splitlines()[0] == "ecsapi diff: old.json -> new.json"
    assert [c["logicalId"] for c in document["changed"]] == [c.logical_id for c in result.changed]
    for change in document["changed"]:
        tag = {"yes": "REPLACE", "maybe": "MAY REPLACE", "no": "update in place"}[change["replacement"]]
        assert f"~ {change['logicalId']} ({change['type']}): {tag}" in text
    for warning in document["warnings"]:
        assert warning["message"] in text


def test_identical_templates_have_no_changes(default_template):
    result = changes.compare(default_template, copy.deepcopy(default_template))
    assert not result.any
    assert changes.text(result, "a", "b").endswith("No changes.\n")


@pytest.mark.parametrize("reference", [{"Fn::Sub": "${A}-x"}, {"Fn::Sub": ["${Z}", {"Z": {"Ref": "A"}}]},
                                       {"Fn::GetAtt": "A.Arn"}, {"Fn::If": ["C", {"Ref": "A"}, "x"]}])
def test_references_are_found_in_every_intrinsic_form(reference):
    found = changes.references(reference)
    assert "A" in found.refs | {name for name, _ in found.attributes}


def test_the_az_choice_is_trusted_to_keep_its_zones_and_nothing_else_is(render):
    # The AZ choice's handler keeps each remaining position's zone or fails the update first
    # (generator/runs_in_aws/availability_zones.py), so 3 -> 2 AZs moves no subnet; told to trust
    # no custom resource, the same diff can only say the subnets may be replaced.
    from generator import StackConfig

    old, new = render(StackConfig()), render(StackConfig(az_count=2))
    trusted = changes.compare(old, new)
    untrusted = changes.compare(old, new, stable=frozenset())
    replaced = {c.logical_id: c.replacement for c in trusted.changed if c.replacement != "no"}
    # The choice itself answers a new physical id (the zones it chose), a replacement to
    # CloudFormation; its attributes at the remaining positions stay.
    assert replaced == {"VpcLink": "yes", "ZoneChoice": "yes"}
    assert any("physical id" in reason for reason in by_id(trusted)["ZoneChoice"].reasons)
    assert {c.logical_id: c.replacement for c in untrusted.changed}["PrivateSubnet1"] == "maybe"
    assert changes.KEEPS_ITS_ANSWERS.keys() == {old["Resources"]["ZoneChoice"]["Type"]}


# --- the 3.0.0 release -----------------------------------------------------------------------------

# `git show d7ba562:templates/ecsapi-v3.0.0.json`: the template of the 3.0.0 release as committed.
RELEASE_3_0_0 = FIXTURES / "ecsapi-v3.0.0-release.json"
RELEASE_3_0_0_SHA256 = "a46339e2047ce623ad5fbbe936db3ae32b798f8aa79f754e90ce0d6e189746c8"


def test_the_3_0_0_fixture_is_the_committed_release_template():
    assert hashlib.sha256(RELEASE_3_0_0.read_bytes()).hexdigest() == RELEASE_3_0_0_SHA256


def test_upgrading_a_3_0_0_stack_moves_its_services_to_a_strategy_once_by_replacing_them(default_template):
    """3.0.0 ran services at 0 % Spot with LaunchType FARGATE; now every service has a strategy.
    Dropping LaunchType is a certain replacement (CERTAIN_CONDITIONAL): the diff says so, once."""
    result = changes.compare(json.loads(RELEASE_3_0_0.read_text()), default_template)
    changed = by_id(result)
    assert ("ClusterCapacityProviders", "AWS::ECS::ClusterCapacityProviderAssociations") in result.added
    for service in ("FoodstoreService", "PetstoreService"):
        assert changed[service].replacement == "yes"
        assert any("LaunchType" in reason and "UpdateService" in reason for reason in changed[service].reasons)
    # The scalable targets follow the services (ResourceId names the service); their fixed-name
    # policies are unique within a target, which is replaced too: no fixed-name failure.
    assert changed["FoodstoreScalableTarget"].replacement == "yes"
    assert changed["FoodstoreScalingPolicy"].replacement == "yes"
    assert not [w for w in result.warnings if w.kind in ("fixed-name", "cidr-conflict")]
    assert [w for w in result.warnings if w.kind in ("data-replaced", "data-removed")] == []
    assert result.refusals == ()
    # Once moved, a Spot share change is weights only (tests/tooling/test_update_pairs.py).


# --- verdicts against rendered pairs (issue 26) ------------------------------------------------------


def test_a_changed_vpc_cidr_is_refused_naming_the_nat_address_and_the_internet_gateway(render):
    result = changes.compare(render(StackConfig()), render(StackConfig(vpc_cidr="10.1.0.0/16")))
    assert result.refusals
    vpc = next(reason for reason in result.refusals if reason.startswith("the VPC"))
    assert "Elastic IP" in vpc and "internet gateway" in vpc
    assert any("PrivateSubnet1" in reason and "InvalidSubnet.Conflict" in reason for reason in result.refusals)
    assert "REFUSED" in changes.text(result, "a", "b")
    assert json.loads(changes.as_json(result, "a", "b"))["refusals"] == list(result.refusals)


def test_a_changed_subnet_prefix_length_is_refused(render):
    result = changes.compare(render(StackConfig()), render(StackConfig(subnet_prefix_length=22)))
    assert result.refusals and all(reason.startswith("subnet ") for reason in result.refusals[:-1])


def test_fixed_names_unique_within_a_replaced_scope_are_not_failures(render):
    """A new VPC: the namespace (name unique per VPC) and its Cloud Map services (per namespace)
    are replaced with their names, legitimately (scaling policies: the 3.0.0 upgrade test)."""
    result = changes.compare(render(StackConfig()), render(StackConfig(vpc_cidr="10.1.0.0/16")))
    replaced = set(result.replaced())
    assert {"Namespace", "FoodstoreDiscoveryService"} <= replaced
    assert not [w for w in result.warnings if w.kind == "fixed-name"]


def test_a_fixed_name_whose_scope_stays_is_still_a_failure():
    def discovery(failures: int) -> dict:
        return {"Resources": {
            "Namespace": {"Type": "AWS::ServiceDiscovery::PrivateDnsNamespace",
                          "Properties": {"Name": "ns.local", "Vpc": "vpc-1"}},
            "Service": {"Type": "AWS::ServiceDiscovery::Service", "Properties": {
                "Name": "food", "NamespaceId": {"Ref": "Namespace"},
                "HealthCheckCustomConfig": {"FailureThreshold": failures}}},
        }}

    # HealthCheckCustomConfig is create-only: the service is replaced in the namespace that stays.
    result = changes.compare(discovery(1), discovery(2))
    assert by_id(result)["Service"].replacement == "yes"
    assert ("fixed-name", "Service") in kinds(result, certain=True)
    # The same service in a namespace that is replaced too (a new VPC): no failure.
    moved = discovery(2)
    moved["Resources"]["Namespace"]["Properties"]["Vpc"] = "vpc-2"
    result = changes.compare(discovery(1), moved)
    assert set(result.replaced()) == {"Namespace", "Service"}
    assert not [w for w in result.warnings if w.kind == "fixed-name"]


def test_a_changed_table_key_is_a_certain_replacement(render):
    old = render(StackConfig())
    new = render(StackConfig(services=(
        dataclasses.replace(StackConfig().services[0], table_key="sku"), *StackConfig().services[1:])))
    result = changes.compare(old, new)
    assert by_id(result)["FoodstoreTable"].replacement == "yes"
    assert ("data-replaced", "FoodstoreTable") in kinds(result, certain=True)
    assert "~ FoodstoreTable (AWS::DynamoDB::Table): REPLACE" in changes.text(result, "a", "b")
    assert "!! table FoodstoreTable will be REPLACED" in changes.text(result, "a", "b")


def test_a_new_image_tag_and_a_new_az_count_are_replacements_of_their_custom_resources(render):
    old = render(StackConfig())
    new = copy.deepcopy(old)
    new["Resources"]["ImageBuild"]["Properties"]["ImageTag"] = "source-" + "0" * 64
    image = by_id(changes.compare(old, new))["ImageBuild"]
    assert image.replacement == "yes" and any("physical id" in reason for reason in image.reasons)
    zones = by_id(changes.compare(old, render(StackConfig(az_count=2))))["ZoneChoice"]
    assert zones.replacement == "yes"
    # A custom resource whose handler keeps its id is updated in place.
    role = copy.deepcopy(old)
    role["Resources"]["EcsServiceLinkedRole"]["Properties"]["SettleSeconds"] = 30
    assert by_id(changes.compare(old, role))["EcsServiceLinkedRole"].replacement == "no"
