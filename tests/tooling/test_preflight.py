"""``ecsapi preflight`` (generator/tooling/preflight.py) against moto in server mode over HTTP: the
account's usage is made with real boto3 calls, then preflight reads it with read-only calls.

moto 5.2.5 serves EC2 (addresses, VPCs, NAT gateways, subnets), API Gateway v2 VPC links, CodeBuild
builds, STS and Service Quotas for ``vpc`` only; for other Service Quotas codes preflight falls back
to the documented default, and CloudFront's ListResponseHeadersPolicies it does not serve at all,
which shows as "not checked". Nothing here reaches AWS: AWS_ENDPOINT_URL points every client at moto.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest

from generator import ServiceSpec, StackConfig
from generator.model.account_quotas import ACCOUNT_QUOTAS
from generator.model.config import NatMode
from generator.tooling import preflight as pf
from generator.tooling.aws import boto3_session
from tests.support.moto import moto_environment, moto_for_boto3
from tests.support.processes import REPO

pytestmark = pytest.mark.integration

REGION = "us-east-1"


@pytest.fixture
def moto(monkeypatch):
    with moto_for_boto3(monkeypatch) as url:
        yield url


def checks(config: StackConfig | None = None) -> dict[str, pf.Check]:
    report = pf.preflight(config or StackConfig(), boto3_session(REGION))
    assert report.account == "123456789012" and report.region == REGION
    return {check.quota.key: check for check in report.checks}


def test_a_fresh_account_has_room_and_the_report_says_what_moto_cannot_answer(moto):
    found = checks()
    # moto's Service Quotas answers for vpc; the region has its default VPC.
    assert (found["vpcs"].limit, found["vpcs"].limit_from, found["vpcs"].in_use) == (5, "Service Quotas", 1)
    assert found["vpcs"].outcome is pf.Outcome.OK
    assert (found["nat-gateways-per-az"].limit, found["nat-gateways-per-az"].in_use) == (5, 0)
    # Not served by moto's Service Quotas: the documented default.
    assert (found["elastic-ips"].limit, found["elastic-ips"].limit_from) == (5, "AWS default")
    assert (found["elastic-ips"].needs, found["elastic-ips"].outcome) == (3, pf.Outcome.OK)
    assert (found["vpc-links"].limit, found["vpc-links"].in_use, found["vpc-links"].outcome) == (10, 0, pf.Outcome.OK)
    # CodeBuild's default is set per account: without Service Quotas nothing to compare with.
    assert found["codebuild-small"].in_use == 0 and found["codebuild-small"].outcome is pf.Outcome.UNKNOWN
    # moto does not serve ListResponseHeadersPolicies.
    assert found["response-headers-policies"].outcome is pf.Outcome.UNKNOWN
    assert "usage not read" in found["response-headers-policies"].note


def test_elastic_ips_in_use_make_a_per_az_stack_short_and_single_nat_fits(moto):
    ec2 = boto3.client("ec2")
    for _ in range(3):
        ec2.allocate_address(Domain="vpc")
    per_az = checks(StackConfig())["elastic-ips"]
    assert (per_az.in_use, per_az.needs, per_az.outcome) == (3, 3, pf.Outcome.SHORT)
    assert "2 left, the stack needs 3" in per_az.note and 'nat_mode = "single"' in per_az.note
    single = checks(StackConfig(nat_mode=NatMode.SINGLE))["elastic-ips"]
    assert (single.needs, single.outcome) == (1, pf.Outcome.OK)


def test_nat_gateways_are_counted_per_az(moto):
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    subnet_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    for subnet in (subnet_a, subnet_a, subnet_b):
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)
    found = checks(StackConfig(nat_mode=NatMode.SINGLE))
    assert found["nat-gateways-per-az"].in_use == 2
    assert found["vpcs"].in_use == 2
    # Three addresses held by the gateways, one more for the stack's single NAT gateway: 4 of 5.
    assert (found["elastic-ips"].in_use, found["elastic-ips"].outcome) == (3, pf.Outcome.OK)


def test_a_region_with_every_vpc_link_taken_is_short(moto):
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.0.0/24")["Subnet"]["SubnetId"]
    links = boto3.client("apigatewayv2")
    for number in range(10):
        links.create_vpc_link(Name=f"link-{number}", SubnetIds=[subnet])
    link = checks()["vpc-links"]
    assert (link.in_use, link.outcome) == (10, pf.Outcome.SHORT)
    assert "0 left, the stack needs 1" in link.note


def test_a_configuration_that_builds_nothing_and_serves_no_page_needs_neither_codebuild_nor_cloudfront(moto):
    config = StackConfig(
        services=(ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", image="public.ecr.aws/x/y:1"),),
        test_page=False,
    )
    report = pf.preflight(config, boto3_session(REGION))
    found = {check.quota.key: check for check in report.checks}
    assert found["codebuild-small"].outcome is found["response-headers-policies"].outcome is pf.Outcome.NOT_NEEDED
    assert report.unverifiable == ()
    assert report.exit_status() == pf.EXIT_OK


def test_every_quota_has_a_usage_reader_a_source_and_a_fallback():
    assert {quota.key for quota in ACCOUNT_QUOTAS} == set(pf.USAGE)
    for quota in ACCOUNT_QUOTAS:
        assert quota.quota_code.startswith("L-") and quota.source and quota.fallback


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**clean, **env})


def test_the_command_prints_the_report_and_exits_3_when_something_could_not_be_checked(moto):
    result = cli("preflight", "--region", REGION, env=moto_environment(moto))
    assert result.returncode == pf.EXIT_UNCHECKED, result.stderr
    out = result.stdout
    assert f"account 123456789012, Region {REGION}" in out
    assert "EC2-VPC Elastic IPs" in out and "L-0263D0A3" in out
    assert "What no API call can tell" in out and "test_page = false" in out
    assert "Result: nothing is short, but not everything could be checked" in out


def test_the_command_exits_1_when_a_quota_is_short(moto):
    ec2 = boto3.client("ec2")
    for _ in range(5):
        ec2.allocate_address(Domain="vpc")
    result = cli("preflight", "--region", REGION, env=moto_environment(moto))
    assert result.returncode == pf.EXIT_SHORT, result.stderr
    assert "EC2-VPC Elastic IPs: 0 left, the stack needs 3" in result.stdout


def test_unreachable_aws_is_exit_3_with_the_reason():
    # Nothing listens on port 9 of loopback: the first call fails at once, and nothing leaves the machine.
    env = {**moto_environment("http://127.0.0.1:9"), "AWS_MAX_ATTEMPTS": "1"}
    result = cli("preflight", "--region", REGION, env=env)
    assert result.returncode == pf.EXIT_UNCHECKED
    assert result.stderr.startswith(f"ecsapi: preflight could not reach AWS in {REGION}")


def test_region_is_an_option_of_preflight_only():
    result = cli("template", "--region", REGION, env={})
    assert result.returncode == 2 and "template does not take --region; preflight does" in result.stderr


def test_the_codebuild_quota_checked_is_the_one_of_the_build_projects_environment(render):
    from generator.template.image import BUILD_COMPUTE_TYPE

    quotas = {quota.key: quota for quota in ACCOUNT_QUOTAS}
    # BUILD_GENERAL1_SMALL counts against "<Linux|ARM>/Small" by the project's environment type
    # ("Quotas for AWS CodeBuild"; Service Quotas codes L-9D07B6EF and L-5ED1D25B).
    assert BUILD_COMPUTE_TYPE == "BUILD_GENERAL1_SMALL"
    for architecture, environment, key, name in (
        ("X86_64", "LINUX_CONTAINER", "codebuild-small", "Linux/Small environment"),
        ("ARM64", "ARM_CONTAINER", "codebuild-arm-small", "ARM/Small environment"),
    ):
        config = StackConfig(cpu_architecture=architecture)
        built = render(config)["Resources"]["ImageBuildProject"]["Properties"]["Environment"]
        assert (built["Type"], built["ComputeType"]) == (environment, BUILD_COMPUTE_TYPE)
        needed = {key for key, quota in quotas.items() if key.startswith("codebuild") and quota.needs(config)}
        assert needed == {key} and quotas[key].name.endswith(name)


def test_nat_mode_none_needs_no_nat_gateway_quota(moto):
    found = checks(StackConfig(nat_mode=NatMode.NONE))
    assert found["nat-gateways-per-az"].outcome is found["elastic-ips"].outcome is pf.Outcome.NOT_NEEDED
    assert found["nat-gateways-per-az"].needs == 0


IMAGE_INDEX = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 100, "digest": "sha256:" + "a" * 64,
     "platform": {"os": "linux", "architecture": "amd64"}},
]}


def push_index(repository: str, tag: str, architectures: list[str]) -> str:
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName=repository)
    index = {**IMAGE_INDEX, "manifests": [
        {**IMAGE_INDEX["manifests"][0], "platform": {"os": "linux", "architecture": arch}} for arch in architectures]}
    ecr.put_image(repositoryName=repository, imageTag=tag, imageManifest=json.dumps(index),
                  imageManifestMediaType="application/vnd.oci.image.index.v1+json")
    return f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{repository}:{tag}"


def arm64_with(image: str) -> StackConfig:
    return StackConfig(cpu_architecture="ARM64",
                       services=(ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", image=image),))


def test_an_arm64_stack_with_an_x86_only_ecr_image_is_short(moto):
    image = push_index("x86-only", "1", ["amd64"])
    report = pf.preflight(arm64_with(image), boto3_session(REGION))
    [check] = report.images
    assert (check.service, check.outcome) == ("foodstore", pf.Outcome.SHORT)
    assert "linux/amd64" in check.note
    assert report.exit_status() == pf.EXIT_SHORT


def test_an_arm64_stack_with_a_multi_platform_ecr_image_passes_it(moto):
    image = push_index("multi", "1", ["amd64", "arm64"])
    [check] = pf.preflight(arm64_with(image), boto3_session(REGION)).images
    assert check.outcome is pf.Outcome.OK


def test_an_image_outside_ecr_is_a_warning_and_x86_stacks_check_nothing(moto):
    [check] = pf.preflight(arm64_with("public.ecr.aws/x/y:1"), boto3_session(REGION)).images
    assert check.outcome is pf.Outcome.UNKNOWN and "linux/arm64" in check.note
    x86 = StackConfig(services=(ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", image="a/b:1"),))
    assert pf.preflight(x86, boto3_session(REGION)).images == ()


def test_running_builds_are_counted_across_a_bounded_number_of_pages(monkeypatch):
    # moto completes a build as soon as it is described, so this counts against a stand-in client:
    # seven pages of ids, two running builds on each.
    pages = {None if n == 0 else f"t{n}": {"ids": [f"p:{n}-{i}" for i in range(100)],
                                           **({"nextToken": f"t{n + 1}"} if n < 6 else {})} for n in range(7)}
    calls = []

    class CodeBuild:
        def list_builds(self, nextToken=None):  # noqa: N803 - the API's name
            calls.append(nextToken)
            return pages[nextToken]

        def batch_get_builds(self, ids):
            return {"builds": [{"id": i, "buildStatus": "IN_PROGRESS" if i.endswith(("-0", "-1")) else "SUCCEEDED"}
                               for i in ids]}

    monkeypatch.setattr(pf, "client", lambda session, service, region=None: CodeBuild())
    assert pf._running_builds(session=None, environment="LINUX_CONTAINER") == 2 * pf.BUILD_PAGES
    assert len(calls) == pf.BUILD_PAGES
