"""The Availability Zones of the stack's subnets, chosen at deploy time by zone ID.

A Lambda-backed custom resource (``generator/runs_in_aws/availability_zones.py``, which also holds the
zone IDs AWS documents for HTTP API VPC links and Fargate) answers with ``config.az_count`` AZ
names of the deploying account that support both, or with the AZs the ``AvailabilityZones``
parameter pins (its default: ``config.availability_zones``). The subnets read ``Zone1``,
``Zone2`` ... from it; a region with too few such AZs fails the stack at this first step, saying
how many it has, before anything else is built.
"""

from __future__ import annotations

from troposphere import AWSObject, GetAtt, Parameter, Ref, Template, kms
from troposphere.validators import integer

from generator.model.config import StackConfig
from generator.model.records import dataclass
from generator.template import iam as policies
from generator.template.functions import add_function
from generator.template.parameters import ParameterInterface

NAME = "ZoneChoice"
PARAMETER = "AvailabilityZones"
# One DescribeAvailabilityZones call; a minute covers its retries. CloudFormation gives up on the
# resource a minute after the function's own limit (ServiceTimeout, 1 to 3600 seconds).
FUNCTION_TIMEOUT_SECONDS = 60
SERVICE_TIMEOUT_SECONDS = FUNCTION_TIMEOUT_SECONDS + 60
# AZ names (us-east-1a) or zone IDs (use1-az1), comma separated, or empty.
ZONES_PATTERN = r"^$|^[a-z0-9-]+(,[a-z0-9-]+)*$"


class AvailabilityZonesResource(AWSObject):
    """``Custom::AvailabilityZones``: ``Fn::GetAtt`` reads ``Zone1`` .. ``Zone<Count>`` and ``ZoneIds``."""

    resource_type = "Custom::AvailabilityZones"
    props = {
        "ServiceToken": (str, True),
        "ServiceTimeout": (integer, False),
        "Count": (integer, True),
        "Zones": (str, True),
    }


@dataclass(frozen=True)
class Zones:
    """The chosen AZs, for the subnets."""

    choice: AvailabilityZonesResource

    def name(self, index: int) -> GetAtt:
        """The name of the ``index``-th AZ (from 0), as the deploying account calls it."""
        return GetAtt(self.choice, f"Zone{index + 1}")


def add_zones(template: Template, interface: ParameterInterface, config: StackConfig, key: kms.Key | None) -> Zones:
    """The ``AvailabilityZones`` parameter, the function and the custom resource that choose the AZs."""
    parameter = interface.add(
        template, "Network", "Availability Zones (optional)",
        Parameter(
            PARAMETER, Type="String", Default=",".join(config.availability_zones or ()),
            AllowedPattern=ZONES_PATTERN,
            ConstraintDescription="AZ names or zone IDs separated by commas (us-east-1a,use1-az4), or nothing",
            Description=(
                f"Empty: the stack chooses {config.az_count} AZs that support HTTP API VPC links and Fargate. "
                f"Or exactly {config.az_count} AZ names or zone IDs, comma separated, to pin them."
            ),
        ),
    )
    function = add_function(
        template, config, key, NAME, "availability_zones", [policies.describe_availability_zones()],
        timeout_seconds=FUNCTION_TIMEOUT_SECONDS, memory_mb=128,
    )
    choice = template.add_resource(
        AvailabilityZonesResource(
            NAME,
            ServiceToken=GetAtt(function.function, "Arn"),
            ServiceTimeout=SERVICE_TIMEOUT_SECONDS,
            Count=config.az_count,
            Zones=Ref(parameter),
            DependsOn=function.ready,
        )
    )
    return Zones(choice=choice)
