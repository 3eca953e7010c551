"""`describe` tells what a config creates, its quotas and an idle-cost estimate with its inputs."""

from __future__ import annotations

import pytest

from generator import NatMode, StackConfig
from generator.model.prices import FARGATE_GB_HOUR, FARGATE_VCPU_HOUR, HOURS_PER_MONTH, NAT_GATEWAY_HOUR
from generator.tooling.cli import main
from generator.tooling.describe import idle_monthly_cost

from .conftest import REPO


def test_describe_lists_services_routes_with_auth_resources_and_cost(capsys):
    assert main(["describe", "--config", str(REPO / "stacks" / "three-services.toml")]) == 0
    out = capsys.readouterr().out
    assert "GET     /shop/orders/{orderId}     JWT (Cognito)" in out
    assert "GET     /foodstore/foods/{foodId}  public" in out
    assert "AWS::ECS::Service                            3" in out
    assert "services like these that fit: 30" in out  # 9 more fixed resources: the image build answers through EventBridge
    assert "an estimate at us-east-1 on-demand list prices" in out


def test_idle_cost_counts_nat_per_mode_and_minimum_tasks():
    per_az = dict((item, usd) for item, _, usd in idle_monthly_cost(StackConfig()))
    single = dict((item, usd) for item, _, usd in idle_monthly_cost(StackConfig(nat_mode=NatMode.SINGLE)))
    assert per_az["NAT gateways"] == pytest.approx(3 * NAT_GATEWAY_HOUR * HOURS_PER_MONTH)
    assert single["NAT gateways"] == pytest.approx(NAT_GATEWAY_HOUR * HOURS_PER_MONTH)
    two_small_tasks = 2 * (0.25 * FARGATE_VCPU_HOUR + 0.5 * FARGATE_GB_HOUR) * HOURS_PER_MONTH
    assert per_az["Fargate tasks at minimum"] == pytest.approx(two_small_tasks)


def test_describe_says_how_the_azs_are_chosen(capsys, tmp_path):
    assert main(["describe"]) == 0
    assert "AZs: chosen at deploy time among those where AWS documents HTTP API VPC links and Fargate" in capsys.readouterr().out
    pinned = tmp_path / "pinned.toml"
    pinned.write_text('az_count = 2\navailability_zones = ["use1-az1", "use1-az4"]\n')
    assert main(["describe", "--config", str(pinned)]) == 0
    assert "AZs: pinned to use1-az1, use1-az4" in capsys.readouterr().out
