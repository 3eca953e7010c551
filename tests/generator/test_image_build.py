"""The image-build custom resource (generator/runs_in_aws/image_build.py), with real boto3 calls over HTTP
to moto in server mode and a local HTTP server standing in for CloudFormation's pre-signed URL.

What moto does and does not do (moto 5.2.5, moto/codebuild/models.py), and so what is scripted:
moto stores CodeBuild projects and builds and serves the API, but runs no build: ``start_build``
records an IN_PROGRESS build, and every ``batch_get_builds`` marks each build it returns SUCCEEDED
(even one ``stop_build`` marked STOPPED). Environment overrides are accepted and ignored. So
:class:`Builds` scripts only a build's outcome, on moto's own records: ``push`` puts an image into
moto's ECR under the tag the handler passed (standing for ``docker push``), ``fail`` reports a
failed BUILD phase with CodeBuild's message and log location, ``hang`` stays IN_PROGRESS until
stopped. Without a script (``None``) moto behaves as itself. ECR's ``put_image`` and
``describe_images`` are moto's own.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import types

import boto3
import pytest
from moto.codebuild.models import CodeBuildBackend
from moto.codebuild.responses import CodeBuildResponse
from moto.ecr.models import ecr_backends

from generator.runs_in_aws import custom_resource, image_build
from generator.template.functions import inline_code
from generator.template.image import buildspec, image_tag
from generator.tooling.assets import SOURCE_ARCHIVE, pinned_digests
from tests.support.moto import moto_for_boto3

from .test_custom_resource import Context, ResponseServer

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
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
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
    """Scripts the outcome of the builds started from now on (see the module docstring)."""

    def __init__(self, monkeypatch) -> None:
        self.outcome: str | None = None
        self.started: list[dict] = []
        self.stopped: list[str] = []
        self._outcomes: dict[str, str | None] = {}
        builds = self
        start, get, stop = CodeBuildResponse.start_build, CodeBuildBackend.batch_get_builds, CodeBuildBackend.stop_build

        def start_build(response):
            result = start(response)
            project = response._get_param("projectName")
            build_id = response.codebuild_backend.build_history[project][-1]
            overrides = {v["name"]: v["value"] for v in response._get_param("environmentVariablesOverride") or []}
            builds.started.append({"id": build_id, "project": project, "environment": overrides})
            builds._outcomes[build_id] = builds.outcome
            if builds.outcome == "push":
                ecr_backends[ACCOUNT][REGION].put_image(REPOSITORY, manifest(overrides["IMAGE_TAG"]), overrides["IMAGE_TAG"])
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

    def _script(self, build: dict) -> None:
        outcome = self._outcomes.get(build["id"])
        if build["id"] in self.stopped:
            build.update(buildStatus="STOPPED", currentPhase="COMPLETED", buildComplete=True)
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
    monkeypatch.setattr(image_build, "POLL_SECONDS", 0.05)
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


def answer(cloudformation) -> dict:
    [response] = cloudformation.responses
    return response["body"]


def digest_of(ecr, tag: str) -> str:
    return ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])["imageDetails"][0]["imageDigest"]


def test_clients_built_without_an_endpoint_reach_moto_through_aws_endpoint_url(moto):
    assert boto3.client("codebuild").meta.endpoint_url == moto.url
    assert boto3.client("ecr").meta.endpoint_url == moto.url


def test_create_starts_a_build_for_the_pinned_archive_and_answers_with_the_pushed_digest(builds, cloudformation, moto):
    builds.outcome = "push"
    image_build.handler(event(cloudformation.url), Context(60))
    body = answer(cloudformation)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == f"{REPOSITORY}:{image_tag(SHA256)}"
    assert body["Data"] == {"Digest": digest_of(moto.ecr, image_tag(SHA256)), "ImageTag": image_tag(SHA256)}
    assert body["Data"]["Digest"].startswith("sha256:")
    [started] = builds.started
    assert started["project"] == PROJECT
    assert started["environment"] == {
        "ARCHIVE_SHA256": SHA256, "ARCHIVE_URL": properties()["ArchiveUrl"], "IMAGE_TAG": image_tag(SHA256),
    }


def test_update_with_the_same_archive_reuses_the_image_and_starts_no_build(builds, cloudformation, moto):
    moto.ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest("earlier"), imageTag=image_tag(SHA256))
    physical_id = f"{REPOSITORY}:{image_tag(SHA256)}"
    image_build.handler(
        event(cloudformation.url, "Update", PhysicalResourceId=physical_id, OldResourceProperties=properties()),
        Context(60),
    )
    body = answer(cloudformation)
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
    body = answer(cloudformation)
    assert body["Status"] == "SUCCESS", body["Reason"]
    # A new physical id: CloudFormation then sends Delete for the old one, which builds nothing.
    assert body["PhysicalResourceId"] == f"{REPOSITORY}:{image_tag(OTHER_SHA256)}"
    assert body["Data"]["Digest"] == digest_of(moto.ecr, image_tag(OTHER_SHA256)) != digest_of(moto.ecr, image_tag(SHA256))
    assert [b["environment"]["ARCHIVE_SHA256"] for b in builds.started] == [OTHER_SHA256]


def test_a_failed_build_answers_failed_with_the_failed_phase_and_where_its_log_is(builds, cloudformation):
    builds.outcome = "fail"
    image_build.handler(event(cloudformation.url), Context(60))
    body = answer(cloudformation)
    [started] = builds.started
    assert body["Status"] == "FAILED"
    assert f"build {started['id']} FAILED in BUILD FAILED: Error while executing command: bash build.sh" in body["Reason"]
    assert f"log group stack-ImageBuildLogGroup-xyz, stream {started['id'].split(':')[1]}" in body["Reason"]
    assert "console.aws.amazon.com/cloudwatch" in body["Reason"]  # moto's deep link, passed on
    assert body["PhysicalResourceId"] == "ImageBuild-failed-req-Create"


def test_a_build_that_reports_success_without_pushing_the_image_fails_the_resource(builds, cloudformation):
    # No script: moto's own answer, SUCCEEDED at the first look, and nothing in the repository.
    image_build.handler(event(cloudformation.url), Context(60))
    body = answer(cloudformation)
    assert body["Status"] == "FAILED"
    assert f"succeeded but {REPOSITORY} holds no image tagged {image_tag(SHA256)}" in body["Reason"]


def test_a_build_still_running_near_the_deadline_is_stopped_and_reported_before_lambda_times_out(
    builds, cloudformation, monkeypatch, moto
):
    monkeypatch.setattr(custom_resource, "RESPONSE_MARGIN_SECONDS", 0.0)
    monkeypatch.setattr(image_build, "STOP_MARGIN_SECONDS", 1.0)
    builds.outcome = "hang"
    started = time.monotonic()
    image_build.handler(event(cloudformation.url), Context(3.0))
    elapsed = time.monotonic() - started
    body = answer(cloudformation)
    [build] = builds.started
    assert body["Status"] == "FAILED"
    assert f"build {build['id']} was still running (BUILD)" in body["Reason"] and "stopped it" in body["Reason"]
    assert "timed out before finishing" not in body["Reason"]  # the handler answered, not the watchdog
    assert 1.5 < elapsed < 3.0  # it waited for the build, then stopped it a second before the limit
    assert builds.stopped == [build["id"]]
    [after] = moto.codebuild.batch_get_builds(ids=[build["id"]])["builds"]
    assert after["buildStatus"] == "STOPPED"


def test_delete_stops_a_running_build_of_the_project_and_succeeds(builds, cloudformation, moto):
    builds.outcome = "hang"
    running = moto.codebuild.start_build(projectName=PROJECT)["build"]["id"]
    physical_id = f"{REPOSITORY}:{image_tag(SHA256)}"
    image_build.handler(event(cloudformation.url, "Delete", PhysicalResourceId=physical_id), Context(60))
    body = answer(cloudformation)
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", physical_id)
    assert builds.stopped == [running]


def test_delete_after_the_project_is_gone_succeeds(builds, cloudformation):
    props = properties(ProjectName="NoSuchProject")
    image_build.handler(event(cloudformation.url, "Delete", props, PhysicalResourceId="ImageBuild-failed-req-1"),
                        Context(60))
    body = answer(cloudformation)
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", "ImageBuild-failed-req-1")
    assert builds.stopped == []


@pytest.mark.parametrize(("changes", "reason"), [
    ({"ArchiveSha256": "ABC"}, "ArchiveSha256 'ABC' is not 64 lower-case hex digits"),
    ({"ImageTag": ""}, "properties missing: ImageTag"),
])
def test_bad_properties_fail_naming_the_property_and_start_nothing(builds, cloudformation, changes, reason):
    image_build.handler(event(cloudformation.url, props=properties(**changes)), Context(60))
    body = answer(cloudformation)
    assert body["Status"] == "FAILED" and reason in body["Reason"]
    assert builds.started == []


def test_the_inline_rendered_function_lambda_runs_builds_the_image(builds, cloudformation, moto):
    builds.outcome = "push"
    index = types.ModuleType("index")  # what Lambda imports for Handler "index.handler"
    sys.modules["index"] = index
    try:
        exec(compile(inline_code("image_build"), "index.py", "exec"), index.__dict__)
        index.POLL_SECONDS = 0.05
        index.handler(event(cloudformation.url), Context(60))
    finally:
        del sys.modules["index"]
    body = answer(cloudformation)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["Digest"] == digest_of(moto.ecr, image_tag(SHA256))
