"""The image-build custom resource (generator/runs_in_aws/image_build.py): the starting function
(``handler``, CloudFormation's events) and the answering function (``answer``, EventBridge's
"CodeBuild Build State Change" events), with real boto3 calls over HTTP to moto in server mode and
a local HTTP server standing in for CloudFormation's pre-signed URL.

What moto does and does not do (moto 5.2.5, moto/codebuild/models.py), and so what is scripted:
moto stores CodeBuild projects and builds and serves the API, but runs no build: ``start_build``
records an IN_PROGRESS build, and every ``batch_get_builds`` marks each build it returns SUCCEEDED
(even one ``stop_build`` marked STOPPED). Environment overrides and the idempotency token are
accepted and ignored. So :class:`Builds` adds what CodeBuild does and moto does not, on moto's own
records: a build reports the environment it was started with (the overrides included), and a
StartBuild with a token seen before returns that earlier build (CodeBuild keeps a token five
minutes: "StartBuild", AWS CodeBuild API Reference). It scripts a build's outcome: ``push`` puts an
image into moto's ECR under the tag the handler passed (standing for ``docker push``), ``fail``
reports a failed BUILD phase with CodeBuild's message and log location, ``hang`` stays IN_PROGRESS
until stopped or finished. Without a script (``None``) moto behaves as itself. ECR's
``put_image`` and ``describe_images`` are moto's own. EventBridge is not emulated: a test calls
``answer`` with the event CodeBuild would send.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
import types
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.codebuild.models import CodeBuildBackend
from moto.codebuild.responses import CodeBuildResponse
from moto.core.responses import ActionResult
from moto.ecr.models import ecr_backends

from generator.runs_in_aws import custom_resource, image_build
from generator.runs_in_aws.image_build import ANSWER_VARIABLES
from generator.template.functions import inline_code
from generator.template.image import BUILD_IMAGE, buildspec, image_tag
from generator.tooling.assets import SOURCE_ARCHIVE, pinned_digests
from tests.support.cloudformation import Context, ResponseServer
from tests.support.moto import moto_for_boto3

pytestmark = pytest.mark.integration  # moto in server mode and a loopback stand-in for CloudFormation

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
PROJECT = "ImageBuildProject-abc"
REPOSITORY = "stack-imagerepository-abc"
SHA256 = pinned_digests()[SOURCE_ARCHIVE]
OTHER_SHA256 = hashlib.sha256(b"the next release's archive").hexdigest()


@pytest.fixture
def moto(monkeypatch):
    with moto_for_boto3(monkeypatch) as url:
        yield _with_build_project(url)


def _with_build_project(url: str) -> types.SimpleNamespace:
    """The stack's image repository and build project, as the handler finds them."""
    ecr = boto3.client("ecr")
    ecr.create_repository(repositoryName=REPOSITORY, imageTagMutability="IMMUTABLE")
    codebuild = boto3.client("codebuild")
    codebuild.create_project(
        name=PROJECT,
        # moto requires a source location even for NO_SOURCE, which CodeBuild does not.
        source={"type": "NO_SOURCE", "buildspec": buildspec(), "location": "none"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": BUILD_IMAGE,
                     "computeType": "BUILD_GENERAL1_SMALL", "privilegedMode": True},
        serviceRole=f"arn:aws:iam::{ACCOUNT}:role/ImageBuildRole",
    )
    return types.SimpleNamespace(url=url, ecr=ecr, codebuild=codebuild)


def manifest(tag: str) -> str:
    """A distinct image manifest per tag, so each stands for a different image (moto derives the
    image digest from the layer digests)."""
    layer = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1000, "digest": layer},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1000, "digest": layer}],
    })


class Builds:
    """Scripts what CodeBuild does that moto does not, and the outcome of the builds started from now
    on (see the module docstring)."""

    def __init__(self, monkeypatch) -> None:
        self.outcome: str | None = None
        self.started: list[dict] = []
        self.stopped: list[str] = []
        self.tokens: dict[str, str] = {}
        self.start_requests = 0
        # Seconds the first StartBuild takes to answer, after the build exists (a lost reply).
        self.first_start_delay = 0.0
        self._outcomes: dict[str, str | None] = {}
        self._lock = threading.Lock()
        builds = self
        start, get, stop = CodeBuildResponse.start_build, CodeBuildBackend.batch_get_builds, CodeBuildBackend.stop_build

        def start_build(response):
            token = response._get_param("idempotencyToken")
            with builds._lock:
                builds.start_requests += 1
                first = builds.start_requests == 1
                if token and token in builds.tokens:
                    [again] = get(response.codebuild_backend, [builds.tokens[token]])
                    builds._script(again)
                    return ActionResult({"build": again})
                result = start(response)
                project = response._get_param("projectName")
                build_id = response.codebuild_backend.build_history[project][-1]
                overrides = {v["name"]: v["value"] for v in response._get_param("environmentVariablesOverride") or []}
                metadata = response.codebuild_backend.build_metadata_history[project][-1]
                metadata["environment"]["environmentVariables"] = [
                    {"name": name, "value": value, "type": "PLAINTEXT"} for name, value in overrides.items()
                ]
                if token:
                    builds.tokens[token] = build_id
                builds.started.append({"id": build_id, "project": project, "environment": overrides, "token": token})
                builds._outcomes[build_id] = builds.outcome
                if builds.outcome == "push":
                    builds._push(overrides["IMAGE_TAG"])
            if first and builds.first_start_delay:
                time.sleep(builds.first_start_delay)
            return result

        def batch_get_builds(backend, ids):
            found = get(backend, ids)
            for build in found:
                builds._script(build)
            return found

        def stop_build(backend, build_id):
            builds.stopped.append(build_id)
            return stop(backend, build_id)

        monkeypatch.setattr(CodeBuildResponse, "start_build", start_build)
        monkeypatch.setattr(CodeBuildBackend, "batch_get_builds", batch_get_builds)
        monkeypatch.setattr(CodeBuildBackend, "stop_build", stop_build)

    @staticmethod
    def _push(tag: str) -> None:
        ecr_backends[ACCOUNT][REGION].put_image(REPOSITORY, manifest(tag), tag)

    def finish(self, build_id: str, outcome: str) -> None:
        """A running build ends now, with ``outcome``."""
        self._outcomes[build_id] = outcome
        if outcome == "push":
            [started] = [b for b in self.started if b["id"] == build_id]
            self._push(started["environment"]["IMAGE_TAG"])

    def _script(self, build: dict) -> None:
        outcome = self._outcomes.get(build["id"])
        if build["id"] in self.stopped:
            build.update(buildStatus="STOPPED", currentPhase="COMPLETED", buildComplete=True,
                         phases=[{"phaseType": "BUILD", "phaseStatus": "STOPPED"}, {"phaseType": "COMPLETED"}])
        elif outcome == "fail":
            build.update(
                buildStatus="FAILED", currentPhase="COMPLETED", buildComplete=True,
                phases=[
                    {"phaseType": "PROVISIONING", "phaseStatus": "SUCCEEDED"},
                    {"phaseType": "BUILD", "phaseStatus": "FAILED", "contexts": [{
                        "statusCode": "COMMAND_EXECUTION_ERROR",
                        "message": "Error while executing command: bash build.sh. Reason: exit status 1",
                    }]},
                    {"phaseType": "COMPLETED"},
                ],
            )
            build["logs"].update(groupName="stack-ImageBuildLogGroup-xyz", streamName=build["id"].split(":")[1])
        elif outcome == "hang":
            build.update(buildStatus="IN_PROGRESS", currentPhase="BUILD", buildComplete=False,
                         phases=[{"phaseType": "BUILD"}])


@pytest.fixture
def builds(monkeypatch, moto):
    return Builds(monkeypatch)


@pytest.fixture
def cloudformation():
    server = ResponseServer()
    yield server
    server.close()


def properties(sha256: str = SHA256, **changes) -> dict:
    return {
        "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ImageBuildFunction",
        "ServiceTimeout": "960",  # CloudFormation passes every property, numbers as strings
        "ProjectName": PROJECT, "RepositoryName": REPOSITORY,
        "ArchiveUrl": f"https://ecsapi-templates.s3.us-east-1.amazonaws.com/releases/v1.0.0/{SOURCE_ARCHIVE}",
        "ArchiveSha256": sha256, "ImageTag": image_tag(sha256), **changes,
    }


def event(url: str, request_type: str = "Create", props: dict | None = None, **extra) -> dict:
    return {
        "RequestType": request_type, "ResponseURL": url, "RequestId": f"req-{request_type}",
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/s/1", "LogicalResourceId": "ImageBuild",
        "ResourceType": "Custom::ImageBuild", "ResourceProperties": props or properties(), **extra,
    }


def answers(cloudformation) -> list[dict]:
    return [response["body"] for response in cloudformation.responses]


def only_answer(cloudformation) -> dict:
    [body] = answers(cloudformation)
    return body


def build_ended(build_id: str, status: str) -> dict:
    """The event CodeBuild sends to EventBridge when a build ends ("Build notifications input format
    reference", AWS CodeBuild User Guide): ``build-id`` is the build's ARN."""
    return {
        "version": "0", "id": "c030038d-8c4d-6141-9545-00ff7b7153EX", "detail-type": "CodeBuild Build State Change",
        "source": "aws.codebuild", "account": ACCOUNT, "region": REGION,
        "resources": [f"arn:aws:codebuild:{REGION}:{ACCOUNT}:build/{build_id}"],
        "detail": {"build-status": status, "project-name": PROJECT,
                   "build-id": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:build/{build_id}"},
    }


def moto_builds() -> list[dict]:
    """moto's own records of the project's builds (what BatchGetBuilds returns)."""
    from moto.codebuild.models import codebuild_backends

    return codebuild_backends[ACCOUNT][REGION].build_metadata_history[PROJECT]


def digest_of(ecr, tag: str) -> str:
    return ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])["imageDetails"][0]["imageDigest"]


def test_clients_built_without_an_endpoint_reach_moto_through_aws_endpoint_url(moto):
    assert boto3.client("codebuild").meta.endpoint_url == moto.url
    assert boto3.client("ecr").meta.endpoint_url == moto.url


def test_create_starts_one_build_that_carries_the_answer_address_and_answers_nothing_itself(builds, cloudformation):
    builds.outcome = "hang"
    image_build.handler(event(cloudformation.url), Context(60))
    assert cloudformation.responses == []  # the build's completion answers, not this function
    [started] = builds.started
    assert started["project"] == PROJECT
    assert started["token"] == "req-Create"  # StartBuild's idempotency token: CloudFormation's RequestId
    assert started["environment"] == {
        "ARCHIVE_SHA256": SHA256, "ARCHIVE_URL": properties()["ArchiveUrl"], "IMAGE_TAG": image_tag(SHA256),
        "CFN_RESPONSE_URL": cloudformation.url, "CFN_STACK_ID": event("")["StackId"], "CFN_REQUEST_ID": "req-Create",
        "CFN_LOGICAL_RESOURCE_ID": "ImageBuild", "CFN_PHYSICAL_RESOURCE_ID": f"{REPOSITORY}:{image_tag(SHA256)}",
        "CFN_FAILED_RESOURCE_ID": "ImageBuild-failed-req-Create", "REPOSITORY_NAME": REPOSITORY,
    }
    assert set(ANSWER_VARIABLES.values()) <= set(started["environment"])


def test_the_build_s_success_answers_with_the_pushed_digest(builds, cloudformation, moto):
    builds.outcome = "push"
    image_build.handler(event(cloudformation.url), Context(60))
    [started] = builds.started
    image_build.answer(build_ended(started["id"], "SUCCEEDED"), Context(60))
    body = only_answer(cloudformation)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert (body["RequestId"], body["LogicalResourceId"]) == ("req-Create", "ImageBuild")
    assert body["PhysicalResourceId"] == f"{REPOSITORY}:{image_tag(SHA256)}"
    assert body["Data"] == {"Digest": digest_of(moto.ecr, image_tag(SHA256)), "ImageTag": image_tag(SHA256)}
    assert body["Data"]["Digest"].startswith("sha256:")


def test_a_failed_build_answers_failed_with_the_failed_phase_and_where_its_log_is(builds, cloudformation):
    builds.outcome = "fail"
    image_build.handler(event(cloudformation.url), Context(60))
    [started] = builds.started
    image_build.answer(build_ended(started["id"], "FAILED"), Context(60))
    body = only_answer(cloudformation)
    assert body["Status"] == "FAILED"
    assert f"build {started['id']} FAILED in BUILD FAILED: Error while executing command: bash build.sh" in body["Reason"]
    assert f"log group stack-ImageBuildLogGroup-xyz, stream {started['id'].split(':')[1]}" in body["Reason"]
    assert "console.aws.amazon.com/cloudwatch" in body["Reason"]  # moto's deep link, passed on
    assert body["PhysicalResourceId"] == "ImageBuild-failed-req-Create"


def test_a_stopped_build_answers_failed_saying_it_was_stopped(builds, cloudformation, moto):
    builds.outcome = "hang"
    image_build.handler(event(cloudformation.url), Context(60))
    [started] = builds.started
    moto.codebuild.stop_build(id=started["id"])
    image_build.answer(build_ended(started["id"], "STOPPED"), Context(60))
    body = only_answer(cloudformation)
    assert body["Status"] == "FAILED"
    assert f"build {started['id']} STOPPED in BUILD STOPPED" in body["Reason"]


def test_a_failed_update_keeps_the_resource_s_id(builds, cloudformation, moto):
    moto.ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest("earlier"), imageTag=image_tag(SHA256))
    builds.outcome = "fail"
    old_id = f"{REPOSITORY}:{image_tag(SHA256)}"
    image_build.handler(event(cloudformation.url, "Update", props=properties(OTHER_SHA256), PhysicalResourceId=old_id,
                             OldResourceProperties=properties()), Context(60))
    [started] = builds.started
    image_build.answer(build_ended(started["id"], "FAILED"), Context(60))
    body = only_answer(cloudformation)
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", old_id)


def test_a_duplicate_event_while_the_build_runs_starts_nothing_and_the_completion_answers_once(builds, cloudformation):
    builds.outcome = "hang"
    image_build.handler(event(cloudformation.url), Context(60))
    image_build.handler(event(cloudformation.url), Context(60))  # Lambda delivered the event again
    [started] = builds.started
    assert builds.start_requests == 1  # found by its RequestId, not started again
    assert cloudformation.responses == []
    builds.finish(started["id"], "push")
    image_build.answer(build_ended(started["id"], "SUCCEEDED"), Context(60))
    assert only_answer(cloudformation)["Status"] == "SUCCESS"


def test_a_repeated_event_after_the_build_ended_answers_from_that_build_and_builds_nothing(builds, cloudformation):
    builds.outcome = "fail"
    image_build.handler(event(cloudformation.url), Context(60))
    [started] = builds.started
    image_build.answer(build_ended(started["id"], "FAILED"), Context(60))
    # The same event again, minutes later (a retry after the first invocation timed out, or a
    # duplicate delivery): the ended build answers it, no second build.
    image_build.handler(event(cloudformation.url), Context(60))
    first, second = answers(cloudformation)
    assert len(builds.started) == 1 and builds.start_requests == 1
    assert (first["Status"], first["PhysicalResourceId"]) == (second["Status"], second["PhysicalResourceId"]) \
        == ("FAILED", "ImageBuild-failed-req-Create")
    assert f"build {started['id']} FAILED in BUILD FAILED" in second["Reason"]


def test_a_start_build_whose_reply_timed_out_is_retried_with_the_same_token_and_makes_one_build(
    builds, cloudformation, moto, monkeypatch
):
    monkeypatch.setattr(custom_resource, "AWS_MAX_READ_SECONDS", 1.0)
    builds.outcome = "hang"
    builds.first_start_delay = 2.5  # the build exists, but its reply comes after the read timeout
    image_build.handler(event(cloudformation.url), Context(60))
    assert builds.start_requests == 2  # botocore tried again after the timeout ...
    assert len(builds.started) == 1  # ... with the same idempotency token: CodeBuild's one build
    assert moto.codebuild.list_builds_for_project(projectName=PROJECT)["ids"] == [builds.started[0]["id"]]
    assert cloudformation.responses == []


def test_a_repeated_build_ended_event_answers_the_same_again(builds, cloudformation):
    builds.outcome = "push"
    image_build.handler(event(cloudformation.url), Context(60))
    [started] = builds.started
    image_build.answer(build_ended(started["id"], "SUCCEEDED"), Context(60))
    image_build.answer(build_ended(started["id"], "SUCCEEDED"), Context(60))
    first, second = answers(cloudformation)
    assert first == second and first["Status"] == "SUCCESS"


def test_the_answer_address_is_read_from_the_event_when_the_build_s_record_lacks_it(builds, cloudformation, moto):
    builds.outcome = "push"
    image_build.handler(event(cloudformation.url), Context(60))
    [started] = builds.started
    [record] = [b for b in moto_builds() if b["id"] == started["id"]]
    record["environment"]["environmentVariables"] = []  # as moto itself keeps it
    ended = build_ended(started["id"], "SUCCEEDED")
    ended["detail"]["additional-information"] = {"environment": {"environment-variables": [
        {"name": name, "value": value, "type": "PLAINTEXT"} for name, value in started["environment"].items()]}}
    image_build.answer(ended, Context(60))
    assert only_answer(cloudformation)["Status"] == "SUCCESS"


def test_a_build_the_resource_did_not_start_is_not_answered(builds, cloudformation, moto):
    builds.outcome = "fail"
    manual = moto.codebuild.start_build(projectName=PROJECT)["build"]["id"]  # from the console, say
    image_build.answer(build_ended(manual, "FAILED"), Context(60))
    assert cloudformation.responses == []


def test_an_answer_s3_refuses_raises_so_that_lambda_tries_the_event_again(builds, cloudformation):
    builds.outcome = "push"
    closed = ResponseServer()
    closed.close()
    image_build.handler(event(closed.url), Context(60))
    [started] = builds.started
    with pytest.raises(RuntimeError, match="could not answer CloudFormation"):
        image_build.answer(build_ended(started["id"], "SUCCEEDED"), Context(20))


def test_update_with_the_same_archive_reuses_the_image_and_starts_no_build(builds, cloudformation, moto):
    moto.ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest("earlier"), imageTag=image_tag(SHA256))
    physical_id = f"{REPOSITORY}:{image_tag(SHA256)}"
    image_build.handler(
        event(cloudformation.url, "Update", PhysicalResourceId=physical_id, OldResourceProperties=properties()),
        Context(60),
    )
    body = only_answer(cloudformation)
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", physical_id)
    assert body["Data"]["Digest"] == digest_of(moto.ecr, image_tag(SHA256))
    assert builds.started == []
    assert moto.codebuild.list_builds_for_project(projectName=PROJECT)["ids"] == []


def test_update_with_a_new_archive_builds_and_answers_a_new_id_and_digest(builds, cloudformation, moto):
    moto.ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest("earlier"), imageTag=image_tag(SHA256))
    builds.outcome = "push"
    image_build.handler(
        event(cloudformation.url, "Update", props=properties(OTHER_SHA256),
              PhysicalResourceId=f"{REPOSITORY}:{image_tag(SHA256)}", OldResourceProperties=properties()),
        Context(60),
    )
    [started] = builds.started
    image_build.answer(build_ended(started["id"], "SUCCEEDED"), Context(60))
    body = only_answer(cloudformation)
    assert body["Status"] == "SUCCESS", body["Reason"]
    # A new physical id: CloudFormation then sends Delete for the old one, which builds nothing.
    assert body["PhysicalResourceId"] == f"{REPOSITORY}:{image_tag(OTHER_SHA256)}"
    assert body["Data"]["Digest"] == digest_of(moto.ecr, image_tag(OTHER_SHA256)) != digest_of(moto.ecr, image_tag(SHA256))
    assert started["environment"]["ARCHIVE_SHA256"] == OTHER_SHA256


def test_a_build_that_reports_success_without_pushing_the_image_fails_the_resource(builds, cloudformation):
    # No script: moto's own answer, SUCCEEDED at the first look, and nothing in the repository.
    image_build.handler(event(cloudformation.url), Context(60))
    [started] = builds.started
    image_build.answer(build_ended(started["id"], "SUCCEEDED"), Context(60))
    body = only_answer(cloudformation)
    assert body["Status"] == "FAILED"
    assert f"succeeded but {REPOSITORY} holds no image tagged {image_tag(SHA256)}" in body["Reason"]


def test_delete_stops_a_running_build_of_the_project_and_succeeds(builds, cloudformation, moto):
    builds.outcome = "hang"
    running = moto.codebuild.start_build(projectName=PROJECT)["build"]["id"]
    physical_id = f"{REPOSITORY}:{image_tag(SHA256)}"
    image_build.handler(event(cloudformation.url, "Delete", PhysicalResourceId=physical_id), Context(60))
    body = only_answer(cloudformation)
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", physical_id)
    assert builds.stopped == [running]


def test_delete_after_the_project_is_gone_succeeds(builds, cloudformation):
    props = properties(ProjectName="NoSuchProject")
    image_build.handler(event(cloudformation.url, "Delete", props, PhysicalResourceId="ImageBuild-failed-req-1"),
                        Context(60))
    body = only_answer(cloudformation)
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", "ImageBuild-failed-req-1")
    assert builds.stopped == []


@pytest.mark.parametrize(("changes", "reason"), [
    ({"ArchiveSha256": "ABC"}, "ArchiveSha256 'ABC' is not 64 lower-case hex digits"),
    ({"ImageTag": ""}, "properties missing: ImageTag"),
])
def test_bad_properties_fail_naming_the_property_and_start_nothing(builds, cloudformation, changes, reason):
    image_build.handler(event(cloudformation.url, props=properties(**changes)), Context(60))
    body = only_answer(cloudformation)
    assert body["Status"] == "FAILED" and reason in body["Reason"]
    assert builds.started == []


def test_the_inline_rendered_functions_lambda_runs_start_the_build_and_answer_with_its_digest(
    builds, cloudformation, moto
):
    builds.outcome = "push"
    index = types.ModuleType("index")  # what Lambda imports for Handler "index.handler" / "index.answer"
    sys.modules["index"] = index
    try:
        exec(compile(inline_code("image_build"), "index.py", "exec"), index.__dict__)
        index.handler(event(cloudformation.url), Context(60))
        [started] = builds.started
        index.answer(build_ended(started["id"], "SUCCEEDED"), Context(60))
    finally:
        del sys.modules["index"]
    body = only_answer(cloudformation)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["Digest"] == digest_of(moto.ecr, image_tag(SHA256))


# --- a lost completion event ----------------------------------------------------------------------

CHECK_FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ImageBuildAnswerFunction"
CHECK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ImageBuildCheckRole"


def with_check(minutes: int = 58) -> dict:
    return properties(CheckFunctionArn=CHECK_FUNCTION, CheckRoleArn=CHECK_ROLE, CheckAfterMinutes=str(minutes),
                      CheckSchedulePrefix="ecsapi-build-")


def test_a_started_build_schedules_one_check_after_it_must_have_ended(builds, cloudformation):
    builds.outcome = "hang"
    before = datetime.now(UTC)
    image_build.handler(event(cloudformation.url, props=with_check(58)), Context(60))
    image_build.handler(event(cloudformation.url, props=with_check(58)), Context(60))  # delivered twice
    scheduler = boto3.client("scheduler")
    [listed] = scheduler.list_schedules(NamePrefix="ecsapi-build-")["Schedules"]
    schedule = scheduler.get_schedule(Name=listed["Name"])
    assert len(schedule["Name"]) <= 64
    at = datetime.strptime(schedule["ScheduleExpression"], "at(%Y-%m-%dT%H:%M:%S)").replace(tzinfo=UTC)
    assert timedelta(minutes=57) <= at - before <= timedelta(minutes=59)
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert (schedule["Target"]["Arn"], schedule["Target"]["RoleArn"]) == (CHECK_FUNCTION, CHECK_ROLE)
    [started] = builds.started
    assert json.loads(schedule["Target"]["Input"])["detail"]["build-id"] == started["id"]


def test_without_the_build_s_event_the_scheduled_check_answers(builds, cloudformation, moto):
    builds.outcome = "push"
    image_build.handler(event(cloudformation.url, props=with_check()), Context(60))
    assert cloudformation.responses == []
    # The state-change event is lost; the schedule fires with the input it was given.
    scheduler = boto3.client("scheduler")
    [listed] = scheduler.list_schedules(NamePrefix="ecsapi-build-")["Schedules"]
    check = json.loads(scheduler.get_schedule(Name=listed["Name"])["Target"]["Input"])
    image_build.answer(check, Context(60))
    body = only_answer(cloudformation)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["Digest"] == digest_of(moto.ecr, image_tag(SHA256))
