"""Custom::ImageBuild: builds the item-store image in the stack's own account and reports its digest.

Two entry points, two functions of the template (generator/template/image.py):

- :func:`handler` (``ImageBuildFunction``, the custom resource's service token). Create and Update
  answer SUCCESS at once when the repository already holds the image tagged for this archive (the
  tag is derived from the archive digest and tags are immutable, so one archive is built once).
  Otherwise it starts the stack's CodeBuild project (generator/runs_in_aws/build.sh) and returns
  without answering: the build carries this request's answer address in its environment
  (:class:`AnswerTo`), and the build's completion answers. Delete stops a running build of the
  project; the images go with the repository (EmptyOnDelete).
- :func:`answer` (``ImageBuildAnswerFunction``). CodeBuild sends a "CodeBuild Build State Change"
  event to EventBridge when a build ends ("Build notifications input format reference", AWS
  CodeBuild User Guide); a rule of the stack invokes this function with it. It reads the build,
  and PUTs SUCCESS with the pushed image's digest, or FAILED with the failed phase and where the
  build's log is (a stopped or timed-out build fails too). So a build takes as long as CodeBuild
  needs, within the project's own timeout; the custom resource's ``ServiceTimeout`` is
  CloudFormation's backstop should the event never arrive (EventBridge delivers CodeBuild's events
  "best effort": "AWS CodeBuild events", Amazon EventBridge reference).

Duplicate events (Lambda may deliver an event more than once): :func:`handler` first looks for a
build of the project that carries this request's ``RequestId``. A running one means there is
nothing to do (its completion answers); a finished one is answered from at once, as :func:`answer`
would. Only then does it start a build, with the ``RequestId`` as StartBuild's idempotency token,
which CodeBuild honours for five minutes ("StartBuild", AWS CodeBuild API Reference): two
deliveries that both missed the lookup, or botocore retrying a StartBuild whose reply was lost,
get the one build. A repeated EventBridge event answers the same again, which changes nothing.

Clients come from ``boto3.client(...)`` with no endpoint argument: in Lambda they reach the
region's AWS endpoints; the tests point them at moto through ``AWS_ENDPOINT_URL``, which boto3
reads from the environment.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3

from .custom_resource import (
    RESPONSE_MARGIN_SECONDS,
    Deferred,
    Request,
    ResourceFailed,
    Result,
    aws_config,
    failed_physical_id,
    run,
    send_response,
)

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# CodeBuild build statuses ("Build", AWS CodeBuild API Reference): IN_PROGRESS until it ends.
RUNNING = "IN_PROGRESS"
SUCCEEDED = "SUCCEEDED"
# The newest builds of the project looked at for one already started for a request (only this
# resource starts builds, one per request, so the one sought is among the latest).
LOOKBACK_BUILDS = 20
# The build's environment variables that say whom its completion answers (see AnswerTo).
ANSWER_VARIABLES = {
    "response_url": "CFN_RESPONSE_URL",
    "stack_id": "CFN_STACK_ID",
    "request_id": "CFN_REQUEST_ID",
    "logical_id": "CFN_LOGICAL_RESOURCE_ID",
    "physical_id": "CFN_PHYSICAL_RESOURCE_ID",
    "failed_physical_id": "CFN_FAILED_RESOURCE_ID",
    "repository": "REPOSITORY_NAME",
    "image_tag": "IMAGE_TAG",
}


@dataclass(frozen=True)
class BuildRequest:
    """The resource's properties, checked: what to build and where to push it."""

    project: str
    repository: str
    archive_url: str
    archive_sha256: str
    image_tag: str

    @classmethod
    def of(cls, properties: dict) -> BuildRequest:
        names = {"project": "ProjectName", "repository": "RepositoryName", "archive_url": "ArchiveUrl",
                 "archive_sha256": "ArchiveSha256", "image_tag": "ImageTag"}
        missing = sorted(name for name in names.values() if not properties.get(name))
        if missing:
            raise ResourceFailed(f"properties missing: {', '.join(missing)}")
        request = cls(**{field: str(properties[name]) for field, name in names.items()})
        if not SHA256_HEX.match(request.archive_sha256):
            raise ResourceFailed(f"ArchiveSha256 {request.archive_sha256!r} is not 64 lower-case hex digits")
        return request

    @property
    def physical_id(self) -> str:
        """``<repository>:<tag>``: a new archive digest is a new tag, hence a new resource."""
        return f"{self.repository}:{self.image_tag}"

    def environment(self) -> dict[str, str]:
        """The build's environment for this event: the pinned archive and the tag to push."""
        return {"ARCHIVE_URL": self.archive_url, "ARCHIVE_SHA256": self.archive_sha256, "IMAGE_TAG": self.image_tag}


@dataclass(frozen=True)
class AnswerTo:
    """The CloudFormation request a build answers when it ends, kept in the build's environment.

    The response URL is a pre-signed S3 URL: whoever may read the project's builds
    (``codebuild:BatchGetBuilds``) can read it, and could answer this one request until it expires.
    """

    response_url: str
    stack_id: str
    request_id: str
    logical_id: str
    physical_id: str
    """The id a SUCCESS answer carries."""
    failed_physical_id: str
    """The id a FAILED answer carries."""
    repository: str
    image_tag: str

    @classmethod
    def of_request(cls, request: Request, build: BuildRequest) -> AnswerTo:
        return cls(
            response_url=request.response_url, stack_id=request.stack_id, request_id=request.request_id,
            logical_id=request.logical_id, physical_id=build.physical_id,
            failed_physical_id=failed_physical_id(request.logical_id, request.request_id, request.physical_id),
            repository=build.repository, image_tag=build.image_tag,
        )

    @classmethod
    def of_build(cls, build: dict) -> AnswerTo | None:
        """What ``build`` (BatchGetBuilds) answers, or None for a build this resource did not start."""
        return cls.of_variables((build.get("environment") or {}).get("environmentVariables"))

    @classmethod
    def of_event(cls, event: dict) -> AnswerTo | None:
        """The same from the build's state-change event, which carries the build's environment
        variables too (``additional-information.environment.environment-variables``: "Build
        notifications input format reference")."""
        information = (event.get("detail") or {}).get("additional-information") or {}
        return cls.of_variables((information.get("environment") or {}).get("environment-variables"))

    @classmethod
    def of_variables(cls, listed: list | None) -> AnswerTo | None:
        variables = {v.get("name"): v.get("value", "") for v in listed or [] if isinstance(v, dict)}
        values = {field: variables.get(name) for field, name in ANSWER_VARIABLES.items()}
        if not all(values.values()):
            return None
        return cls(**values)

    def variables(self) -> dict[str, str]:
        return {name: getattr(self, field) for field, name in ANSWER_VARIABLES.items()}

    def event(self) -> dict:
        """The parts of the CloudFormation event an answer needs."""
        return {"ResponseURL": self.response_url, "StackId": self.stack_id, "RequestId": self.request_id,
                "LogicalResourceId": self.logical_id}


def handler(event, context):
    run(event, context, build_image)


def client(service: str, seconds_left: float):
    """A client made now, whose calls fit ``seconds_left`` (aws_config): each step makes its own,
    so a later call is bounded by the time left then, not at the start."""
    return boto3.client(service, config=aws_config(seconds_left))


def build_image(request: Request) -> Result | Deferred:
    if request.request_type == "Delete":
        return _delete(request)
    build = BuildRequest.of(request.properties)
    digest = image_digest(client("ecr", request.seconds_left()), build.repository, build.image_tag)
    if digest is not None:
        LOG.info("%s already holds %s (%s): nothing to build", build.repository, build.image_tag, digest)
        return _result(build.physical_id, build.image_tag, digest)
    earlier = build_for_request(client("codebuild", request.seconds_left()), build.project, request.request_id)
    if earlier is not None:
        if earlier["buildStatus"] == RUNNING:
            return Deferred(f"build {earlier['id']} for this request is running; its completion answers")
        LOG.info("build %s for this request already ended (%s): answering from it", earlier["id"],
                 earlier["buildStatus"])
        return outcome(client("ecr", request.seconds_left()), earlier, AnswerTo.of_request(request, build))
    answer_to = AnswerTo.of_request(request, build)
    variables = {**build.environment(), **answer_to.variables()}
    started = client("codebuild", request.seconds_left()).start_build(
        projectName=build.project,
        environmentVariablesOverride=[
            {"name": name, "value": value, "type": "PLAINTEXT"} for name, value in sorted(variables.items())
        ],
        idempotencyToken=request.request_id,
    )
    build_id = started["build"]["id"]
    LOG.info("started build %s for archive %s", build_id, build.archive_sha256)
    schedule_check(request, build_id)
    return Deferred(f"build {build_id} answers when it ends")


# The fallback: EventBridge delivers the build's state-change event "on a best-effort basis"
# (Amazon EventBridge User Guide, "Events from AWS services"); without it CloudFormation would wait
# for the resource's whole ServiceTimeout. So a one-off EventBridge Scheduler schedule ("at(...)",
# deleted after it ran: ActionAfterCompletion DELETE, "Schedule types on EventBridge Scheduler")
# invokes the answering function with the build's id once the build must have ended
# (CheckAfterMinutes: the queue and build timeouts and a margin); answering twice changes nothing.


def schedule_check(request: Request, build_id: str) -> None:
    """Create the one-off schedule that asks CodeBuild for ``build_id``'s state and answers. A
    schedule that cannot be created is logged, not fatal: the build's own event still answers."""
    function_arn = str(request.properties.get("CheckFunctionArn") or "")
    role_arn = str(request.properties.get("CheckRoleArn") or "")
    if not function_arn or not role_arn:
        LOG.warning("no CheckFunctionArn/CheckRoleArn: only the build's event answers")
        return
    minutes = _minutes(request.properties.get("CheckAfterMinutes", "0"))
    at = datetime.now(UTC) + timedelta(minutes=minutes)
    name = schedule_name(str(request.properties.get("CheckSchedulePrefix") or ""), request.stack_id,
                         request.request_id)
    try:
        client("scheduler", request.seconds_left()).create_schedule(
            Name=name, ScheduleExpression=f"at({at:%Y-%m-%dT%H:%M:%S})", ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="DELETE",
            Description=f"ecsapi: answer CloudFormation for build {build_id} if its event was lost",
            Target={"Arn": function_arn, "RoleArn": role_arn, "Input": json.dumps(check_event(build_id))},
        )
    except Exception as error:  # noqa: BLE001 - a missing backstop must not fail the build
        if "ConflictException" in type(error).__name__ or "already exists" in str(error):
            return  # a repeated event: the schedule is there
        LOG.error("could not schedule the check of build %s (%s): only its event answers", build_id, error)
        return
    LOG.info("scheduled %s at %s UTC to answer for build %s if its event is lost", name, f"{at:%H:%M}", build_id)


def schedule_name(prefix: str, stack_id: str, request_id: str) -> str:
    """One schedule per request: at most 64 characters of [0-9a-zA-Z-_.] (CreateSchedule, Name)."""
    return prefix + hashlib.sha256(f"{stack_id} {request_id}".encode()).hexdigest()[:40]


def check_event(build_id: str) -> dict:
    """What the schedule sends the answering function: the parts of a build state-change event
    ``answer`` reads (the build's id under ``detail``)."""
    return {"source": "ecsapi.image-build-check", "detail": {"build-id": build_id}}


def _minutes(value) -> float:
    try:
        return max(0.0, float(str(value)))
    except ValueError:
        raise ResourceFailed(f"CheckAfterMinutes {value!r} is not a number") from None


def build_for_request(codebuild, project: str, request_id: str) -> dict | None:
    """The newest build of ``project`` started for ``request_id``, or None."""
    try:
        ids = codebuild.list_builds_for_project(projectName=project, sortOrder="DESCENDING")["ids"]
    except codebuild.exceptions.ResourceNotFoundException:
        raise ResourceFailed(f"the build project {project} does not exist") from None
    if not ids:
        return None
    for build in codebuild.batch_get_builds(ids=ids[:LOOKBACK_BUILDS])["builds"]:
        answer_to = AnswerTo.of_build(build)
        if answer_to is not None and answer_to.request_id == request_id:
            return build
    return None


def outcome(ecr, build: dict, answer_to: AnswerTo) -> Result:
    """The answer a finished build gives: the pushed digest, or ResourceFailed saying why not."""
    if build["buildStatus"] != SUCCEEDED:
        raise ResourceFailed(failure_reason(build))
    digest = image_digest(ecr, answer_to.repository, answer_to.image_tag)
    if digest is None:
        raise ResourceFailed(
            f"build {build['id']} succeeded but {answer_to.repository} holds no image tagged {answer_to.image_tag}; "
            f"{log_location(build)}"
        )
    LOG.info("build %s pushed %s@%s", build["id"], answer_to.repository, digest)
    return _result(answer_to.physical_id, answer_to.image_tag, digest)


def _result(physical_id: str, image_tag: str, digest: str) -> Result:
    return Result(physical_id, {"Digest": digest, "ImageTag": image_tag})


def answer(event, context):
    """EventBridge target: a build of the project ended; answer the request that started it.

    Raises when it could not answer (the build not yet visible as ended, S3 refusing the PUT
    after its retries), so that Lambda runs it again later: answering twice changes nothing.
    """
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - 1.0

    def seconds_left() -> float:  # for AWS calls: the answer's PUT keeps its margin
        return deadline - time.monotonic() - RESPONSE_MARGIN_SECONDS

    build_id = build_id_of(event)
    builds = client("codebuild", seconds_left()).batch_get_builds(ids=[build_id])["builds"]
    if not builds:
        LOG.warning("build %s not found: nothing to answer", build_id)
        return
    [build] = builds
    answer_to = AnswerTo.of_build(build) or AnswerTo.of_event(event)
    if answer_to is None:
        LOG.info("build %s was not started by the image-build resource: nothing to answer", build_id)
        return
    if build["buildStatus"] == RUNNING:
        raise RuntimeError(f"build {build_id} still reads {RUNNING}; Lambda tries this event again")
    try:
        result = outcome(client("ecr", seconds_left()), build, answer_to)
    except ResourceFailed as error:
        LOG.error("answering FAILED: %s", error)
        sent = send_response(answer_to.event(), "FAILED", answer_to.failed_physical_id, str(error), {}, deadline)
    else:
        sent = send_response(answer_to.event(), "SUCCESS", result.physical_id, "", result.data, deadline)
    if not sent:
        raise RuntimeError(f"could not answer CloudFormation for build {build_id}; Lambda tries this event again")


def build_id_of(event: dict) -> str:
    """The build's id (``<project>:<uuid>``, what BatchGetBuilds takes) from the event's
    ``build-id``, which is the build's ARN (``arn:...:build/<project>:<uuid>``; "Build
    notifications input format reference")."""
    build = event["detail"]["build-id"]
    return build.split(":build/", 1)[1] if ":build/" in build else build


def image_digest(ecr, repository: str, tag: str) -> str | None:
    """The digest of the image tagged ``tag``, or None when there is none."""
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return None
    details = found.get("imageDetails") or []
    return details[0]["imageDigest"] if details else None


def failure_reason(build: dict) -> str:
    """``build <id> FAILED in BUILD: <CodeBuild's message>; log: ...`` from a finished build."""
    failed = [
        f"{phase['phaseType']} {phase.get('phaseStatus')}"
        + "".join(f": {c.get('message') or c.get('statusCode')}" for c in phase.get("contexts") or [])
        for phase in build.get("phases") or []
        if phase.get("phaseStatus") not in (None, SUCCEEDED)
    ]
    where = f" in {'; '.join(failed)}" if failed else ""
    return f"build {build['id']} {build['buildStatus']}{where}. {log_location(build)}"


def log_location(build: dict) -> str:
    """Where the build's log is: the CloudWatch log group and stream, and the console link."""
    logs = build.get("logs") or {}
    parts = []
    if logs.get("groupName"):
        parts.append(f"log group {logs['groupName']}, stream {logs.get('streamName', '?')}")
    if logs.get("deepLink"):
        parts.append(logs["deepLink"])
    return "Build log: " + (" - ".join(parts) if parts else f"see the build {build['id']} in the CodeBuild console")


def _delete(request: Request) -> Result:
    """Stop any build of the project that still runs; the images go with the repository."""
    project = request.properties.get("ProjectName")
    physical_id = request.physical_id or request.logical_id
    if not project:
        return Result(physical_id)
    codebuild = client("codebuild", request.seconds_left())
    try:
        ids = codebuild.list_builds_for_project(projectName=project, sortOrder="DESCENDING")["ids"]
    except codebuild.exceptions.ResourceNotFoundException:
        LOG.info("project %s is gone: no build to stop", project)
        return Result(physical_id)
    # The newest builds come first; only this resource starts builds.
    for build in codebuild.batch_get_builds(ids=ids[:LOOKBACK_BUILDS])["builds"] if ids else []:
        if build["buildStatus"] == RUNNING:
            LOG.info("stopping build %s", build["id"])
            codebuild.stop_build(id=build["id"])
    return Result(physical_id)
