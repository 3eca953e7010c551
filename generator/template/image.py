"""The stack builds its own item-store image: an ECR repository it owns, a CodeBuild project that
builds the release's source archive into it, and a custom resource that runs that build and hands
back the pushed image's digest.

Nothing is built for a service whose image parameter is set. Each service gets the condition
``<Name>UsesBuiltImage`` (its image parameter is empty, the default); everything here exists only
when at least one service uses the built image (:attr:`ImageBuild.condition`). Every such service
runs the same image, by digest: ``<repository uri>@sha256:...``.

The build's completion answers CloudFormation, not the function that starts it: an EventBridge rule
on the project's "CodeBuild Build State Change" events invokes the answering function
(``ImageBuildAnswerFunction``, the same module's ``answer``), so a build may take as long as the
project's timeout allows, and the custom resource's ``ServiceTimeout`` bounds the whole wait (see
``generator/runs_in_aws/image_build.py`` for how duplicate events are handled).

The build trusts nothing it downloads: the archive's SHA-256 is pinned in the template (from
``generator/model/release_manifest.json``), in the project's environment and as a property of the custom
resource, and the build (``generator/runs_in_aws/build.sh``) refuses an archive whose digest differs.
"""

from __future__ import annotations

import json
from typing import assert_never

from troposphere import AWSObject, Equals, GetAtt, Or, Ref, Sub, Template, awslambda, codebuild, ecr, events, kms
from troposphere.validators import integer

from generator.model.assets import BUILT_DOCKERFILE, SOURCE_ARCHIVE, pinned_digests
from generator.model.config import CpuArchitecture, StackConfig
from generator.model.package_data import package_file
from generator.model.records import dataclass
from generator.model.release import ReleaseSettings
from generator.template import iam as policies
from generator.template.checkov import ECR_WITHOUT_CMK, skip_checks
from generator.template.functions import add_function
from generator.template.logs import add_log_group
from generator.template.names import logical_id

NAME = "ImageBuild"
BUILD_SCRIPT = "build.sh"
# The heredoc delimiter that carries build.sh into the buildspec; the script must not contain it.
SCRIPT_DELIMITER = "ECSAPI_BUILD_SH"
# Fn::Or takes from 2 to 10 conditions ("Condition functions", AWS CloudFormation User Guide).
MAX_OR_CONDITIONS = 10
# The starting function looks for a build of this request, starts one and returns: seconds. The
# answering function reads the ended build and the image's digest and PUTs the answer.
FUNCTION_TIMEOUT_SECONDS = 120
ANSWER_FUNCTION = "ImageBuildAnswer"
ANSWER_TIMEOUT_SECONDS = 60
# Lambda retries a failed answer twice, a minute and then two minutes later ("How Lambda handles
# errors and retries with asynchronous invocation"): answering again is harmless, and it is how an
# answer that S3 or a not-yet-ended build refused gets another chance.
ANSWER_RETRIES = 2
# CloudFormation fails a custom resource that has not answered within ServiceTimeout (1 to 3600
# seconds, default 3600: "AWS::CloudFormation::CustomResource", AWS CloudFormation Template
# Reference): the longest it allows, the backstop should the build's completion never be heard.
SERVICE_TIMEOUT_SECONDS = 3600
# A build may wait in the queue and then run within these (CodeBuild accepts 5 to 480 queued and 5
# to 2160 build minutes: "AWS::CodeBuild::Project"), and still end early enough in the hour for its
# completion to answer: 5 + 50 minutes, plus the answer, is under SERVICE_TIMEOUT_SECONDS.
QUEUED_TIMEOUT_MINUTES = 5
BUILD_TIMEOUT_MINUTES = 50
# The fallback for a lost completion event (generator/runs_in_aws/image_build.py, schedule_check):
# once the queue and build timeouts have passed, CodeBuild has ended the build; this margin covers
# the build's own stop and the schedule's start. 5 + 50 + 3 minutes is still within the hour.
CHECK_MARGIN_MINUTES = 3
CHECK_AFTER_MINUTES = QUEUED_TIMEOUT_MINUTES + BUILD_TIMEOUT_MINUTES + CHECK_MARGIN_MINUTES
# The names of those schedules: the build function may create only these, and is told the prefix.
SCHEDULE_PREFIX = "ecsapi-build-"
# A CodeBuild-managed Amazon Linux 2023 image with Docker; privileged mode lets it run the Docker
# daemon ("Docker images provided by CodeBuild", AWS CodeBuild User Guide). 6.0 is the newest
# Amazon Linux x86_64 standard image: aws/aws-codebuild-docker-images lists it among the images
# "actively maintained by AWS CodeBuild, and listed in the CodeBuild console" and ships its
# definition (al/x86_64/standard/6.0, Amazon Linux 2023, Docker 28.5.2) in release 26.03.25
# (April 2026). 5.0 is still maintained, but "a supported image is the latest major version of an
# image available in CodeBuild", and CodeBuild caches supported images on its hosts, which
# shortens provisioning ("Docker images provided by CodeBuild"). The small compute type (3 GB, 2
# vCPUs) builds a slim Python image in a few minutes.
BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:6.0"
# EventBridge's event for a build that changed state ("Build notifications input format
# reference", AWS CodeBuild User Guide); every status but IN_PROGRESS means it ended.
BUILD_STATE_CHANGE = "CodeBuild Build State Change"
CODEBUILD_SOURCE = "aws.codebuild"
EVENTS_PRINCIPAL = "events.amazonaws.com"
BUILD_COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
# The image is built natively on the tasks' architecture (no emulation): ARM64 builds run in an
# ARM_CONTAINER environment on the Amazon Linux 2023 aarch64 standard image, which takes the small
# compute type too ("Docker images provided by CodeBuild" and "Build environment compute modes and
# types", AWS CodeBuild User Guide; aws/aws-codebuild-docker-images lists al/aarch64/standard/3.0).
ARM_BUILD_IMAGE = "aws/codebuild/amazonlinux-aarch64-standard:3.0"
# Images kept in the repository: the one in use is always among the newest, older ones serve a
# rollback to an earlier release. Untagged layers left by an interrupted push go after a day.
KEEP_IMAGES = 10


class ImageBuildResource(AWSObject):
    """``Custom::ImageBuild``: runs generator/runs_in_aws/image_build.py; ``Fn::GetAtt`` reads ``Digest``."""

    resource_type = "Custom::ImageBuild"
    props = {
        "ServiceToken": (str, True),
        "ServiceTimeout": (integer, False),
        "ProjectName": (str, True),
        "RepositoryName": (str, True),
        "ArchiveUrl": (str, True),
        "ArchiveSha256": (str, True),
        "ImageTag": (str, True),
        "CheckFunctionArn": (str, False),
        "CheckRoleArn": (str, False),
        "CheckAfterMinutes": (integer, False),
        "CheckSchedulePrefix": (str, False),
    }


@dataclass(frozen=True)
class ImageBuild:
    """Handles to the build, for the services' task definitions."""

    condition: str
    """Name of the condition under which the repository, project and build exist."""
    repository: ecr.Repository
    project: codebuild.Project
    build: ImageBuildResource
    function: awslambda.Function
    """The function that runs the build: the dashboard shows its errors."""
    done_rule: events.Rule
    """The EventBridge rule that hands each ended build to the answering function."""

    def image_uri(self) -> Sub:
        """``<repository uri>@sha256:<digest>``: the pushed image, by digest."""
        return Sub(f"${{{self.repository.title}.RepositoryUri}}@${{{self.build.title}.Digest}}")


def uses_built_image(service_name: str) -> str:
    """The name of the condition that holds when the service's image parameter is empty."""
    return logical_id(service_name, "UsesBuiltImage")


def image_tag(archive_sha256: str, architecture: CpuArchitecture = CpuArchitecture.X86_64) -> str:
    """The tag a build pushes: the archive's digest (and the architecture when not x86), so one
    archive is built once per architecture, and switching architecture builds a new image instead
    of reusing the other one's (image_build.py reuses an image already tagged)."""
    match architecture:
        case CpuArchitecture.X86_64:
            return f"source-{archive_sha256}"
        case CpuArchitecture.ARM64:
            return f"source-arm64-{archive_sha256}"
        case _:
            assert_never(architecture)


def build_environment(architecture: CpuArchitecture) -> tuple[str, str]:
    """(CodeBuild environment type, image) that builds natively for ``architecture``."""
    match architecture:
        case CpuArchitecture.X86_64:
            return "LINUX_CONTAINER", BUILD_IMAGE
        case CpuArchitecture.ARM64:
            return "ARM_CONTAINER", ARM_BUILD_IMAGE
        case _:
            assert_never(architecture)


def build_script() -> str:
    """``generator/runs_in_aws/build.sh`` as it ships in the package."""
    return package_file("generator.runs_in_aws", BUILD_SCRIPT).read_text(encoding="utf-8")


def buildspec(script: str | None = None) -> str:
    """The project's inline buildspec: the build phase writes build.sh from a quoted heredoc (taken
    as it is, nothing expanded) and runs it with bash, so CodeBuild runs exactly the checked file."""
    script = build_script() if script is None else script
    if SCRIPT_DELIMITER in script:
        raise ValueError(f"{BUILD_SCRIPT} must not contain the heredoc delimiter {SCRIPT_DELIMITER}")
    if not script.endswith("\n"):
        script += "\n"
    document = {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "build": {
                "commands": [
                    f"cat > {BUILD_SCRIPT} <<'{SCRIPT_DELIMITER}'\n{script}{SCRIPT_DELIMITER}",
                    f"bash {BUILD_SCRIPT}",
                ]
            }
        },
    }
    # JSON is YAML, which CodeBuild reads; sorted keys keep the template stable.
    return json.dumps(document, indent=2, sort_keys=True)


def _lifecycle_policy() -> str:
    """Expire untagged images after a day and keep the newest KEEP_IMAGES images. A rule that
    selects ``any`` tag status must have the lowest priority ("Lifecycle policy properties", Amazon
    ECR User Guide)."""
    rules = [
        {
            "rulePriority": 1,
            "description": "Remove untagged layers an interrupted push left behind",
            "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                          "countNumber": 1},
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"Keep the {KEEP_IMAGES} newest images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": KEEP_IMAGES},
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules}, sort_keys=True)


def _any_of(conditions: list) -> Or:
    """``Fn::Or`` over any number of conditions, nested in groups of at most ten."""
    if len(conditions) <= MAX_OR_CONDITIONS:
        return Or(*conditions)
    groups = [conditions[i : i + MAX_OR_CONDITIONS] for i in range(0, len(conditions), MAX_OR_CONDITIONS)]
    return _any_of([Or(*group) if len(group) > 1 else group[0] for group in groups])


def add_build_conditions(template: Template, image_parameters: dict[str, object]) -> str:
    """``<Name>UsesBuiltImage`` per service and the condition under which the build exists: the one
    service's own, or ``AnyServiceUsesBuiltImage``. Returns the latter's name."""
    names = []
    for service_name, parameter in image_parameters.items():
        name = uses_built_image(service_name)
        template.add_condition(name, Equals(Ref(parameter), ""))
        names.append(name)
    if len(names) == 1:
        return names[0]
    template.add_condition("AnyServiceUsesBuiltImage", _any_of([{"Condition": name} for name in names]))
    return "AnyServiceUsesBuiltImage"


def add_image_build(
    template: Template,
    config: StackConfig,
    release: ReleaseSettings,
    key: kms.Key | None,
    condition: str,
) -> ImageBuild:
    """The repository, the build project and its log group and role, the build function and the
    ``ImageBuild`` custom resource, all under ``condition``."""
    archive_sha256 = pinned_digests()[SOURCE_ARCHIVE]
    archive_url = release.url(SOURCE_ARCHIVE)
    tag = image_tag(archive_sha256, config.cpu_architecture)
    environment_type, build_image = build_environment(config.cpu_architecture)

    encryption = (
        ecr.EncryptionConfiguration(EncryptionType="KMS", KmsKey=GetAtt(key, "Arn"))
        if key is not None
        else ecr.EncryptionConfiguration(EncryptionType="AES256")
    )
    repository = template.add_resource(
        ecr.Repository(
            "ImageRepository",
            Condition=condition,
            # Deleting the stack deletes the repository with its images ("AWS::ECR::Repository",
            # AWS CloudFormation Template Reference: EmptyOnDelete).
            EmptyOnDelete=True,
            ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=True),
            ImageTagMutability="IMMUTABLE",
            EncryptionConfiguration=encryption,
            LifecyclePolicy=ecr.LifecyclePolicy(LifecyclePolicyText=_lifecycle_policy()),
        )
    )
    skip_checks(repository, *([] if key is not None else [ECR_WITHOUT_CMK]))

    log_group = add_log_group(template, config, key, "ImageBuildLogGroup", condition=condition)
    role = template.add_resource(
        policies.role(
            "ImageBuildRole",
            policies.codebuild_trust(),
            "build-and-push-one-image",
            policies.write_log_streams(log_group),
            policies.registry_login(),
            policies.push_images(repository),
            condition=condition,
        )
    )

    environment = {
        "ARCHITECTURE": config.cpu_architecture.value,
        "ARCHIVE_SHA256": archive_sha256,
        "ARCHIVE_URL": archive_url,
        "DOCKERFILE": BUILT_DOCKERFILE,
        "IMAGE_TAG": tag,
        "REPOSITORY_URI": GetAtt(repository, "RepositoryUri"),
    }
    project = template.add_resource(
        codebuild.Project(
            "ImageBuildProject",
            Condition=condition,
            Description="Builds the item-store image from the release's source archive (ecsapi)",
            ServiceRole=GetAtt(role, "Arn"),
            Source=codebuild.Source(Type="NO_SOURCE", BuildSpec=buildspec()),
            Artifacts=codebuild.Artifacts(Type="NO_ARTIFACTS"),
            Environment=codebuild.Environment(
                Type=environment_type,
                ComputeType=BUILD_COMPUTE_TYPE,
                Image=build_image,
                PrivilegedMode=True,
                EnvironmentVariables=[
                    codebuild.EnvironmentVariable(Name=name, Type="PLAINTEXT", Value=environment[name])
                    for name in sorted(environment)
                ],
            ),
            LogsConfig=codebuild.LogsConfig(
                CloudWatchLogs=codebuild.CloudWatchLogs(Status="ENABLED", GroupName=Ref(log_group)),
            ),
            TimeoutInMinutes=BUILD_TIMEOUT_MINUTES,
            QueuedTimeoutInMinutes=QUEUED_TIMEOUT_MINUTES,
        )
    )

    answering = add_function(
        template, config, key, ANSWER_FUNCTION, "image_build",
        [policies.read_builds(project), policies.describe_images(repository)],
        timeout_seconds=ANSWER_TIMEOUT_SECONDS, entry_point="answer", retry_attempts=ANSWER_RETRIES,
        condition=condition,
    )
    check_role = template.add_resource(policies.role(
        "ImageBuildCheckRole", policies.scheduler_trust(), "invoke-answer",
        policies.invoke_function(answering.function), condition=condition,
    ))
    function = add_function(
        template, config, key, NAME, "image_build",
        [policies.run_builds(project), policies.describe_images(repository),
         policies.create_one_off_schedules(SCHEDULE_PREFIX), policies.pass_role_to_scheduler(check_role)],
        timeout_seconds=FUNCTION_TIMEOUT_SECONDS, condition=condition,
    )
    done_rule, permission = _add_done_rule(template, project, answering.function, condition)

    build = template.add_resource(
        ImageBuildResource(
            NAME,
            Condition=condition,
            ServiceToken=GetAtt(function.function, "Arn"),
            ServiceTimeout=SERVICE_TIMEOUT_SECONDS,
            ProjectName=Ref(project),
            RepositoryName=Ref(repository),
            ArchiveUrl=archive_url,
            ArchiveSha256=archive_sha256,
            ImageTag=tag,
            CheckFunctionArn=GetAtt(answering.function, "Arn"),
            CheckRoleArn=GetAtt(check_role, "Arn"),
            CheckAfterMinutes=CHECK_AFTER_MINUTES,
            CheckSchedulePrefix=SCHEDULE_PREFIX,
            # Both functions' retry settings, the rule and its permission exist before the first build.
            DependsOn=[*function.ready, *answering.ready, done_rule.title, permission.title],
        )
    )
    return ImageBuild(
        condition=condition, repository=repository, project=project, build=build, function=function.function,
        done_rule=done_rule,
    )


def done_pattern(project: codebuild.Project) -> dict:
    """The events of this project's builds that ended, whatever the outcome (EventBridge's
    ``anything-but`` matches every value but those listed: "Content filtering in Amazon
    EventBridge event patterns", Amazon EventBridge User Guide)."""
    return {
        "source": [CODEBUILD_SOURCE],
        "detail-type": [BUILD_STATE_CHANGE],
        "detail": {"project-name": [Ref(project)], "build-status": [{"anything-but": ["IN_PROGRESS"]}]},
    }


def _add_done_rule(
    template: Template, project: codebuild.Project, answering: awslambda.Function, condition: str
) -> tuple[events.Rule, awslambda.Permission]:
    """The rule that invokes the answering function with each ended build of ``project``, and the
    permission that lets EventBridge invoke it for this rule only."""
    rule = template.add_resource(
        events.Rule(
            "ImageBuildDoneRule",
            Condition=condition,
            Description="An image build of this stack ended: answer CloudFormation (ecsapi)",
            EventPattern=done_pattern(project),
            State="ENABLED",
            Targets=[events.Target(Id="AnswerCloudFormation", Arn=GetAtt(answering, "Arn"))],
        )
    )
    permission = template.add_resource(
        awslambda.Permission(
            "ImageBuildAnswerPermission",
            Condition=condition,
            Action="lambda:InvokeFunction",
            FunctionName=Ref(answering),
            Principal=EVENTS_PRINCIPAL,
            SourceArn=GetAtt(rule, "Arn"),
        )
    )
    return rule, permission
