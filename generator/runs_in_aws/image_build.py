"""Custom::ImageBuild: builds the item-store image in the stack's own account and reports its digest.

Create and Update start the stack's CodeBuild project (generator/buildspec/build.sh) for the
archive digest the template pins, wait for it, and answer SUCCESS with the pushed image's digest,
or FAILED with the failed phase and where the build's log is. The image tag is derived from the
archive digest and the repository's tags are immutable, so an image already tagged for this
archive is reused, never rebuilt: Update with the same digest returns the same physical id and
digest. A build still running when the function's time is nearly up is stopped (StopBuild) and
reported FAILED, so the stack never waits for CloudFormation's hour-long custom-resource timeout.
Delete stops a running build of the project; the images go with the repository (EmptyOnDelete).

Clients come from ``boto3.client(...)`` with no endpoint argument: in Lambda they reach the
region's AWS endpoints; the tests point them at moto through ``AWS_ENDPOINT_URL``, which boto3
reads from the environment.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import boto3
from botocore.config import Config

from .custom_resource import Request, ResourceFailed, Result, run

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

# Seconds between two looks at the build; a build takes minutes, so this costs nothing.
POLL_SECONDS = 10.0
# Time kept back from the handler's deadline to stop a build that is still running and say so.
STOP_MARGIN_SECONDS = 20.0
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# CodeBuild build statuses that end a build ("Build", AWS CodeBuild API Reference).
RUNNING = "IN_PROGRESS"
SUCCEEDED = "SUCCEEDED"
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 5, "mode": "standard"})


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

    def environment(self) -> list[dict]:
        """The build's environment for this event: the pinned archive and the tag to push."""
        values = {"ARCHIVE_URL": self.archive_url, "ARCHIVE_SHA256": self.archive_sha256, "IMAGE_TAG": self.image_tag}
        return [{"name": name, "value": value, "type": "PLAINTEXT"} for name, value in sorted(values.items())]


def handler(event, context):
    run(event, context, build_image)


def build_image(request: Request) -> Result:
    if request.request_type == "Delete":
        return _delete(request)
    build = BuildRequest.of(request.properties)
    ecr = boto3.client("ecr", config=CLIENT_CONFIG)
    digest = image_digest(ecr, build)
    if digest is not None:
        LOG.info("%s already holds %s (%s): nothing to build", build.repository, build.image_tag, digest)
        return _result(build, digest)
    codebuild = boto3.client("codebuild", config=CLIENT_CONFIG)
    started = codebuild.start_build(projectName=build.project, environmentVariablesOverride=build.environment())
    build_id = started["build"]["id"]
    LOG.info("started build %s for archive %s", build_id, build.archive_sha256)
    finished = wait_for_build(codebuild, build_id, request)
    if finished["buildStatus"] != SUCCEEDED:
        raise ResourceFailed(failure_reason(finished))
    digest = image_digest(ecr, build)
    if digest is None:
        raise ResourceFailed(
            f"build {build_id} succeeded but {build.repository} holds no image tagged {build.image_tag}; "
            f"{log_location(finished)}"
        )
    LOG.info("build %s pushed %s@%s", build_id, build.repository, digest)
    return _result(build, digest)


def _result(build: BuildRequest, digest: str) -> Result:
    return Result(build.physical_id, {"Digest": digest, "ImageTag": build.image_tag})


def image_digest(ecr, build: BuildRequest) -> str | None:
    """The digest of the image tagged ``build.image_tag``, or None when there is none."""
    try:
        found = ecr.describe_images(repositoryName=build.repository, imageIds=[{"imageTag": build.image_tag}])
    except ecr.exceptions.ImageNotFoundException:
        return None
    details = found.get("imageDetails") or []
    return details[0]["imageDigest"] if details else None


def wait_for_build(codebuild, build_id: str, request: Request) -> dict:
    """The build once it has ended; stops it and fails when the deadline comes first."""
    started = time.monotonic()
    while True:
        [build] = codebuild.batch_get_builds(ids=[build_id])["builds"]
        if build["buildStatus"] != RUNNING:
            return build
        left = request.seconds_left() - STOP_MARGIN_SECONDS
        if left <= 0:
            codebuild.stop_build(id=build_id)
            raise ResourceFailed(
                f"build {build_id} was still running ({build.get('currentPhase', 'unknown phase')}) after "
                f"{time.monotonic() - started:.0f} s, too close to this function's time limit; stopped it. "
                f"{log_location(build)}"
            )
        time.sleep(min(POLL_SECONDS, left))


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
    codebuild = boto3.client("codebuild", config=CLIENT_CONFIG)
    try:
        ids = codebuild.list_builds_for_project(projectName=project, sortOrder="DESCENDING")["ids"]
    except codebuild.exceptions.ResourceNotFoundException:
        LOG.info("project %s is gone: no build to stop", project)
        return Result(physical_id)
    # The newest builds come first; only this resource starts builds, one at a time.
    for build in codebuild.batch_get_builds(ids=ids[:10])["builds"] if ids else []:
        if build["buildStatus"] == RUNNING:
            LOG.info("stopping build %s", build["id"])
            codebuild.stop_build(id=build["id"])
    return Result(physical_id)
