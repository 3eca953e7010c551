"""ECS's service-linked role before the cluster: the custom resource's function
(generator/runs_in_aws/service_linked_role.py) with real boto3 calls over HTTP to moto's IAM in
server mode and a local HTTP server as CloudFormation's response URL, and its wiring in the
template (generator/template/service_roles.py)."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request

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
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", "ServiceName": service,
                               "RoleName": ECS_ROLE_NAME, "SettleSeconds": settle},
        **extra,
    }


def answer(cloudformation, sent: dict) -> dict:
    roles.handler(sent, Context(30))
    return cloudformation.responses[-1]["body"]


def administrator_creates_the_role() -> None:
    """The role as IAM names it (AWSServiceRoleForECS under /aws-service-role/ecs.amazonaws.com/,
    "Using service-linked roles for Amazon ECS"); moto's CreateServiceLinkedRole names it
    AWSServiceRoleForecs, so the administrator's role is made with CreateRole."""
    boto3.client("iam").create_role(
        RoleName=ECS_ROLE_NAME, Path=f"/aws-service-role/{ECS_SERVICE}/",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": [ECS_SERVICE]}, "Action": "sts:AssumeRole"}]}),
    )


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
    administrator_creates_the_role()
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


# What an organisation's SCP or a permissions boundary does to the function: creating the role is
# denied outright, looking it up is allowed (the template's own policy grants exactly that lookup on
# the role's ARN, tested below; moto authorizes IAM actions against resource "*" only, so "*" here).
CREATE_DENIED = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:CreateServiceLinkedRole", "Resource": "*"},
    ],
}


@contextlib.contextmanager
def create_denied(moto: str, monkeypatch):
    """The function's calls go to moto as a user under :data:`CREATE_DENIED`, with moto enforcing
    IAM policies (its ``/moto-api/reset-auth``); enforcement is off again afterwards."""
    iam = boto3.client("iam")
    iam.create_user(UserName="function")
    iam.put_user_policy(UserName="function", PolicyName="scp", PolicyDocument=json.dumps(CREATE_DENIED))
    key = iam.create_access_key(UserName="function")["AccessKey"]

    def enforce(after: str) -> None:
        urllib.request.urlopen(urllib.request.Request(
            # A form content type would make the server parse the body away: moto reads it raw.
            f"{moto}/moto-api/reset-auth", data=after.encode(), method="POST",
            headers={"Content-Type": "text/plain"}), timeout=10).close()

    enforce("0")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    # boto3's default session keeps the credentials it resolved first.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    try:
        yield
    finally:
        enforce("inf")


@pytest.mark.integration
def test_a_role_an_administrator_made_is_found_where_creating_it_is_denied(moto, cloudformation, monkeypatch):
    administrator_creates_the_role()
    with create_denied(moto, monkeypatch):
        for request_type in ("Create", "Update"):
            body = answer(cloudformation, event(cloudformation.url, request_type, PhysicalResourceId=ECS_SERVICE))
            assert (body["Status"], body["Data"]) == ("SUCCESS", {"Created": "false"}), body["Reason"]


@pytest.mark.integration
def test_a_denied_create_of_a_missing_role_fails_saying_how_an_administrator_makes_it(moto, cloudformation, monkeypatch):
    with create_denied(moto, monkeypatch):
        body = answer(cloudformation, event(cloudformation.url))
    assert body["Status"] == "FAILED"
    assert "AccessDenied" in body["Reason"]
    assert f"aws iam create-service-linked-role --aws-service-name {ECS_SERVICE}" in body["Reason"]


@pytest.mark.integration
def test_a_role_of_that_name_outside_the_service_path_is_refused(moto, cloudformation):
    boto3.client("iam").create_role(RoleName=ECS_ROLE_NAME, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ECS_SERVICE},
                                                "Action": "sts:AssumeRole"}]}))
    body = answer(cloudformation, event(cloudformation.url))
    assert body["Status"] == "FAILED"
    assert "'/'" in body["Reason"] and ECS_ROLE_NAME in body["Reason"]


@pytest.mark.integration  # a loopback server stands in for the response URL
def test_iams_taken_answer_counts_as_the_role_being_there(cloudformation, monkeypatch):
    from botocore.exceptions import ClientError

    class Taken:
        def get_role(self, **_):
            raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not found"}}, "GetRole")

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
    assert role["Properties"]["RoleName"] == ECS_ROLE_NAME
    assert role["Properties"]["SettleSeconds"] == SETTLE_SECONDS
    assert role["Properties"]["ServiceToken"] == {"Fn::GetAtt": [f"{name}Function", "Arn"]}
    assert name in template["Resources"]["Cluster"]["DependsOn"]


def test_the_function_may_look_up_and_create_only_the_ecs_service_linked_role(render):
    template = render(StackConfig())
    statements = template["Resources"]["EcsServiceLinkedRoleFunctionRole"]["Properties"]["Policies"][0][
        "PolicyDocument"]["Statement"]
    arn = [{"Fn::Sub": (
        f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/aws-service-role/{ECS_SERVICE}/{ECS_ROLE_NAME}"
    )}]
    [look] = [s for s in statements if s["Action"] == ["iam:GetRole"]]
    assert look["Resource"] == arn
    [create] = [s for s in statements if s["Action"] == ["iam:CreateServiceLinkedRole"]]
    assert create["Resource"] == arn
    assert create["Condition"] == {"StringLike": {"iam:AWSServiceName": ECS_SERVICE}}
