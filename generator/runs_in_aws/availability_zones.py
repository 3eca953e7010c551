"""Custom::AvailabilityZones: the AZs the stack's subnets go in, chosen at deploy time by zone ID.

HTTP API VPC links and Fargate run only in some AZs of a region, and AWS documents which by zone
ID (``use1-az1``): an AZ *name* (``us-east-1a``) maps to a different zone ID in each account. A
subnet in an AZ without VPC link support fails the stack when the VPC link is created, minutes in;
a subnet where Fargate cannot run leaves tasks unplaced. So the function asks EC2 for this
account's AZs (``DescribeAvailabilityZones``: name, zone ID, state) and answers with the names of
the first ``Count`` available AZs whose zone IDs support both, in the order of their names.

The supported zone IDs are here and nowhere else (the template renders this file into the
function; see :data:`VPC_LINK_ZONE_IDS` and :data:`FARGATE_ZONE_IDS` for their sources).

``Zones`` pins the AZs instead (AZ names or zone IDs, comma separated): exactly ``Count``
distinct AZs of the region, none that AWS documents as unsupported. Pinning is also the way to
deploy in a region the VPC link list does not name (automatic choice refuses it, saying so).

An Update keeps the AZs already in use, in their places: subnets follow the answer by position,
and an AZ index that got another AZ would replace its subnets (a subnet's ``AvailabilityZone`` and
``CidrBlock`` are create-only, "AWS::EC2::Subnet" resource schema) and the VPC link (its
``SubnetIds`` are create-only, "AWS::ApiGatewayV2::VpcLink" resource schema); the replacement
subnet would take the block its predecessor still holds, and EC2 refuses that. So an Update that
would move an AZ in use (another ``Zones`` value, or an AZ that no longer qualifies) fails here,
the stack's first resource, before anything is replaced, saying what to do instead. Adding AZs
(a larger ``Count``) or removing the last ones (a smaller one) moves none. Delete has nothing to undo.

Answers: ``Zone1`` .. ``Zone<Count>`` (AZ names), ``ZoneIds`` (comma separated, for the record).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import boto3
from botocore.config import Config

from .custom_resource import Request, ResourceFailed, Result, run

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 5, "mode": "standard"})

# "Set up VPC links V2 in API Gateway", Availability by Region (Amazon API Gateway Developer Guide;
# VPC links for HTTP APIs): the Regions and the zone IDs where VPC links are supported. A Region
# missing here has no documented support.
VPC_LINK_ZONE_IDS: dict[str, frozenset[str]] = {
    region: frozenset(ids.split())
    for region, ids in {
        "us-east-2": "use2-az1 use2-az2 use2-az3",
        "us-east-1": "use1-az1 use1-az2 use1-az4 use1-az5 use1-az6",
        "us-west-1": "usw1-az1 usw1-az3",
        "us-west-2": "usw2-az1 usw2-az2 usw2-az3 usw2-az4",
        "ap-east-1": "ape1-az2 ape1-az3",
        "ap-south-1": "aps1-az1 aps1-az2 aps1-az3",
        "ap-northeast-2": "apne2-az1 apne2-az2 apne2-az3",
        "ap-southeast-1": "apse1-az1 apse1-az2 apse1-az3",
        "ap-southeast-2": "apse2-az1 apse2-az2 apse2-az3",
        "ap-northeast-1": "apne1-az1 apne1-az2 apne1-az4",
        "ca-central-1": "cac1-az1 cac1-az2",
        "eu-central-1": "euc1-az1 euc1-az2 euc1-az3",
        "eu-west-1": "euw1-az1 euw1-az2 euw1-az3",
        "eu-west-2": "euw2-az1 euw2-az2 euw2-az3",
        "eu-west-3": "euw3-az1 euw3-az3",
        "eu-south-2": "eus2-az1 eus2-az2 eus2-az3",
        "eu-north-1": "eun1-az1 eun1-az2 eun1-az3",
        "me-south-1": "mes1-az1 mes1-az2 mes1-az3",
        "sa-east-1": "sae1-az1 sae1-az2 sae1-az3",
        "us-gov-west-1": "usgw1-az1 usgw1-az2 usgw1-az3",
    }.items()
}
# "Supported Regions for Amazon ECS on AWS Fargate", Linux containers (Amazon ECS Developer Guide):
# the Regions where Fargate runs only in some AZs, with those zone IDs. Every other Region of the
# VPC link list supports Fargate in all its AZs.
FARGATE_ZONE_IDS: dict[str, frozenset[str]] = {
    "us-west-1": frozenset({"usw1-az1", "usw1-az3"}),
    "ap-northeast-1": frozenset({"apne1-az1", "apne1-az2", "apne1-az4"}),
    "cn-north-1": frozenset({"cnn1-az1", "cnn1-az2"}),
}
WHAT = "HTTP API VPC links and Fargate"


def supported_zone_ids(region: str) -> frozenset[str] | None:
    """The zone IDs of ``region`` where both VPC links and Fargate are documented; None when the
    VPC link list does not name the region."""
    vpc_link = VPC_LINK_ZONE_IDS.get(region)
    if vpc_link is None:
        return None
    fargate = FARGATE_ZONE_IDS.get(region)
    return vpc_link if fargate is None else vpc_link & fargate


@dataclass(frozen=True)
class Zone:
    name: str
    zone_id: str

    def __str__(self) -> str:
        return f"{self.name} ({self.zone_id})"


def handler(event, context):
    run(event, context, choose_zones)


def choose_zones(request: Request) -> Result:
    if request.request_type == "Delete":
        return Result(request.physical_id or request.logical_id)
    count = _count(request.properties.get("Count"))
    pinned = [part.strip() for part in str(request.properties.get("Zones") or "").split(",") if part.strip()]
    ec2 = boto3.client("ec2", config=CLIENT_CONFIG)
    region = ec2.meta.region_name
    zones = available_zones(ec2)
    previous = (request.physical_id or "").split(",") if request.request_type == "Update" else []
    chosen = (pin(zones, pinned, count, region) if pinned else pick(zones, count, region, previous))
    refuse_moves(previous, chosen, zones)
    LOG.info("chose %s", ", ".join(map(str, chosen)))
    data = {f"Zone{index}": zone.name for index, zone in enumerate(chosen, start=1)}
    data["ZoneIds"] = ",".join(zone.zone_id for zone in chosen)
    return Result(",".join(zone.name for zone in chosen), data)


def _count(value) -> int:
    try:
        count = int(str(value))
    except ValueError:
        raise ResourceFailed(f"Count {value!r} is not a whole number") from None
    if count < 1:
        raise ResourceFailed(f"Count {count} must be at least 1")
    return count


def available_zones(ec2) -> list[Zone]:
    """The region's Availability Zones (not Local or Wavelength Zones) that are available, by name."""
    found = ec2.describe_availability_zones(Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}])
    return sorted(
        (Zone(z["ZoneName"], z["ZoneId"]) for z in found["AvailabilityZones"] if z.get("State") == "available"),
        key=lambda zone: zone.name,
    )


def pick(zones: list[Zone], count: int, region: str, previous: list[str]) -> list[Zone]:
    """The first ``count`` supported zones, those in ``previous`` first and in their order."""
    supported = supported_zone_ids(region)
    if supported is None:
        raise ResourceFailed(
            f"{region} is not among the Regions where AWS documents {WHAT} Availability Zones, so none "
            f"can be chosen automatically; pin {count} AZs of {region} with the AvailabilityZones parameter "
            f"(names or zone IDs, comma separated) if you know they support both, or deploy in another Region"
        )
    candidates = [zone for zone in zones if zone.zone_id in supported]
    kept = [zone for name in previous for zone in candidates if zone.name == name]
    ordered = kept + [zone for zone in candidates if zone not in kept]
    if len(ordered) < count:
        have = ", ".join(map(str, ordered)) or "none"
        raise ResourceFailed(
            f"the stack needs {count} Availability Zones that support {WHAT}, but {region} has "
            f"{len(ordered)} in this account: {have}. Render the template with az_count = {max(len(ordered), 2)}"
            f"{' (the fewest ecsapi allows)' if len(ordered) < 2 else ''}, or deploy in another Region"
        )
    return ordered[:count]


def pin(zones: list[Zone], pinned: list[str], count: int, region: str) -> list[Zone]:
    """The pinned zones, each given by name or zone ID, checked."""
    if len(pinned) != count:
        raise ResourceFailed(
            f"AvailabilityZones names {len(pinned)} AZs ({', '.join(pinned)}) but the stack needs exactly {count}"
        )
    by_key = {key: zone for zone in zones for key in (zone.name, zone.zone_id)}
    unknown = [entry for entry in pinned if entry not in by_key]
    if unknown:
        raise ResourceFailed(
            f"AvailabilityZones: {', '.join(unknown)} is not an available AZ of {region}; "
            f"the available ones are {', '.join(map(str, zones))}"
        )
    chosen = [by_key[entry] for entry in pinned]
    if len(set(chosen)) != len(chosen):
        raise ResourceFailed(f"AvailabilityZones names an AZ twice: {', '.join(pinned)}")
    supported = supported_zone_ids(region)
    unsupported = [zone for zone in chosen if supported is not None and zone.zone_id not in supported]
    if unsupported:
        raise ResourceFailed(
            f"AvailabilityZones: {', '.join(map(str, unsupported))} is not among the AZs where AWS documents "
            f"{WHAT} (in {region}: {', '.join(sorted(supported))})"
        )
    return chosen


def refuse_moves(previous: list[str], chosen: list[Zone], zones: list[Zone]) -> None:
    """Fail when an AZ index that has subnets (one of ``previous``, by position) would get another AZ."""
    known = {zone.name: zone for zone in zones}
    moved = [
        f"AZ {number} from {known.get(old, old)} to {new}"
        for number, (old, new) in enumerate(zip(previous, chosen, strict=False), start=1)  # added or removed AZs move none
        if old != new.name
    ]
    if moved:
        raise ResourceFailed(
            f"this update would move the subnets of {'; '.join(moved)}. A subnet cannot move: CloudFormation "
            f"would replace it (and the VPC link), and the replacement's address block is the one the old "
            f"subnet still holds. Nothing was changed. To keep the AZs in use, set the AvailabilityZones "
            f"parameter to {','.join(previous)} (or leave it empty); to use other AZs, remove the last AZs "
            f"with a smaller az_count first and add them back pinned, or deploy a new stack "
            f"(README: Changing Availability Zones)"
        )
