"""Custom::ServiceLinkedRole: makes sure a service-linked role exists before the resources that
need it, so the first stack in an account that never used the service does not fail.

ECS creates its service-linked role (``AWSServiceRoleForECS``, trusted by ``ecs.amazonaws.com``:
"Using service-linked roles for Amazon ECS", Amazon ECS Developer Guide) itself on the first
``CreateCluster`` and assumes it at once; IAM changes take time to be visible everywhere ("Changes
that I make are not always immediately visible", IAM User Guide, Troubleshoot IAM), so that first
cluster often fails with "Unable to assume the service linked role. Please verify that the ECS
service linked role exists." and a retry works (aws-cloudformation/cloudformation-coverage-roadmap
issue 818). CloudFormation's own ``AWS::IAM::ServiceLinkedRole`` cannot help: it fails in every
account that already has the role. So this function looks for the role first (``iam:GetRole`` on
``RoleName``, the one name IAM gives the service's role) and only when IAM answers ``NoSuchEntity``
creates it (``ServiceName``), counts "already there" as success, and after creating it waits
``SettleSeconds`` before answering, so the cluster that depends on this resource is created once
the role can be used.

Looking first matters under an organisation's service control policy or a permissions boundary that
denies ``iam:CreateServiceLinkedRole``: IAM evaluates the deny before it checks whether the role
exists, so the create answers ``AccessDenied`` even after an administrator made the role ("Policy
evaluation logic", IAM User Guide: an explicit deny in an SCP or a boundary overrides any allow).

Create and Update do the same (idempotent: CloudFormation or Lambda may deliver an event twice).
Delete leaves the role: other clusters of the account may use it, and IAM refuses to delete a
service-linked role that its service still uses.

Answers: ``Created`` (``true`` when this request created the role, else ``false``).
"""

from __future__ import annotations

import logging
import time

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .custom_resource import Request, ResourceFailed, Result, run

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 3, "mode": "standard"})
# What IAM answers when the role is there already: InvalidInput "Service role name
# AWSServiceRoleForECS has been taken in this account, please try a different suffix." (as reported
# against CreateServiceLinkedRole, e.g. Rayraegah/terraform-aws-hasura issue 17).
TAKEN_CODE = "InvalidInput"
TAKEN_TEXT = "has been taken in this account"
# Other emulations (and a role created between two calls) answer EntityAlreadyExists.
ALREADY_EXISTS_CODE = "EntityAlreadyExists"
# GetRole's answer for a role that does not exist ("GetRole", IAM API Reference: Errors).
NO_SUCH_ENTITY_CODE = "NoSuchEntity"


def handler(event, context):
    run(event, context, ensure_role)


def ensure_role(request: Request) -> Result:
    service = str(request.properties.get("ServiceName") or "")
    if not service.endswith(".amazonaws.com"):
        raise ResourceFailed(f"ServiceName {service!r} is not a service principal such as ecs.amazonaws.com")
    role_name = str(request.properties.get("RoleName") or "")
    if not role_name.startswith("AWSServiceRoleFor"):
        raise ResourceFailed(f"RoleName {role_name!r} is not a service-linked role name such as AWSServiceRoleForECS")
    if request.request_type == "Delete":
        return Result(request.physical_id or service)
    settle = _seconds(request.properties.get("SettleSeconds", "0"))
    iam = boto3.client("iam", config=CLIENT_CONFIG)
    if _exists(iam, service, role_name):
        LOG.info("the service-linked role %s of %s exists already", role_name, service)
        return Result(service, {"Created": "false"})
    try:
        answer = iam.create_service_linked_role(
            AWSServiceName=service, Description="Created by an ecsapi stack before its first ECS cluster"
        )
    except ClientError as error:
        code, message = _error(error)
        if code == ALREADY_EXISTS_CODE or (code == TAKEN_CODE and TAKEN_TEXT in message):
            LOG.info("the service-linked role of %s exists already", service)
            return Result(service, {"Created": "false"})
        raise ResourceFailed(
            f"could not create the service-linked role of {service} ({code}: {message}). Ask an administrator "
            f"to create it once for the account (aws iam create-service-linked-role --aws-service-name {service}), "
            f"then create the stack again: the stack finds it with iam:GetRole"
        ) from None
    except BotoCoreError as error:
        raise ResourceFailed(f"could not create the service-linked role of {service}: {error}") from None
    name = answer["Role"]["RoleName"]
    # Leave the function's own margin: the answer must still reach CloudFormation in time.
    wait = max(0.0, min(settle, request.seconds_left() - 1))
    LOG.info("created %s; waiting %.0f s for IAM to make it usable", name, wait)
    time.sleep(wait)
    return Result(service, {"Created": "true"})


def _exists(iam, service: str, role_name: str) -> bool:
    """Whether ``role_name`` exists as ``service``'s service-linked role; False only on
    ``NoSuchEntity``. Any other refusal is logged and left to the create, whose error is the one
    an administrator can act on."""
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except ClientError as error:
        code, message = _error(error)
        if code != NO_SUCH_ENTITY_CODE:
            LOG.warning("could not look for %s (%s: %s); trying to create it", role_name, code, message)
        return False
    except BotoCoreError as error:
        LOG.warning("could not look for %s (%s); trying to create it", role_name, error)
        return False
    path = role.get("Path", "")
    if path != f"/aws-service-role/{service}/":
        raise ResourceFailed(
            f"the role {role_name} exists but is not {service}'s service-linked role (its path is {path!r}); "
            "rename or delete that role, then create the stack again"
        )
    return True


def _error(error: ClientError) -> tuple[str, str]:
    detail = error.response.get("Error", {})
    return detail.get("Code", ""), detail.get("Message", "")


def _seconds(value) -> float:
    try:
        seconds = float(str(value))
    except ValueError:
        raise ResourceFailed(f"SettleSeconds {value!r} is not a number") from None
    if seconds < 0:
        raise ResourceFailed(f"SettleSeconds {seconds} must not be negative")
    return seconds

