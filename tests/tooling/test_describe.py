"""`describe` tells what a config creates, its quotas and an idle-cost estimate with its inputs."""

from __future__ import annotations

import pytest

from generator import NatMode, StackConfig
from generator.model.config_file import load_config
from generator.tooling.cli import main
from generator.tooling.describe import cost_per_million_requests, idle_monthly_cost, network_summary
from tests.support.processes import REPO
from tests.support.text import table


def test_describe_lists_services_routes_with_auth_resources_and_cost(capsys):
    assert main(["describe", "--config", str(REPO / "stacks" / "three-services.toml")]) == 0
    out = capsys.readouterr().out
    assert ["GET", "/shop/orders/{orderId}", "JWT (Cognito)", "-", "orders"] in table(out)
    assert ["GET", "/foodstore/foods/{foodId}", "public", "-", "foodstore"] in table(out)
    assert ["AWS::ECS::Service", "3"] in table(out)
    # The template body's 1,000,000 bytes bind first (tests/model/test_limits.py); each alarm's
    # ARN listed in the topic policy (instead of alarm:<stack>-*) costs the 22nd service.
    assert "services like these that fit: 21" in out
    assert "an estimate at us-east-1 on-demand list prices" in out


def test_idle_cost_counts_a_nat_gateway_and_its_address_per_az_or_one_in_single_mode():
    # Worked by hand from the list prices (not from generator/model/prices.py, so a wrong constant
    # fails here): $0.045 per NAT gateway hour, $0.005 per public IPv4 address hour, 730 h a month.
    per_az = {item: usd for item, _, usd in idle_monthly_cost(StackConfig())}
    single = {item: usd for item, _, usd in idle_monthly_cost(StackConfig(nat_mode=NatMode.SINGLE))}
    assert per_az["NAT gateways"] == pytest.approx(98.55)  # 3 x 0.045 x 730
    assert per_az["Elastic IPs (public IPv4)"] == pytest.approx(10.95)  # 3 x 0.005 x 730
    assert single["NAT gateways"] == pytest.approx(32.85)  # 1 x 0.045 x 730
    assert single["Elastic IPs (public IPv4)"] == pytest.approx(3.65)  # 1 x 0.005 x 730


def test_describe_says_how_the_azs_are_chosen(capsys, tmp_path):
    assert main(["describe"]) == 0
    assert "AZs: chosen at deploy time among those where AWS documents HTTP API VPC links and Fargate" in capsys.readouterr().out
    pinned = tmp_path / "pinned.toml"
    pinned.write_text('az_count = 2\navailability_zones = ["use1-az1", "use1-az4"]\n')
    assert main(["describe", "--config", str(pinned)]) == 0
    assert "AZs: pinned to use1-az1, use1-az4" in capsys.readouterr().out


def test_lean_idle_cost_matches_the_figures_worked_out_by_hand(capsys):
    # Worked by hand from the list prices on the AWS pages (not from generator/model/prices.py):
    #   Fargate ARM64, 1 task of 0.25 vCPU and 0.5 GB: 0.25 x 0.03238 + 0.5 x 0.00356
    #     = 0.008095 + 0.00178 = 0.009875 $/h; x 730 h = 7.20875        -> $7.21
    #   the task's public IPv4: 1 x 0.005 $/h x 730 h = 3.65             -> $3.65
    #   Cloud Map's private hosted zone: 0.50; one registered task: 0.10
    #   ECR, one image of at most 0.2 GB x 0.10 $/GB-month = 0.02
    #   no NAT gateway, no Elastic IP, Container Insights off: 0
    #   subtotal 7.20875 + 3.65 + 0.50 + 0.10 + 0.02 = 11.47875
    #   alarms (CloudWatch, $0.10 per standard alarm metric a month): API 5xx rate 2 metrics, API
    #   p99 latency 1, table errors 4 (2 operations x throttles, system errors) = 7 metrics = 0.70;
    #   no task-count or at-max-tasks alarm without Container Insights (their metrics are its own);
    #   no dashboard
    #   total 11.47875 + 0.70 = 12.17875                                  -> $12.18
    assert main(["describe", "--config", str(REPO / "stacks" / "lean.toml")]) == 0
    out = capsys.readouterr().out
    assert ["CloudWatch alarms", "3 alarms reading 7 metrics x $0.10", "$0.70"] in table(out)
    assert "  total: $12.18 a month" in out
    rows = {item: usd for item, _, usd in idle_monthly_cost(load_config(REPO / "stacks" / "lean.toml"))}
    assert rows["Fargate tasks at minimum"] == pytest.approx(7.20875)
    assert rows["Tasks' public IPv4"] == pytest.approx(3.65)
    assert rows["Cloud Map namespace's hosted zone"] == pytest.approx(0.50)
    assert rows["Cloud Map instances"] == pytest.approx(0.10)
    assert rows["NAT gateways"] == rows["Elastic IPs (public IPv4)"] == rows["Container Insights"] == 0
    assert sum(rows.values()) == pytest.approx(11.47875)
    assert sum(rows.values()) <= 15.00


def test_default_idle_cost_matches_the_figures_worked_out_by_hand():
    # 3 NAT gateways: 3 x 0.045 x 730 = 98.55; their Elastic IPs: 3 x 0.005 x 730 = 10.95
    # Fargate x86, 2 tasks of 0.25 vCPU / 0.5 GB: 2 x (0.25 x 0.04048 + 0.5 x 0.004445)
    #   = 2 x 0.0123425 = 0.024685 $/h; x 730 = 18.02005
    # Container Insights: 11 cluster + 2 x 13 service + 2 x 8 task-family metrics = 53 x 0.30 = 15.90
    # hosted zone 0.50, 2 Cloud Map instances 0.20, ECR 0.02
    # total 98.55 + 10.95 + 18.02005 + 15.90 + 0.50 + 0.20 + 0.02 = 144.14005
    rows = {item: usd for item, _, usd in idle_monthly_cost(StackConfig())}
    assert rows["Container Insights"] == pytest.approx(15.90)
    assert rows["Fargate tasks at minimum"] == pytest.approx(18.02005)
    assert sum(rows.values()) == pytest.approx(144.14005)
    off = {item: usd for item, _, usd in idle_monthly_cost(StackConfig(container_insights=False))}
    assert off["Container Insights"] == 0


def test_every_line_says_its_inputs_and_what_is_billed_only_by_use(capsys):
    assert main(["describe", "--config", str(REPO / "stacks" / "lean.toml")]) == 0
    out = capsys.readouterr().out
    assert ["Tasks' public IPv4", "1 x $0.005/h (nat_mode none)", "$3.65"] in table(out)
    assert "1 task(s) ARM64, $0.00988/h in all, 100% on Spot priced on demand" in out
    assert "0 metrics x $0.30/month (container_insights off)" in out
    assert "HTTP API and VPC link, DynamoDB, Lambda, Cognito, CloudFront and S3 (test page)" in out


def test_cost_per_million_requests_adds_the_api_and_the_measured_cpu_time():
    # 1,000,000 requests x 0.56 ms = 560 s = 0.155556 vCPU-hours; on ARM64 x 0.03238 $/h = 0.005037;
    # plus the HTTP API's 1.00 per million: 1.005037
    rows = {item: usd for item, _, usd in cost_per_million_requests(load_config(REPO / "stacks" / "lean.toml"))}
    assert rows["HTTP API requests"] == pytest.approx(1.00)
    assert rows["Fargate vCPU time"] == pytest.approx(0.005037, abs=1e-6)


def test_a_key_of_the_stack_s_own_is_priced_when_asked():
    rows = {item: usd for item, _, usd in idle_monthly_cost(StackConfig(customer_managed_key=True))}
    assert rows["KMS key"] == pytest.approx(1.00)
    assert "KMS key" not in {item for item, _, _ in idle_monthly_cost(StackConfig())}


def test_describe_says_where_the_tasks_run_for_every_nat_mode(capsys):
    lines = {mode: network_summary(StackConfig(nat_mode=mode, az_count=2)) for mode in NatMode}
    assert lines[NatMode.PER_AZ].endswith("in private subnets, a NAT gateway in each of the 2 AZs (nat_mode per-az)")
    assert lines[NatMode.SINGLE].endswith("in private subnets, one NAT gateway shared by every AZ (nat_mode single)")
    assert "public subnets, a public IPv4 address each" in lines[NatMode.NONE]
    assert main(["describe", "--config", str(REPO / "stacks" / "lean.toml")]) == 0
    assert "Tasks: ARM64 on Fargate, in public subnets" in capsys.readouterr().out
def test_describe_lists_alarms_dashboard_and_route_metrics_with_their_cost(capsys):
    # Worked by hand from CloudWatch's list prices ($0.10 per standard alarm metric a month, $3.00
    # per dashboard, $0.30 per custom metric a month), not from generator/model/prices.py:
    #   alarms: 2 + 1 API alarm metrics, per service 4 (5xx rate of 2 routes) + 1 + 2 + 4 = 11,
    #     3 + 2 x 11 = 25 metrics x 0.10 = 2.50
    #   dashboard: 1 x 3.00 = 3.00
    #   detailed metrics: 2 services x 2 routes = 4 routes x 6 metrics = 24 x 0.30 = 7.20
    assert main(["describe", "--config", str(REPO / "stacks" / "hardened.toml")]) == 0
    out = capsys.readouterr().out
    assert ["<stack>-foodstore-5xx-rate", "4"] in table(out)
    assert "deployments roll back on each service's own 5xx alarm" in out
    assert "10 alarms reading 25 metrics x $0.10" in out
    assert "$2.50" in out
    assert "1 x $3.00" in out
    assert "4 routes x 6 metrics x $0.30" in out
    assert "$7.20" in out


def test_describe_says_when_a_configuration_has_no_monitoring(capsys):
    assert main(["describe", "--config", str(REPO / "stacks" / "small.toml")]) == 0
    assert "Monitoring: none" in capsys.readouterr().out


def test_describe_lists_the_account_quotas_preflight_checks_with_what_this_stack_needs():
    from generator.model.account_quotas import ACCOUNT_QUOTAS
    from generator.tooling.describe import account_quota_lines

    per_az = "\n".join(account_quota_lines(StackConfig()))
    for quota in ACCOUNT_QUOTAS:  # one list for both commands
        assert quota.name in per_az and quota.quota_code in per_az
    elastic_ips = next(line for line in per_az.splitlines() if "EC2-VPC Elastic IPs" in line).split()
    single = "\n".join(account_quota_lines(StackConfig(nat_mode=NatMode.SINGLE, test_page=False)))
    single_ips = next(line for line in single.splitlines() if "EC2-VPC Elastic IPs" in line).split()
    assert elastic_ips[-2:] == ["3", "5"] and single_ips[-2:] == ["1", "5"]
    assert "test_page = false" in per_az and "CloudFront refuses" not in single
