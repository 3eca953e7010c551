"""The stack's own image build, as the template wires it: the pinned archive digest reaches the
build project's environment and the custom resource's properties, the task definitions run the
built image by digest exactly when their image parameter is empty, and the build exists exactly
when some service needs it."""

from __future__ import annotations

import itertools
import json

import pytest

from generator import ServiceSpec, StackConfig
from generator.template.image import (
    ANSWER_TIMEOUT_SECONDS,
    BUILD_COMPUTE_TYPE,
    BUILD_TIMEOUT_MINUTES,
    CHECK_AFTER_MINUTES,
    CHECK_MARGIN_MINUTES,
    FUNCTION_TIMEOUT_SECONDS,
    MAX_OR_CONDITIONS,
    QUEUED_TIMEOUT_MINUTES,
    SCHEDULE_PREFIX,
    SERVICE_TIMEOUT_SECONDS,
    build_script,
    image_tag,
)
from generator.tooling.assets import BUILT_DOCKERFILE, SOURCE_ARCHIVE, pinned_digests, sha256, source_archive
from tests.support.templates import VARIANTS, cfn_lint

BUILD_RESOURCES = {
    "ImageRepository": "AWS::ECR::Repository",
    "ImageBuildLogGroup": "AWS::Logs::LogGroup",
    "ImageBuildRole": "AWS::IAM::Role",
    "ImageBuildProject": "AWS::CodeBuild::Project",
    "ImageBuildFunctionLogGroup": "AWS::Logs::LogGroup",
    "ImageBuildFunctionRole": "AWS::IAM::Role",
    "ImageBuildFunction": "AWS::Lambda::Function",
    "ImageBuildFunctionInvokeConfig": "AWS::Lambda::EventInvokeConfig",
    "ImageBuildAnswerFunctionLogGroup": "AWS::Logs::LogGroup",
    "ImageBuildAnswerFunctionRole": "AWS::IAM::Role",
    "ImageBuildAnswerFunction": "AWS::Lambda::Function",
    "ImageBuildAnswerFunctionInvokeConfig": "AWS::Lambda::EventInvokeConfig",
    "ImageBuildDoneRule": "AWS::Events::Rule",
    "ImageBuildAnswerPermission": "AWS::Lambda::Permission",
    "ImageBuildCheckRole": "AWS::IAM::Role",
    "ImageBuild": "Custom::ImageBuild",
}
BUILT_IMAGE = {"Fn::Sub": "${ImageRepository.RepositoryUri}@${ImageBuild.Digest}"}


def evaluate(conditions: dict, expression, parameters: dict[str, str]) -> bool:
    """What CloudFormation makes of a condition, for the functions these templates use."""
    if "Condition" in expression:
        return evaluate(conditions, conditions[expression["Condition"]], parameters)
    [(function, arguments)] = expression.items()
    if function == "Fn::Or":
        assert 2 <= len(arguments) <= MAX_OR_CONDITIONS, "Fn::Or takes 2 to 10 conditions"
        return any(evaluate(conditions, argument, parameters) for argument in arguments)
    if function == "Fn::Equals":
        left, right = (parameters[a["Ref"]] if isinstance(a, dict) else a for a in arguments)
        return left == right
    raise AssertionError(f"unexpected condition function {function}")


def services(count: int) -> tuple[ServiceSpec, ...]:
    return tuple(ServiceSpec(name=f"svc{n}", path=f"/svc{n}/items/{{itemId}}") for n in range(count))


def build_condition(template: dict) -> str:
    return template["Resources"]["ImageBuild"]["Condition"]


def test_the_pinned_archive_digest_is_the_archive_s_and_reaches_project_environment_and_resource(
    default_template, release
):
    digest = pinned_digests()[SOURCE_ARCHIVE]
    assert digest == sha256(source_archive())
    resources_ = default_template["Resources"]
    environment = {v["Name"]: v["Value"] for v in
                   resources_["ImageBuildProject"]["Properties"]["Environment"]["EnvironmentVariables"]}
    assert environment == {
        "ARCHIVE_SHA256": digest, "ARCHIVE_URL": release.url(SOURCE_ARCHIVE), "IMAGE_TAG": image_tag(digest),
        "REPOSITORY_URI": {"Fn::GetAtt": ["ImageRepository", "RepositoryUri"]}, "DOCKERFILE": BUILT_DOCKERFILE,
        "ARCHITECTURE": "X86_64",
    }
    build = resources_["ImageBuild"]
    assert build["Type"] == "Custom::ImageBuild"
    assert build["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": ["ImageBuildFunction", "Arn"]},
        "ServiceTimeout": SERVICE_TIMEOUT_SECONDS,
        "ProjectName": {"Ref": "ImageBuildProject"},
        "RepositoryName": {"Ref": "ImageRepository"},
        "ArchiveUrl": release.url(SOURCE_ARCHIVE),
        "ArchiveSha256": digest,
        "ImageTag": image_tag(digest),
        "CheckFunctionArn": {"Fn::GetAtt": ["ImageBuildAnswerFunction", "Arn"]},
        "CheckRoleArn": {"Fn::GetAtt": ["ImageBuildCheckRole", "Arn"]},
        "CheckAfterMinutes": QUEUED_TIMEOUT_MINUTES + BUILD_TIMEOUT_MINUTES + CHECK_MARGIN_MINUTES,
        "CheckSchedulePrefix": SCHEDULE_PREFIX,
    }
    assert release.url(SOURCE_ARCHIVE).startswith("https://")


def test_the_lost_event_fallback_checks_after_the_build_must_have_ended_and_within_the_wait(default_template):
    """The schedule fires once CodeBuild has ended the build (queued + build timeouts), and before
    CloudFormation's own ServiceTimeout; only the scheduler may invoke only the answering function."""
    assert QUEUED_TIMEOUT_MINUTES + BUILD_TIMEOUT_MINUTES < CHECK_AFTER_MINUTES < SERVICE_TIMEOUT_SECONDS / 60
    resources_ = default_template["Resources"]
    role = resources_["ImageBuildCheckRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["scheduler.amazonaws.com"]}
    [invoke] = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert (invoke["Action"], invoke["Resource"]) == (
        ["lambda:InvokeFunction"], [{"Fn::GetAtt": ["ImageBuildAnswerFunction", "Arn"]}])
    statements = resources_["ImageBuildFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [create] = [s for s in statements if s["Action"] == ["scheduler:CreateSchedule"]]
    assert create["Resource"][0]["Fn::Sub"].endswith(f":schedule/default/{SCHEDULE_PREFIX}*")
    [passing] = [s for s in statements if s["Action"] == ["iam:PassRole"]]
    assert passing["Resource"] == [{"Fn::GetAtt": ["ImageBuildCheckRole", "Arn"]}]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_task_runs_the_built_image_by_digest_exactly_when_its_image_parameter_is_empty(render, variant):
    template = render(VARIANTS[variant])
    for spec in VARIANTS[variant].services:
        name = spec.name.capitalize()
        [container] = template["Resources"][f"{name}TaskDefinition"]["Properties"]["ContainerDefinitions"]
        if not spec.is_item_store:
            # Your own service always runs its own image: the stack builds only the item store's.
            assert container["Image"] == {"Ref": f"{name}Image"}
            assert f"{name}UsesBuiltImage" not in template.get("Conditions", {})
            continue
        assert container["Image"] == {"Fn::If": [f"{name}UsesBuiltImage", BUILT_IMAGE, {"Ref": f"{name}Image"}]}
        assert template["Conditions"][f"{name}UsesBuiltImage"] == {"Fn::Equals": [{"Ref": f"{name}Image"}, ""]}


@pytest.mark.parametrize("count", [1, 2, 3])
def test_the_build_exists_exactly_when_some_service_has_no_image(render, count):
    template = render(StackConfig(services=services(count)))
    condition = build_condition(template)
    assert {name: r["Type"] for name, r in template["Resources"].items() if r.get("Condition") == condition} \
        == BUILD_RESOURCES
    names = [f"Svc{n}Image" for n in range(count)]
    for images in itertools.product(["", "example.org/me/app:1"], repeat=count):
        parameters = dict(zip(names, images, strict=True))
        expected = "" in images
        assert evaluate(template["Conditions"], {"Condition": condition}, parameters) is expected, parameters
    if count == 1:
        assert condition == "Svc0UsesBuiltImage" and "AnyServiceUsesBuiltImage" not in template["Conditions"]


def test_more_services_than_fn_or_takes_are_grouped_in_nested_ors_of_at_most_ten(render):
    count = 23
    template = render(StackConfig(services=services(count)))
    assert build_condition(template) == "AnyServiceUsesBuiltImage"
    names = [f"Svc{n}Image" for n in range(count)]
    everyone_set = dict.fromkeys(names, "example.org/me/app:1")
    assert not evaluate(template["Conditions"], {"Condition": "AnyServiceUsesBuiltImage"}, everyone_set)
    for name in names:  # any one service alone needs the build
        one_empty = {**everyone_set, name: ""}
        assert evaluate(template["Conditions"], {"Condition": "AnyServiceUsesBuiltImage"}, one_empty), name


@pytest.mark.integration
def test_a_stack_of_eleven_services_lints_clean(render, tmp_path):
    path = tmp_path / "eleven.json"
    path.write_text(json.dumps(render(StackConfig(services=services(11)))))
    assert cfn_lint(path) == []


def test_the_repository_scans_keeps_tags_immutable_expires_old_images_and_empties_on_delete(default_template):
    repository = default_template["Resources"]["ImageRepository"]["Properties"]
    assert repository["EmptyOnDelete"] is True
    assert repository["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert repository["ImageTagMutability"] == "IMMUTABLE"
    assert repository["EncryptionConfiguration"] == {"EncryptionType": "AES256"}
    rules = json.loads(repository["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert [r["selection"]["tagStatus"] for r in sorted(rules, key=lambda r: r["rulePriority"])] == ["untagged", "any"]
    assert all(r["action"] == {"type": "expire"} for r in rules)


def test_with_the_stack_key_the_repository_and_build_logs_use_it(render):
    template = render(VARIANTS["hardened"])
    assert template["Resources"]["ImageRepository"]["Properties"]["EncryptionConfiguration"] == {
        "EncryptionType": "KMS", "KmsKey": {"Fn::GetAtt": ["StackKey", "Arn"]},
    }
    for group in ("ImageBuildLogGroup", "ImageBuildFunctionLogGroup"):
        assert template["Resources"][group]["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["StackKey", "Arn"]}


def test_the_project_builds_docker_images_on_a_small_machine_within_bounds_and_logs_to_its_group(default_template):
    project = default_template["Resources"]["ImageBuildProject"]["Properties"]
    assert project["Source"]["Type"] == "NO_SOURCE" and project["Artifacts"] == {"Type": "NO_ARTIFACTS"}
    assert build_script() in json.loads(project["Source"]["BuildSpec"])["phases"]["build"]["commands"][0]
    environment = project["Environment"]
    assert (environment["PrivilegedMode"], environment["ComputeType"]) == (True, BUILD_COMPUTE_TYPE)
    assert environment["Image"].startswith("aws/codebuild/")
    assert project["LogsConfig"] == {"CloudWatchLogs": {"GroupName": {"Ref": "ImageBuildLogGroup"}, "Status": "ENABLED"}}
    assert project["TimeoutInMinutes"] == BUILD_TIMEOUT_MINUTES and project["QueuedTimeoutInMinutes"] == 5
    assert project["ServiceRole"] == {"Fn::GetAtt": ["ImageBuildRole", "Arn"]}


def test_a_queued_and_full_length_build_still_answers_within_the_custom_resource_s_service_timeout(
    default_template
):
    resources_ = default_template["Resources"]
    # CloudFormation's maximum wait for a custom resource ("AWS::CloudFormation::CustomResource").
    assert resources_["ImageBuild"]["Properties"]["ServiceTimeout"] == SERVICE_TIMEOUT_SECONDS == 3600
    project = resources_["ImageBuildProject"]["Properties"]
    longest_build = (project["QueuedTimeoutInMinutes"] + project["TimeoutInMinutes"]) * 60
    assert (QUEUED_TIMEOUT_MINUTES, BUILD_TIMEOUT_MINUTES) == (5, 50)
    assert longest_build + ANSWER_TIMEOUT_SECONDS < SERVICE_TIMEOUT_SECONDS
    starting = resources_["ImageBuildFunction"]["Properties"]
    answering = resources_["ImageBuildAnswerFunction"]["Properties"]
    assert (starting["Timeout"], starting["Handler"]) == (FUNCTION_TIMEOUT_SECONDS, "index.handler")
    assert (answering["Timeout"], answering["Handler"]) == (ANSWER_TIMEOUT_SECONDS, "index.answer")
    assert starting["Code"] == answering["Code"]  # one module, two entry points
    compile(starting["Code"]["ZipFile"], "index.py", "exec")


def test_the_build_s_end_reaches_the_answering_function_through_an_eventbridge_rule(default_template):
    resources_ = default_template["Resources"]
    rule = resources_["ImageBuildDoneRule"]["Properties"]
    # The event CodeBuild sends when a build changes state ("Build notifications input format reference").
    assert rule["EventPattern"] == {
        "source": ["aws.codebuild"], "detail-type": ["CodeBuild Build State Change"],
        "detail": {"project-name": [{"Ref": "ImageBuildProject"}], "build-status": [{"anything-but": ["IN_PROGRESS"]}]},
    }
    assert rule["State"] == "ENABLED"
    assert rule["Targets"] == [{"Arn": {"Fn::GetAtt": ["ImageBuildAnswerFunction", "Arn"]}, "Id": "AnswerCloudFormation"}]
    permission = resources_["ImageBuildAnswerPermission"]["Properties"]
    assert permission == {
        "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "ImageBuildAnswerFunction"},
        "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["ImageBuildDoneRule", "Arn"]},
    }


def test_lambda_never_retries_the_custom_resource_s_function_and_retries_the_idempotent_answer(default_template):
    resources_ = default_template["Resources"]
    starting = resources_["ImageBuildFunctionInvokeConfig"]["Properties"]
    answering = resources_["ImageBuildAnswerFunctionInvokeConfig"]["Properties"]
    assert starting == {"FunctionName": {"Ref": "ImageBuildFunction"}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 0}
    assert answering["MaximumRetryAttempts"] == 2
    # Retries are off, and the rule can answer, before CloudFormation's first event.
    assert resources_["ImageBuild"]["DependsOn"] == [
        "ImageBuildFunctionInvokeConfig", "ImageBuildAnswerFunctionInvokeConfig", "ImageBuildDoneRule",
        "ImageBuildAnswerPermission",
    ]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_custom_resource_function_has_lambda_s_retries_off_before_its_first_event(render, variant):
    template = render(VARIANTS[variant])
    resources_ = template["Resources"]
    custom = {name: r for name, r in resources_.items() if r["Type"].startswith("Custom::")}
    assert custom
    for name, resource in custom.items():
        function = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
        config = f"{function}InvokeConfig"
        assert resources_[config]["Properties"]["MaximumRetryAttempts"] == 0, name
        assert resources_[config]["Properties"]["FunctionName"] == {"Ref": function}
        assert config in resource["DependsOn"], name


def statements(template: dict, role: str) -> list[dict]:
    return template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def test_the_build_role_reaches_only_its_log_group_and_its_repository(default_template):
    by_resource = {json.dumps(s["Resource"]): s["Action"] for s in statements(default_template, "ImageBuildRole")}
    assert by_resource == {
        json.dumps([{"Fn::GetAtt": ["ImageBuildLogGroup", "Arn"]}]): ["logs:CreateLogStream", "logs:PutLogEvents"],
        json.dumps(["*"]): ["ecr:GetAuthorizationToken"],
        json.dumps([{"Fn::GetAtt": ["ImageRepository", "Arn"]}]): [
            "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
            "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
        ],
    }
    trust = default_template["Resources"]["ImageBuildRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": ["codebuild.amazonaws.com"]}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}


def test_the_function_role_runs_only_the_project_s_builds_and_reads_only_the_repository(default_template):
    by_resource = {json.dumps(s["Resource"]): s["Action"] for s in statements(default_template, "ImageBuildFunctionRole")}
    assert by_resource[json.dumps([{"Fn::GetAtt": ["ImageBuildProject", "Arn"]}])] == [
        "codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject", "codebuild:StartBuild", "codebuild:StopBuild",
    ]
    assert by_resource[json.dumps([{"Fn::GetAtt": ["ImageRepository", "Arn"]}])] == ["ecr:DescribeImages"]
    assert json.dumps(["*"]) not in by_resource


def test_the_answering_function_only_reads_the_project_s_builds_and_the_repository(default_template):
    by_resource = {json.dumps(s["Resource"]): s["Action"]
                   for s in statements(default_template, "ImageBuildAnswerFunctionRole")}
    assert by_resource == {
        json.dumps([{"Fn::GetAtt": ["ImageBuildAnswerFunctionLogGroup", "Arn"]}]): [
            "logs:CreateLogStream", "logs:PutLogEvents"],
        json.dumps([{"Fn::GetAtt": ["ImageBuildProject", "Arn"]}]): ["codebuild:BatchGetBuilds"],
        json.dumps([{"Fn::GetAtt": ["ImageRepository", "Arn"]}]): ["ecr:DescribeImages"],
    }


def test_no_default_names_an_image_outside_the_stack_but_a_configured_image_is_the_parameter_default(render):
    spec = ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", image="example.org/me/food:7")
    template = render(StackConfig(services=(spec,)))
    assert template["Parameters"]["FoodstoreImage"]["Default"] == "example.org/me/food:7"
    text = json.dumps(render())
    assert "public.ecr.aws/ecsapi" not in text and "docker.io" not in text
