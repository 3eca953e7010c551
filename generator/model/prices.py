"""AWS list prices the cost estimates use (``ecsapi describe``), each written once with its source.

On-demand prices in us-east-1, in USD. Each constant names the AWS pricing page it comes from and
the date it was read; a price that changes is changed here and nowhere else. These are estimates:
requests, data transfer, logs and DynamoDB are billed by use on top of the idle figures.

"Read" means looked up on 2026-12-04 with the project's search tool; where the AWS page renders its
rate tables from a script and the stored copy shows no figure, the constant says which copy or
quotation of that page carries it.
"""

from __future__ import annotations

# A month as AWS's pricing examples count it (365 days x 24 h / 12).
HOURS_PER_MONTH = 730

# Amazon VPC pricing, "NAT Gateway pricing" (https://aws.amazon.com/vpc/pricing/), read 2026-12-04
# (the page's us-east-1 figures as quoted by cloudburn.io's and basavytix.com's 2026 NAT guides):
# $0.045 per NAT gateway hour in US East (N. Virginia), plus $0.045 per GB processed.
NAT_GATEWAY_HOUR = 0.045
# Amazon VPC pricing, "Public IPv4 addresses" (https://aws.amazon.com/vpc/pricing/), read 2026-12-04:
# $0.005 per in-use public IPv4 address per hour, Elastic IPs and auto-assigned addresses (such as a
# Fargate task's with AssignPublicIp) alike.
PUBLIC_IPV4_HOUR = 0.005
# AWS Fargate pricing, Linux/x86, US East (N. Virginia) (https://aws.amazon.com/fargate/pricing/),
# read 2026-12-04 ($0.000011244 per vCPU second on the ECS pricing page's example; the hourly rates
# as vantage.sh's Fargate pricing table quotes them): per vCPU hour and per GB of memory hour.
FARGATE_VCPU_HOUR = 0.04048
FARGATE_GB_HOUR = 0.004445
# AWS Fargate pricing, Linux/ARM (Graviton), US East (N. Virginia)
# (https://aws.amazon.com/fargate/pricing/), read 2026-12-04 (same table): per vCPU hour and per GB hour.
FARGATE_ARM_VCPU_HOUR = 0.03238
FARGATE_ARM_GB_HOUR = 0.00356

# Amazon API Gateway pricing, HTTP APIs (https://aws.amazon.com/api-gateway/pricing/), read
# 2026-12-04 (the AWS whitepaper "Best Practices for Designing Amazon API Gateway Private APIs and
# Private Integration", Cost optimization, Table 4, quotes it for us-east-1): $1.00 per million
# requests for the first 300 million a month, metered in 512 KB increments. The page names no
# charge for HTTP API VPC links (the PrivateLink charges it mentions are for private REST APIs), so
# a private integration is billed as the request; the VPC link's network interfaces are API
# Gateway's and carry no public address.
HTTP_API_PER_MILLION_REQUESTS = 1.00

# Amazon Route 53 pricing, "Hosted zones" (https://aws.amazon.com/route53/pricing/), read 2026-12-04:
# $0.50 per hosted zone per month for the first 25. A Cloud Map private DNS namespace creates a
# private hosted zone ("AWS Cloud Map namespaces", AWS Cloud Map Developer Guide), billed as one.
HOSTED_ZONE_MONTH = 0.50
# AWS Cloud Map pricing (https://aws.amazon.com/cloud-map/pricing/), read 2026-12-04 from the AWS
# Price List (AWSCloudMap offer, usage type "Cloud-Map-Resources", unit Resource-Month): $0.10 per
# registered resource per month. ECS registers each running task as an instance of the service.
CLOUD_MAP_RESOURCE_MONTH = 0.10

# Amazon CloudWatch pricing, "Metrics" (https://aws.amazon.com/cloudwatch/pricing/), read 2026-12-04:
# $0.30 per custom metric per month for the first 10,000. Container Insights metrics (namespace
# ECS/ContainerInsights) are charged as custom metrics ("Container Insights", Amazon CloudWatch User
# Guide: "Metrics collected by Container Insights are charged as custom metrics").
CLOUDWATCH_METRIC_MONTH = 0.30
# How many metrics Container Insights publishes for ECS, from "Amazon ECS Container Insights
# metrics" (Amazon CloudWatch User Guide; awsdocs/amazon-cloudwatch-user-guide,
# doc_source/Container-Insights-metrics-ECS.md), read 2026-12-04, counting each metric once per
# dimension set: ClusterName alone 11 (ContainerInstanceCount, Cpu/Memory Utilized and Reserved,
# Network Rx/Tx, Storage Read/Write, ServiceCount, TaskCount); ServiceName+ClusterName 13 (the same
# eight resource metrics, DeploymentCount, DesiredTaskCount, PendingTaskCount, RunningTaskCount,
# TaskSetCount); TaskDefinitionFamily+ClusterName 8 (the eight resource metrics).
CONTAINER_INSIGHTS_METRICS_PER_CLUSTER = 11
CONTAINER_INSIGHTS_METRICS_PER_SERVICE = 13
CONTAINER_INSIGHTS_METRICS_PER_TASK_FAMILY = 8

# AWS KMS pricing (https://aws.amazon.com/kms/pricing/): $1 per customer managed key per month,
# requests on top. Not found in the stored copies on 2026-12-04; the figure this project's
# customer_managed_key documentation already used.
KMS_KEY_MONTH = 1.00

# Amazon ECR pricing (https://aws.amazon.com/ecr/pricing/), read 2026-12-04 (as cloudburn.io's ECR
# guide quotes the page for us-east-1, March 2026): $0.10 per GB-month of private repository
# storage (compressed layers); pulls from the same region are free.
ECR_GB_MONTH = 0.10

# AWS PrivateLink pricing, "Interface Endpoint pricing" (https://aws.amazon.com/privatelink/pricing/),
# read 2026-12-04: each interface endpoint is billed per hour in each AZ it is provisioned in
# ($0.01 per endpoint-AZ hour in us-east-1: cloudcostkit.com's calculator example, 4,378
# endpoint-hours for $43.78), plus $0.01 per GB processed. For the README's comparison only.
INTERFACE_ENDPOINT_AZ_HOUR = 0.01

# What one item-store request costs the task, measured by `make bench-containers`
# (scripts/bench_containers.py: the gunicorn tree's user + system CPU seconds over the requests wrk
# completed against dynalite, foodstore, 16 connections, 5 s rows) on 2026-12-04 on this project's
# shared 2-core x86_64 development machine (load average about 6): 0.489 ms per GET, 0.637 ms per
# PUT; the constant is their mean. ``describe`` turns it into Fargate vCPU time per million
# requests; a Fargate vCPU (and Graviton) is another CPU, so read it as an order of magnitude.
ITEMSTORE_CPU_MS_PER_REQUEST = 0.56

# ---- Monitoring (generator/template/monitoring.py, dashboard.py), read 2026-12-04 ----
# Amazon CloudWatch pricing (https://aws.amazon.com/cloudwatch/pricing/), US East (N. Virginia).
# Alarms are billed per alarm metric and month: a metric-math alarm for every metric it reads.
CLOUDWATCH_ALARM_METRIC_MONTH = 0.10  # standard resolution (60 s periods): every ecsapi alarm
CLOUDWATCH_HIGH_RESOLUTION_ALARM_METRIC_MONTH = 0.30  # 10 s periods: none in ecsapi, for comparison
# Dashboards: $3.00 each a month; the free tier covers 3 dashboards of up to 50 metrics each per account.
CLOUDWATCH_DASHBOARD_MONTH = 3.00
CLOUDWATCH_FREE_DASHBOARDS = 3
CLOUDWATCH_FREE_DASHBOARD_METRICS = 50
# API Gateway detailed (route) metrics are billed as custom metrics, CLOUDWATCH_METRIC_MONTH each
# (above), prorated by the hour and metered only in hours the metric is published.

# ---- Cognito machine-to-machine (the machine client, generator/template/auth.py) ----
# Amazon Cognito pricing, "Machine-to-machine (M2M) authorization" (https://aws.amazon.com/cognito/pricing/),
# effective 2024-05-09, read 2026-12-07 with the project's search tool (the page's figures as
# quoted by Vantage's line-item guide "CUPM2MTokenRequestsFull", April 2025: "$2.250 per 1000 token
# requests", graduated tiers after; and Rhythmic Technologies' "The AWS Cognito M2M Bill Has Come
# Due", May 2025: "$6 per month for each app client"): an app client with the client-credentials
# grant, prorated by the second, and successful token responses, first tier. Resource servers and
# the prefix domain are not priced items there (scopes and the hosted token endpoint are part of
# the user pool).
COGNITO_M2M_APP_CLIENT_MONTH = 6.00
COGNITO_M2M_PER_THOUSAND_TOKENS = 2.25
