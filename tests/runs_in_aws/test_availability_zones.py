"""The AZ choice: the custom resource's function (generator/runs_in_aws/availability_zones.py) with real
boto3 calls over HTTP to moto's EC2 in server mode and a local HTTP server as CloudFormation's
response URL, and its wiring in the template (generator/template/zones.py).

moto 5.2.5 maps AZ names to zone IDs per region as one real account does (us-east-1e is use1-az3,
us-west-1 has usw1-az3 and usw1-az1 only, ca-central-1 has cac1-az4): those are the cases here.
"""

from __future__ import annotations

import boto3
import pytest

from generator import ConfigError, StackConfig
from generator.runs_in_aws import availability_zones as zones
from generator.runs_in_aws.custom_resource import Request
from generator.template.functions import inline_code
from tests.support.cloudformation import Context, ResponseServer
from tests.support.moto import moto_for_boto3
from tests.support.templates import resources

pytestmark = pytest.mark.integration  # moto in server mode and a loopback stand-in for CloudFormation


@pytest.fixture
def moto(monkeypatch):
    with moto_for_boto3(monkeypatch):
        yield monkeypatch


@pytest.fixture
def cloudformation():
    server = ResponseServer()
    yield server
    server.close()


def in_region(moto, region: str) -> None:
    moto.setenv("AWS_DEFAULT_REGION", region)
    # moto builds a region's EC2 backend on its first request, seconds of CPU on a busy machine,
    # which EC2 itself never spends on a call: made here, under botocore's default 60 s read
    # timeout, so the handler's calls meet a warm backend within the timeouts it sizes from the
    # Lambda's remaining time (custom_resource.aws_config).
    boto3.client("ec2").describe_availability_zones()


def event(url: str, count: int, pinned: str = "", request_type: str = "Create", **extra) -> dict:
    return {
        "RequestType": request_type, "ResponseURL": url, "RequestId": f"req-{request_type}",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "LogicalResourceId": "ZoneChoice",
        "ResourceType": "Custom::AvailabilityZones",
        # CloudFormation passes every property as a string.
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", "Count": str(count), "Zones": pinned},
        **extra,
    }


def answer(cloudformation, url_event: dict) -> dict:
    zones.handler(url_event, Context(30))
    [response] = cloudformation.responses
    return response["body"]


def test_use1_az3_is_never_chosen_and_answers_are_names_by_position(moto, cloudformation):
    in_region(moto, "us-east-1")
    body = answer(cloudformation, event(cloudformation.url, 5))
    assert body["Status"] == "SUCCESS", body["Reason"]
    # us-east-1e is use1-az3 here: no VPC links there. The others in the order of their names.
    assert body["Data"] == {
        "Zone1": "us-east-1a", "Zone2": "us-east-1b", "Zone3": "us-east-1c", "Zone4": "us-east-1d",
        "Zone5": "us-east-1f", "ZoneIds": "use1-az6,use1-az1,use1-az2,use1-az4,use1-az5",
    }
    assert body["PhysicalResourceId"] == "us-east-1a,us-east-1b,us-east-1c,us-east-1d,us-east-1f"


def test_a_region_with_too_few_supported_azs_fails_saying_how_many_it_has(moto, cloudformation):
    in_region(moto, "us-west-1")
    body = answer(cloudformation, event(cloudformation.url, 3))
    assert body["Status"] == "FAILED"
    assert "needs 3 Availability Zones that support HTTP API VPC links and Fargate" in body["Reason"]
    assert "us-west-1 has 2 in this account: us-west-1a (usw1-az3), us-west-1b (usw1-az1)" in body["Reason"]
    assert "az_count = 2" in body["Reason"]


def test_an_az_without_vpc_links_is_left_out_even_where_fargate_runs(moto, cloudformation):
    in_region(moto, "ca-central-1")  # cac1-az4: Fargate yes, VPC links no
    body = answer(cloudformation, event(cloudformation.url, 3))
    assert body["Status"] == "FAILED"
    assert "ca-central-1 has 2 in this account: ca-central-1a (cac1-az1), ca-central-1b (cac1-az2)" in body["Reason"]
    assert answer_data(moto, "ca-central-1", 2) == ["ca-central-1a", "ca-central-1b"]


def answer_data(moto, region: str, count: int, pinned: str = "", physical_id: str | None = None) -> list[str]:
    """The chosen names, calling the handler function directly (no response URL)."""
    in_region(moto, region)
    request = Request(
        request_type="Update" if physical_id else "Create", properties={"Count": str(count), "Zones": pinned},
        old_properties={}, physical_id=physical_id, logical_id="ZoneChoice", deadline=float("inf"), log_location="",
    )
    result = zones.choose_zones(request)
    return [result.data[f"Zone{i}"] for i in range(1, count + 1)]


def test_pinned_azs_by_name_or_zone_id_are_used_in_the_order_given(moto):
    assert answer_data(moto, "us-east-1", 2, "us-east-1d, use1-az1") == ["us-east-1d", "us-east-1b"]


@pytest.mark.parametrize(
    ("pinned", "reason"),
    [
        ("us-east-1e,us-east-1a", "us-east-1e (use1-az3) is not among the AZs where AWS documents HTTP API VPC "
                                  "links and Fargate (in us-east-1: use1-az1, use1-az2, use1-az4, use1-az5, use1-az6)"),
        ("us-east-1a", "names 1 AZs (us-east-1a) but the stack needs exactly 2"),
        ("us-east-1a,us-east-1z", "us-east-1z is not an available AZ of us-east-1"),
        ("us-east-1b,use1-az1", "names an AZ twice"),
    ],
)
def test_pinned_azs_are_checked(moto, pinned, reason):
    with pytest.raises(zones.ResourceFailed, match=reason.replace("(", r"\(").replace(")", r"\)")):
        answer_data(moto, "us-east-1", 2, pinned)


def test_a_region_the_vpc_link_list_does_not_name_is_refused_unless_azs_are_pinned(moto):
    region = "eu-central-2"
    assert zones.supported_zone_ids(region) is None
    with pytest.raises(zones.ResourceFailed, match="pin 2 AZs of eu-central-2 with the AvailabilityZones parameter"):
        answer_data(moto, region, 2)
    assert answer_data(moto, region, 2, "eu-central-2a,eu-central-2b") == ["eu-central-2a", "eu-central-2b"]


def test_an_update_keeps_the_azs_in_use_in_their_places(moto):
    # Subnets follow the answer by position: a moved AZ would replace a subnet and what is in it.
    assert answer_data(moto, "us-east-1", 3, physical_id="us-east-1d,us-east-1b") == [
        "us-east-1d", "us-east-1b", "us-east-1a",
    ]
    # Fewer AZs: the last ones go, the others stay in their places.
    assert answer_data(moto, "us-east-1", 2, physical_id="us-east-1d,us-east-1b,us-east-1a") == [
        "us-east-1d", "us-east-1b",
    ]
    # Pinning the AZs already in use (by name or zone ID) changes nothing.
    assert answer_data(moto, "us-east-1", 2, "us-east-1d,use1-az1", physical_id="us-east-1d,us-east-1b") == [
        "us-east-1d", "us-east-1b",
    ]


@pytest.mark.parametrize(
    ("pinned", "physical_id", "moved"),
    [
        # Another AZ pinned for a position in use.
        ("us-east-1d,us-east-1c", "us-east-1d,us-east-1b", "AZ 2 from us-east-1b (use1-az1) to us-east-1c (use1-az2)"),
        # An AZ in use that no longer qualifies (us-east-1e is use1-az3): the next one would shift.
        ("", "us-east-1e,us-east-1c", "AZ 1 from us-east-1e (use1-az3) to us-east-1c (use1-az2); AZ 2 from "
                                      "us-east-1c (use1-az2) to us-east-1a (use1-az6)"),
    ],
)
def test_an_update_that_would_move_an_az_in_use_is_refused_before_anything_is_replaced(
    moto, cloudformation, pinned, physical_id, moved
):
    in_region(moto, "us-east-1")
    body = answer(cloudformation, event(cloudformation.url, 2, pinned, "Update", PhysicalResourceId=physical_id))
    assert body["Status"] == "FAILED"
    # The same id: CloudFormation sees no replacement of the choice itself, and rolls back.
    assert body["PhysicalResourceId"] == physical_id
    assert f"this update would move the subnets of {moved}." in body["Reason"]
    assert f"set the AvailabilityZones parameter to {physical_id}" in body["Reason"]
    assert "README: Changing Availability Zones" in body["Reason"]


def test_delete_succeeds_without_calling_aws(cloudformation, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: a call would fail
    body = answer(cloudformation, event(cloudformation.url, 3, request_type="Delete", PhysicalResourceId="a,b,c"))
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", "a,b,c")


def test_fargate_restrictions_narrow_the_vpc_link_list():
    assert zones.supported_zone_ids("us-east-1") == {"use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"}
    assert "use1-az3" not in zones.supported_zone_ids("us-east-1")
    assert zones.supported_zone_ids("ap-northeast-1") == {"apne1-az1", "apne1-az2", "apne1-az4"}
    for region, fargate in zones.FARGATE_ZONE_IDS.items():
        if region in zones.VPC_LINK_ZONE_IDS:
            assert zones.supported_zone_ids(region) <= fargate


def test_the_inline_function_is_one_file_that_compiles():
    code = inline_code("availability_zones")
    compile(code, "index.py", "exec")
    assert "def handler(event, context)" in code and "VPC_LINK_ZONE_IDS" in code


# --- the template ------------------------------------------------------------------------------

def test_subnets_take_their_azs_from_the_choice_by_position(default_template):
    for kind in ("Public", "Private"):
        for number in (1, 2, 3):
            subnet = default_template["Resources"][f"{kind}Subnet{number}"]["Properties"]
            assert subnet["AvailabilityZone"] == {"Fn::GetAtt": ["ZoneChoice", f"Zone{number}"]}
    assert "Fn::GetAZs" not in str(default_template["Resources"])


def test_the_choice_asks_for_az_count_azs_and_passes_the_pin_parameter(render):
    template = render(StackConfig(az_count=2, availability_zones=("use1-az1", "use1-az4")))
    choice = template["Resources"]["ZoneChoice"]
    assert choice["Type"] == "Custom::AvailabilityZones"
    assert choice["Properties"]["Count"] == 2
    assert choice["Properties"]["Zones"] == {"Ref": "AvailabilityZones"}
    assert choice["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["ZoneChoiceFunction", "Arn"]}
    assert template["Parameters"]["AvailabilityZones"]["Default"] == "use1-az1,use1-az4"
    function = template["Resources"]["ZoneChoiceFunction"]["Properties"]
    assert "availability_zones.py" in function["Code"]["ZipFile"]
    (statement,) = [
        s for s in template["Resources"]["ZoneChoiceFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        if s["Action"] != ["logs:CreateLogStream", "logs:PutLogEvents"]
    ]
    assert statement == {"Action": ["ec2:DescribeAvailabilityZones"], "Effect": "Allow", "Resource": ["*"]}


def test_by_default_nothing_is_pinned(default_template):
    assert default_template["Parameters"]["AvailabilityZones"]["Default"] == ""
    assert len(resources(default_template, "Custom::AvailabilityZones")) == 1


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"az_count": 2, "availability_zones": ("us-east-1a",)}, "availability_zones"),
        ({"az_count": 2, "availability_zones": ("us-east-1a", "us-east-1a")}, "availability_zones"),
        ({"az_count": 2, "availability_zones": ("us-east-1a", "US-EAST-1B")}, "availability_zones[1]"),
    ],
)
def test_pinned_azs_in_the_config_are_checked(settings, field):
    with pytest.raises(ConfigError) as caught:
        StackConfig(**settings)
    assert caught.value.field == field
