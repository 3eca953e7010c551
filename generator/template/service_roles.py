"""The ECS service-linked role, made sure of before the cluster (generator/runs_in_aws/service_linked_role.py).

In an account that never used ECS, ``CreateCluster`` creates ``AWSServiceRoleForECS`` and assumes
it at once, and often fails because IAM has not made the new role usable yet; the custom
resource here creates the role first (or finds it there) and waits, and the cluster depends on it.
"""

from __future__ import annotations

from troposphere import AWSObject, GetAtt, Template, kms
from troposphere.validators import integer

from generator.model.config import StackConfig
from generator.model.records import dataclass
from generator.template import iam as policies
from generator.template.functions import add_function

NAME = "EcsServiceLinkedRole"
# The service principal and role name "Using service-linked roles for Amazon ECS" (Amazon ECS
# Developer Guide) gives.
ECS_SERVICE = "ecs.amazonaws.com"
ECS_ROLE_NAME = "AWSServiceRoleForECS"
# IAM documents no bound on how long a new role takes to be usable everywhere (it is "eventually
# consistent"); the failures reported happen within the seconds after creation, so this margin is
# ours. Paid only once per account: when the role exists already, nothing waits.
SETTLE_SECONDS = 20
# One GetRole and one CreateServiceLinkedRole call (with its retries) and the wait fit well within this.
FUNCTION_TIMEOUT_SECONDS = 60
SERVICE_TIMEOUT_SECONDS = FUNCTION_TIMEOUT_SECONDS + 60


class ServiceLinkedRoleResource(AWSObject):
    """``Custom::ServiceLinkedRole``: the service-linked role of ``ServiceName`` exists."""

    resource_type = "Custom::ServiceLinkedRole"
    props = {
        "ServiceToken": (str, True),
        "ServiceTimeout": (integer, False),
        "ServiceName": (str, True),
        "RoleName": (str, True),
        "SettleSeconds": (integer, False),
    }


@dataclass(frozen=True)
class ServiceRoles:
    """The service-linked roles the stack makes sure exist."""

    ecs: ServiceLinkedRoleResource
    """The cluster depends on it."""


def add_service_roles(template: Template, config: StackConfig, key: kms.Key | None) -> ServiceRoles:
    """The function and the custom resource that make sure ECS's service-linked role exists."""
    function = add_function(
        template, config, key, NAME, "service_linked_role",
        [policies.read_service_linked_role(ECS_SERVICE, ECS_ROLE_NAME),
         policies.create_service_linked_role(ECS_SERVICE, ECS_ROLE_NAME)],
        timeout_seconds=FUNCTION_TIMEOUT_SECONDS, memory_mb=128,
    )
    ecs_role = template.add_resource(
        ServiceLinkedRoleResource(
            NAME,
            # Lambda's retries are off before the first event (generator/template/functions.py).
            DependsOn=function.ready,
            ServiceToken=GetAtt(function.function, "Arn"),
            ServiceTimeout=SERVICE_TIMEOUT_SECONDS,
            ServiceName=ECS_SERVICE,
            RoleName=ECS_ROLE_NAME,
            SettleSeconds=SETTLE_SECONDS,
        )
    )
    return ServiceRoles(ecs=ecs_role)
