"""Security properties of every template variant: least-privilege IAM, nothing open to the internet,
encryption at rest, and checkov with zero failed checks."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from generator import MfaMode, NatMode, ServiceSpec, StackConfig, ThreatProtection
from generator.model.config_file import load_config
from generator.template.iam import ITEM_STORE_ACTIONS, OWN_TABLE_ACTIONS, UNSCOPED_ACTIONS
from generator.template.names import logical_id
from tests.support.templates import CHECKOV, DOMAIN_SHAPES, EXAMPLES, PAGE_WITH_KEY, VARIANTS, checkov_report, resources

# Expectations follow a variant's settings, never its file name; this is the variant with every
# security option on, for the tests of what those options add.
HARDENED = VARIANTS["hardened"]
# What follows "<stack name>-" in the name of each kind of alarm (generator/template/alarm_names.py).
ALARM_SUFFIXES = ("-5xx-rate", "-p99-latency", "-tasks-below-minimum", "-at-max-tasks", "-table-errors")
assert HARDENED.customer_managed_key and HARDENED.vpc_flow_logs

# The minimum each kind of role needs, by the suffix of its logical id.
ROLE_ACTIONS = {
    "TaskRole": {"dynamodb:GetItem", "dynamodb:PutItem"},
    "ExecutionRole": {
        "logs:CreateLogStream", "logs:PutLogEvents", "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
    },
    # "IAM role for publishing flow logs to CloudWatch Logs" (Amazon VPC User Guide).
    "FlowLogRole": {
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
    },
    # ECS's service-linked role before the cluster: look up, else create, that one role.
    "EcsServiceLinkedRoleFunctionRole": {
        "logs:CreateLogStream", "logs:PutLogEvents", "iam:GetRole", "iam:CreateServiceLinkedRole",
    },
    # The AZ choice: list the region's AZs with their zone IDs.
    "ZoneChoiceFunctionRole": {"logs:CreateLogStream", "logs:PutLogEvents", "ec2:DescribeAvailabilityZones"},
    # The page publisher: write its files, empty the versioned bucket on delete, invalidate the cache.
    "SitePublishFunctionRole": {
        "logs:CreateLogStream", "logs:PutLogEvents", "s3:PutObject", "s3:DeleteObject", "s3:ListBucketVersions",
        "s3:DeleteObjectVersion", "cloudfront:CreateInvalidation",
    },
    # CodeBuild: write its log group, log in to ECR, push to the stack's repository
    # ("IAM permissions for pushing an image to an Amazon ECR private repository", Amazon ECR User Guide).
    "ImageBuildRole": {
        "logs:CreateLogStream", "logs:PutLogEvents", "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
        "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    },
    # The build function: run the project's builds (list and read them to find the one already
    # started for a request, start one, stop one on Delete), read an image's digest, write its own log group.
    "ImageBuildFunctionRole": {
        "logs:CreateLogStream", "logs:PutLogEvents", "codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject",
        "codebuild:StartBuild", "codebuild:StopBuild", "ecr:DescribeImages",
        # The lost-event fallback: one-off schedules named ecsapi-build-*, run with the check role.
        "scheduler:CreateSchedule", "iam:PassRole",
    },
    # EventBridge Scheduler's role for that fallback: invoke the answering function.
    "ImageBuildCheckRole": {"lambda:InvokeFunction"},
    # The answering function: read how the build ended (BatchGetBuilds) and the pushed image's
    # digest, write its own log group; it starts and stops nothing.
    "ImageBuildAnswerFunctionRole": {
        "logs:CreateLogStream", "logs:PutLogEvents", "codebuild:BatchGetBuilds", "ecr:DescribeImages",
    },
}
KEY_THROUGH_DYNAMODB = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"}
OWN_TABLES = {str(action.JSONrepr()) for action in OWN_TABLE_ACTIONS}


def service_role_actions(config: StackConfig, role: str, kind: str) -> set[str]:
    """What a service's role must grant, from its configuration: the item store's table actions, or
    your own tables' (none without tables); the execution role reads exactly the service's kinds of
    secrets and decrypts with its kms_key."""
    spec = next(s for s in config.services if role == logical_id(s.name, kind))
    if kind == "TaskRole":
        if spec.is_item_store:
            tables = set(ROLE_ACTIONS["TaskRole"])
        else:
            tables = OWN_TABLES if spec.tables else set()
        return tables | (KEY_THROUGH_DYNAMODB if tables and config.customer_managed_key else set())
    kinds = {source.service for _, source in spec.secret_sources}
    return (
        ROLE_ACTIONS["ExecutionRole"]
        | ({"secretsmanager:GetSecretValue"} if "secretsmanager" in kinds else set())
        | ({"ssm:GetParameters"} if "ssm" in kinds else set())
        | ({"kms:Decrypt"} if spec.kms_key else set())
    )


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request, render):
    return request.param, render(VARIANTS[request.param])


def role_statements(template: dict):
    for name, role in resources(template, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], f"{name}: managed policies are broader than needed"
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement


def test_every_role_statement_grants_only_what_its_component_uses(variant):
    variant_name, template = variant
    granted: dict[str, set] = {}
    for role, statement in role_statements(template):
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert "*" not in action, f"{variant_name}/{role}: wildcard action {action}"
        granted.setdefault(role, set()).update(statement["Action"])
    assert granted, "no roles found"
    config = VARIANTS[variant_name]
    for role, actions in granted.items():
        kind = next(k for k in ROLE_ACTIONS if role.endswith(k))
        expected = service_role_actions(config, role, kind) if kind in ("TaskRole", "ExecutionRole") \
            else ROLE_ACTIONS[kind]
        assert actions == expected, f"{variant_name}/{role}"
    # A role without a statement has no policy at all (a service with no table: its task role).
    for name, role in resources(template, "AWS::IAM::Role").items():
        if name not in granted:
            assert name.endswith("TaskRole") and "Policies" not in role["Properties"], name
            assert not service_role_actions(config, name, "TaskRole"), name


def test_the_page_publisher_writes_only_its_bucket_and_invalidates_only_its_distribution(render):
    for config in (StackConfig(), StackConfig(customer_managed_key=True)):
        template = render(config)
        by_action = {}
        for role, statement in role_statements(template):
            if role == "SitePublishFunctionRole":
                for action in statement["Action"]:
                    by_action[action] = statement["Resource"]
        assert by_action["s3:PutObject"] == by_action["s3:DeleteObject"] == [{"Fn::Sub": "${SiteBucket.Arn}/*"}]
        assert by_action["s3:DeleteObjectVersion"] == [{"Fn::Sub": "${SiteBucket.Arn}/*"}]
        assert by_action["s3:ListBucketVersions"] == [{"Fn::GetAtt": ["SiteBucket", "Arn"]}]
        assert by_action["cloudfront:CreateInvalidation"] == [
            {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${SiteDistribution}"}
        ]
        assert by_action["logs:PutLogEvents"] == [{"Fn::GetAtt": ["SitePublishFunctionLogGroup", "Arn"]}]
        assert ("kms:GenerateDataKey" in by_action) == config.customer_managed_key
        if config.customer_managed_key:
            assert by_action["kms:GenerateDataKey"] == [{"Fn::GetAtt": ["StackKey", "Arn"]}]


def test_no_bucket_admits_anyone_but_cloudfront_for_this_stacks_distribution(variant):
    variant_name, template = variant
    for name, policy in resources(template, "AWS::S3::BucketPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}, f"{variant_name}/{name}"
                assert set(statement["Condition"]) == {"StringEquals"}
                assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]
            else:
                assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_resource_star_appears_only_for_actions_that_cannot_be_scoped(variant):
    variant_name, template = variant
    for role, statement in role_statements(template):
        if "*" in statement["Resource"]:
            assert set(statement["Action"]) <= set(UNSCOPED_ACTIONS), f"{variant_name}/{role}: {statement}"
            assert statement["Resource"] == ["*"]


def test_every_unscoped_action_documents_its_reason():
    for action, reason in UNSCOPED_ACTIONS.items():
        assert "no resource-level" in reason or "cannot" in reason, action


def test_task_roles_use_the_key_only_through_dynamodb(render):
    template = render(HARDENED)
    statement = template["Resources"]["FoodstoreTaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][1]
    assert statement["Resource"] == [{"Fn::GetAtt": ["StackKey", "Arn"]}]
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "dynamodb.${AWS::Region}.${AWS::URLSuffix}"}


def test_key_policy_lets_only_this_accounts_log_groups_use_the_key(render):
    statements = render(HARDENED)["Resources"]["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    admin, logs, alarms = statements
    assert admin["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.${AWS::URLSuffix}"}}
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    assert not any(a.startswith("kms:Put") or a == "kms:*" for a in logs["Action"])
    # The alarm topic is encrypted with the key: CloudWatch, for this stack's alarms only, may use it.
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert alarms["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
    assert all(":alarm:${AWS::StackName}-" in arn["Fn::Sub"] and arn["Fn::Sub"].endswith(ALARM_SUFFIXES)
               for arn in alarms["Condition"]["ArnEquals"]["aws:SourceArn"])
    without_alarms = render(dataclasses.replace(HARDENED, alarms=False))["Resources"]["StackKey"]
    assert len(without_alarms["Properties"]["KeyPolicy"]["Statement"]) == 2


def test_no_security_group_admits_the_internet(variant):
    variant_name, template = variant
    rules = []
    for group in resources(template, "AWS::EC2::SecurityGroup").values():
        rules += group["Properties"].get("SecurityGroupIngress", [])
    rules += [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()]
    assert rules
    for rule in rules:
        assert "CidrIp" not in rule and "CidrIpv6" not in rule, f"{variant_name}: {rule}"
        assert rule["SourceSecurityGroupId"] == {"Ref": "VpcLinkSecurityGroup"}
        assert rule["Description"]


def test_tasks_get_public_ips_only_without_nat(variant):
    # nat_mode = "none": a public IPv4 address is the tasks' only way out; the rule above still
    # lets nothing but the VPC link in (tests/template/test_lean.py checks the rest).
    variant_name, template = variant
    expected = "ENABLED" if VARIANTS[variant_name].nat_mode is NatMode.NONE else "DISABLED"
    for service in resources(template, "AWS::ECS::Service").values():
        assert service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == expected


def test_every_log_group_keeps_logs_for_a_bounded_time_and_is_encrypted_when_asked(variant):
    variant_name, template = variant
    for name, group in resources(template, "AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] > 0
        assert ("KmsKeyId" in group["Properties"]) == VARIANTS[variant_name].customer_managed_key, name


def test_hardened_tables_use_the_stack_key(render):
    for table in resources(render(HARDENED), "AWS::DynamoDB::Table").values():
        assert table["Properties"]["SSESpecification"] == {
            "KMSMasterKeyId": {"Fn::GetAtt": ["StackKey", "Arn"]}, "SSEEnabled": True, "SSEType": "KMS",
        }


def test_flow_logs_record_all_vpc_traffic_when_on(render, default_template):
    assert not resources(default_template, "AWS::EC2::FlowLog")
    (flow_log,) = resources(render(HARDENED), "AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["ResourceId"] == {"Ref": "Vpc"}
    assert flow_log["Properties"]["TrafficType"] == "ALL"
    assert flow_log["Properties"]["LogGroupName"] == {"Ref": "FlowLogGroup"}


def test_mfa_threat_protection_and_token_lifetimes_are_options(render):
    template = render(StackConfig(mfa=MfaMode.ON, threat_protection=ThreatProtection.AUDIT, access_token_minutes=15,
                                  id_token_minutes=20, refresh_token_days=2))
    pool = template["Resources"]["UserPool"]["Properties"]
    assert (pool["MfaConfiguration"], pool["EnabledMfas"]) == ("ON", ["SOFTWARE_TOKEN_MFA"])
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "AUDIT"} and pool["UserPoolTier"] == "PLUS"
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert (client["AccessTokenValidity"], client["IdTokenValidity"], client["RefreshTokenValidity"]) == (15, 20, 2)


def test_stage_and_route_throttling_are_options(render):
    orders = ServiceSpec(name="orders", path="/shop/orders/{orderId}", throttle_rate_limit=5, throttle_burst_limit=10)
    template = render(StackConfig(services=(orders,), throttle_rate_limit=30, throttle_burst_limit=60))
    stage = template["Resources"]["ApiStage"]
    assert stage["Properties"]["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 60, "ThrottlingRateLimit": 30}
    assert stage["Properties"]["RouteSettings"] == {
        "GET /shop/orders/{orderId}": {"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5},
        "PUT /shop/orders/{orderId}": {"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5},
    }
    assert sorted(stage["DependsOn"]) == ["OrdersGetRoute", "OrdersPutRoute"]


@pytest.mark.integration
def test_checkov_finds_no_failed_check_in_any_variant_example_or_domain_shape(render, tmp_path):
    # One scan of them all: checkov's start is seconds of CPU, paid once.
    scanned = {**{f"{name}.json": config for name, config in VARIANTS.items()},
               **{f"example-{name}.json": load_config(path) for name, path in EXAMPLES.items()},
               **{f"domain-{name}.json": StackConfig(domain=spec) for name, spec in DOMAIN_SHAPES.items()},
               "page-with-key.json": PAGE_WITH_KEY}
    for name, config in scanned.items():
        (tmp_path / name).write_text(json.dumps(render(config)))
    report = checkov_report(tmp_path)
    results = report["results"]
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in results["failed_checks"]]
    assert failed == [], failed
    passed = Counter(Path(c["file_path"]).name for c in results["passed_checks"])
    assert {name: passed[name] > 60 for name in scanned} == dict.fromkeys(scanned, True), \
        "checkov ran fewer checks than expected"
    assert report["summary"]["resource_count"] >= 68 * len(scanned)
    for skipped in results["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "")) > 40, skipped["check_id"]


# Both of bc_jsonpath_ng's parsers, on an expression of the kind checkov's graph checks use, with
# PLY's table builder made to fail: they parse only if they read the tables the Makefile wrote.
_PARSE_WITHOUT_BUILDING = """
import ply.yacc
def refuse(*args, **kwargs):
    raise AssertionError("PLY built the parse tables instead of reading them")
ply.yacc.LRGeneratedTable.__init__ = refuse
from bc_jsonpath_ng import parse as base_parse
from bc_jsonpath_ng.ext import parse as extended_parse
print(base_parse("Properties.Tags[*].Key"), extended_parse("DistributionConfig.Origins[?(@.Id != 'x')]"))
"""


@pytest.mark.integration
def test_checkovs_jsonpath_parsers_read_the_tables_the_makefile_wrote(tmp_path):
    # scripts/checkov_parse_tables.py: without them each parse builds the tables again (~48 ms).
    parsed = subprocess.run([str(CHECKOV.with_name("python")), "-c", _PARSE_WITHOUT_BUILDING], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert parsed.returncode == 0, parsed.stderr
    assert "Tags" in parsed.stdout and "Origins" in parsed.stdout


# Every resource type that carries a policy, and the test above or below that checks it.
POLICY_BEARING = {
    "AWS::IAM::Role", "AWS::EC2::VPCEndpoint", "AWS::KMS::Key", "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy",
}


def holds_policy_document(value) -> bool:
    """True if an IAM-style document (a mapping with a Statement list) is anywhere inside ``value``."""
    if isinstance(value, dict):
        return "Statement" in value or any(holds_policy_document(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_policy_document(v) for v in value)
    return False


def test_every_policy_in_the_template_is_one_these_tests_check(variant):
    variant_name, template = variant
    bearing = {name for name, r in template["Resources"].items() if holds_policy_document(r.get("Properties", {}))}
    assert bearing
    for name in bearing:
        assert template["Resources"][name]["Type"] in POLICY_BEARING, f"{variant_name}/{name}: a policy no test checks"


def test_topic_policies_admit_only_this_stacks_alarms(variant):
    _, template = variant
    for topic_policy in resources(template, "AWS::SNS::TopicPolicy").values():
        for statement in topic_policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
            assert statement["Action"] == ["sns:Publish"]
            assert set(statement["Condition"]) == {"StringEquals", "ArnEquals"}
            # Each alarm exactly: alarm:<stack>-* would admit the alarms of a stack <stack>-other.
            arns = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
            assert arns and all(":alarm:${AWS::StackName}-" in a["Fn::Sub"] and "*" not in a["Fn::Sub"] for a in arns)


def test_endpoint_policy_names_tables_not_star_and_only_this_account(variant):
    _, template = variant
    for endpoint in resources(template, "AWS::EC2::VPCEndpoint").values():
        for statement in endpoint["Properties"]["PolicyDocument"]["Statement"]:
            # The item store's tables: item reads and writes; your own tables: their actions, on the
            # tables and their indexes (a table's ARN + /index/*), never another resource.
            assert statement["Action"] in (
                [str(a.JSONrepr()) for a in ITEM_STORE_ACTIONS], [str(a.JSONrepr()) for a in OWN_TABLE_ACTIONS]
            )
            for arn in statement["Resource"]:
                assert "Fn::GetAtt" in arn or (arn["Fn::Sub"].endswith(".Arn}/index/*")), arn
            assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": {"Fn::Sub": "${AWS::AccountId}"}}}


def test_the_flow_log_role_has_what_aws_documents_for_delivery_to_cloudwatch_logs(render):
    # "IAM role for publishing flow logs to CloudWatch Logs" (Amazon VPC User Guide): five actions,
    # and the trust policy's confused-deputy guard on the source account and the flow log's ARN.
    role = render(HARDENED)["Resources"]["FlowLogRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["vpc-flow-logs.amazonaws.com"]}
    assert trust["Condition"] == {
        "ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*"}},
        "StringEquals": {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}},
    }
    write, describe = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert set(write["Action"]) == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}
    assert write["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${FlowLogGroup}"},
        {"Fn::GetAtt": ["FlowLogGroup", "Arn"]},
    ]
    assert describe == {
        "Action": ["logs:DescribeLogGroups"], "Effect": "Allow",
        "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}],
    }
