"""AWS list prices the cost estimates use (``ecsapi describe``), each written once with its source.

On-demand prices in us-east-1, in USD. Each constant names the AWS pricing page it comes from and
the date it was read; a price that changes is changed here and nowhere else. These are estimates:
requests, data transfer, logs and DynamoDB are billed by use on top of the idle figures.
"""

from __future__ import annotations

# A month as AWS's pricing examples count it (365 days x 24 h / 12).
HOURS_PER_MONTH = 730

# Amazon VPC pricing, "NAT Gateway pricing" (https://aws.amazon.com/vpc/pricing/):
# $0.045 per NAT gateway hour in US East (N. Virginia), plus $0.045 per GB processed.
NAT_GATEWAY_HOUR = 0.045
# Amazon VPC pricing, "Public IPv4 addresses" (https://aws.amazon.com/vpc/pricing/):
# $0.005 per in-use public IPv4 address per hour, Elastic IPs and auto-assigned addresses alike.
PUBLIC_IPV4_HOUR = 0.005
# AWS Fargate pricing, Linux/x86, US East (N. Virginia) (https://aws.amazon.com/fargate/pricing/):
# per vCPU hour and per GB of memory hour.
FARGATE_VCPU_HOUR = 0.04048
FARGATE_GB_HOUR = 0.004445

# ---- Monitoring (generator/template/monitoring.py, dashboard.py), read 2026-12-04 ----
# Amazon CloudWatch pricing (https://aws.amazon.com/cloudwatch/pricing/), US East (N. Virginia).
# Alarms are billed per alarm metric and month: a metric-math alarm for every metric it reads.
CLOUDWATCH_ALARM_METRIC_MONTH = 0.10  # standard resolution (60 s periods): every ecsapi alarm
CLOUDWATCH_HIGH_RESOLUTION_ALARM_METRIC_MONTH = 0.30  # 10 s periods: none in ecsapi, for comparison
# Dashboards: $3.00 each a month; the free tier covers 3 dashboards of up to 50 metrics each per account.
CLOUDWATCH_DASHBOARD_MONTH = 3.00
CLOUDWATCH_FREE_DASHBOARDS = 3
CLOUDWATCH_FREE_DASHBOARD_METRICS = 50
# Custom metrics, first 10,000: $0.30 a metric and month, prorated by the hour and metered only in
# hours the metric is published. API Gateway detailed (route) metrics are billed at this rate.
CLOUDWATCH_CUSTOM_METRIC_MONTH = 0.30
