"""`describe` tells what a config creates, its quotas and an idle-cost estimate with its inputs."""

from __future__ import annotations

import pytest

from generator import NatMode, StackConfig
from generator.tooling.cli import main
from generator.tooling.describe import idle_monthly_cost

from .conftest import REPO


def test_describe_lists_services_routes_with_auth_resources_and_cost(capsys):
    assert main(["describe", "--config", str(REPO / "stacks" / "three-services.toml")]) == 0
    out = capsys.readouterr().out
    assert "GET     /shop/orders/{orderId}     JWT (Cognito)" in out
    assert "GET     /foodstore/foods/{foodId}  public" in out
    assert "AWS::ECS::Service                            3" in out
    assert "services like these that fit: 31" in out
    assert "an estimate at us-east-1 on-demand list prices" in out


def test_idle_cost_of_the_default_stack_matches_the_list_prices_worked_by_hand():
    # Worked from the pages cited in generator/model/prices.py, not from its constants, so a wrong
    # constant or a wrong formula fails here. Default stack: 3 AZs, a NAT gateway (and its Elastic
    # IP) per AZ, two services at 256 CPU units (0.25 vCPU) / 512 MiB (0.5 GB), one task each.
    per_az = {item: usd for item, _, usd in idle_monthly_cost(StackConfig())}
    assert per_az == {
        # 3 NAT gateways x $0.045/h x 730 h = 3 x 32.85
        "NAT gateways": pytest.approx(98.55),
        # 3 public IPv4 addresses x $0.005/h x 730 h = 3 x 3.65
        "Elastic IPs (public IPv4)": pytest.approx(10.95),
        # 2 tasks x (0.25 vCPU x $0.04048 + 0.5 GB x $0.004445)/h x 730 h
        #   = 2 x (0.01012 + 0.0022225) x 730 = 0.024685 x 730
        "Fargate tasks at minimum": pytest.approx(18.02005),
    }


def test_idle_cost_with_a_single_nat_gateway_counts_one_gateway_and_one_address():
    single = {item: usd for item, _, usd in idle_monthly_cost(StackConfig(nat_mode=NatMode.SINGLE))}
    assert single["NAT gateways"] == pytest.approx(32.85)  # 1 x $0.045/h x 730 h
    assert single["Elastic IPs (public IPv4)"] == pytest.approx(3.65)  # 1 x $0.005/h x 730 h


def test_describe_says_how_the_azs_are_chosen(capsys, tmp_path):
    assert main(["describe"]) == 0
    assert "AZs: chosen at deploy time among those where AWS documents HTTP API VPC links and Fargate" in capsys.readouterr().out
    pinned = tmp_path / "pinned.toml"
    pinned.write_text('az_count = 2\navailability_zones = ["use1-az1", "use1-az4"]\n')
    assert main(["describe", "--config", str(pinned)]) == 0
    assert "AZs: pinned to use1-az1, use1-az4" in capsys.readouterr().out
