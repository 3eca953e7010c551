"""ECS's service-linked role before the cluster: the custom resource's function
(generator/runs_in_aws/service_linked_role.py) with real boto3 calls over HTTP to moto's IAM in
server mode and a local HTTP server as CloudFormation's response URL, and its wiring in the
template (generator/template/service_roles.py)."""

from __future__ import annotations

import time

import boto3
import pytest

from generator import StackConfig
from generator.runs_in_aws import service_linked_role as roles
from generator.template.functions import inline_code
from generator.template.service_roles import ECS_ROLE_NAME, ECS_SERVICE, SETTLE_SECONDS
from tests.support.cloudformation import Context, ResponseServer
from tests.support.moto import moto_for_boto3
from tests.support.templates import VARIANTS, resources


@pytest.fixture
def moto(monkeypatch):
    with moto_for_boto3(monkeypatch) as url:
        yield url


@pytest.fixture
def cloudformation():
    server = ResponseServer()
    yield server
    server.close()


def event(url: str, request_type: str = "Create", service: str = ECS_SERVICE, settle: str = "0", **extra) -> dict:
    return {
        "RequestType": request_type, "ResponseURL": url, "RequestId": f"req-{request_type}-{time.time_ns()}",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "LogicalResourceId": "EcsServiceLinkedRole",
        "ResourceType": "Custom::ServiceLinkedRole",
        # CloudFormation passes every property as a string.
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", "ServiceName": service, "SettleSeconds": settle},
        **extra,
    }


def answer(cloudformation, sent: dict) -> dict:
    roles.handler(sent, Context(30))
    return cloudformation.responses[-1]["body"]


def ecs_roles() -> list[dict]:
    listed = boto3.client("iam").list_roles(PathPrefix=f"/aws-service-role/{ECS_SERVICE}/")["Roles"]
    return listed


@pytest.mark.integration
def test_create_makes_the_role_when_the_account_has_none(moto, cloudformation):
    assert ecs_roles() == []
    body = answer(cloudformation, event(cloudformation.url))
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"] == {"Created": "true"}
    assert body["PhysicalResourceId"] == ECS_SERVICE
    [role] = ecs_roles()
    assert role["Path"] == f"/aws-service-role/{ECS_SERVICE}/"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": [ECS_SERVICE]}


@pytest.mark.integration
def test_a_role_already_there_is_success_and_a_duplicate_event_changes_nothing(moto, cloudformation):
    boto3.client("iam").create_service_linked_role(AWSServiceName=ECS_SERVICE)
    for request_type in ("Create", "Create", "Update"):  # Lambda may deliver an event twice
        body = answer(cloudformation, event(cloudformation.url, request_type, PhysicalResourceId=ECS_SERVICE))
        assert body["Status"] == "SUCCESS", body["Reason"]
        assert body["Data"] == {"Created": "false"}
    assert len(ecs_roles()) == 1


@pytest.mark.integration
def test_a_created_role_is_given_time_to_become_usable_before_the_answer(moto, cloudformation):
    started = time.monotonic()
    body = answer(cloudformation, event(cloudformation.url, settle="2"))
    assert body["Status"] == "SUCCESS" and time.monotonic() - started >= 2
    # Once it exists nothing waits.
    started = time.monotonic()
    assert answer(cloudformation, event(cloudformation.url, settle="2"))["Status"] == "SUCCESS"
    assert time.monotonic() - started < 2


@pytest.mark.integration
def test_delete_leaves_the_role_which_other_clusters_may_use(moto, cloudformation):
    boto3.client("iam").create_service_linked_role(AWSServiceName=ECS_SERVICE)
    body = answer(cloudformation, event(cloudformation.url, "Delete", PhysicalResourceId=ECS_SERVICE))
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", ECS_SERVICE)
    assert len(ecs_roles()) == 1


@pytest.mark.integration  # a loopback server stands in for the response URL
def test_a_refused_create_fails_saying_how_an_administrator_makes_the_role(cloudformation, monkeypatch):
    from botocore.exceptions import ClientError

    class Refusing:
        def create_service_linked_role(self, **_):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied by an SCP"}}, "CreateServiceLinkedRole")

    monkeypatch.setattr(roles.boto3, "client", lambda *a, **k: Refusing())
    body = answer(cloudformation, event(cloudformation.url))
    assert body["Status"] == "FAILED"
    assert "AccessDenied: denied by an SCP" in body["Reason"]
    assert f"aws iam create-service-linked-role --aws-service-name {ECS_SERVICE}" in body["Reason"]


@pytest.mark.integration  # a loopback server stands in for the response URL
def test_iams_taken_answer_counts_as_the_role_being_there(cloudformation, monkeypatch):
    from botocore.exceptions import ClientError

    class Taken:
        def create_service_linked_role(self, **_):
            raise ClientError({"Error": {"Code": "InvalidInput", "Message": (
                "Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix."
            )}}, "CreateServiceLinkedRole")

    monkeypatch.setattr(roles.boto3, "client", lambda *a, **k: Taken())
    body = answer(cloudformation, event(cloudformation.url))
    assert (body["Status"], body["Data"]) == ("SUCCESS", {"Created": "false"})


def test_the_inline_function_is_one_file_that_compiles():
    code = inline_code("service_linked_role")
    compile(code, "index.py", "exec")
    assert "def handler(event, context)" in code and "def ensure_role" in code


# --- the template ------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_cluster_waits_for_the_ecs_service_linked_role(render, variant):
    template = render(VARIANTS[variant])
    [(name, role)] = resources(template, "Custom::ServiceLinkedRole").items()
    assert role["Properties"]["ServiceName"] == ECS_SERVICE
    assert role["Properties"]["SettleSeconds"] == SETTLE_SECONDS
    assert role["Properties"]["ServiceToken"] == {"Fn::GetAtt": [f"{name}Function", "Arn"]}
    assert name in template["Resources"]["Cluster"]["DependsOn"]


def test_the_function_may_create_only_the_ecs_service_linked_role(render):
    template = render(StackConfig())
    statements = template["Resources"]["EcsServiceLinkedRoleFunctionRole"]["Properties"]["Policies"][0][
        "PolicyDocument"]["Statement"]
    [create] = [s for s in statements if s["Action"] == ["iam:CreateServiceLinkedRole"]]
    assert create["Resource"] == [{"Fn::Sub": (
        f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/aws-service-role/{ECS_SERVICE}/{ECS_ROLE_NAME}"
    )}]
    assert create["Condition"] == {"StringLike": {"iam:AWSServiceName": ECS_SERVICE}}
