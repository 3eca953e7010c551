"""The images, checked without a Docker engine: hadolint, and the Dockerfiles parsed."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from itemstore.contract import DEFAULT_PORT

CONTAINERS = Path(__file__).resolve().parents[2] / "containers"
HADOLINT = Path(sys.executable).parent / "hadolint"


@pytest.mark.integration
def test_hadolint_finds_nothing(services):
    paths = [str(s.dockerfile) for s in services]
    result = subprocess.run([str(HADOLINT), *paths], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.integration
def test_the_tests_run_gunicorn_with_the_image_cmd(service, dockerfiles, gunicorn_servers):
    server = gunicorn_servers[service.name]
    cmd = dockerfiles[service.name].cmd
    assert cmd == ["gunicorn", "--config", "python:itemstore.gunicorn_conf", "itemstore:create_app()"]
    assert server.process.args == [str(Path(sys.executable).parent / "gunicorn"), *cmd[1:]]


def test_the_healthcheck_is_the_task_definition_command(service, dockerfiles):
    assert dockerfiles[service.name].healthcheck == ["CMD", "python", "-m", "itemstore.healthcheck"]


def test_the_image_defaults_match_the_generator_service(service, dockerfiles):
    env = dockerfiles[service.name].env
    assert env["TABLE_KEY"] == service.table_key
    assert env["ITEM_PATH_PREFIX"] == service.prefix
    assert env["PORT"] == str(DEFAULT_PORT)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"


def test_the_base_image_is_an_exact_slim_python_from_ecr_publics_docker_mirror_pinned_by_digest(service, dockerfiles):
    # ECR Public's mirror of Docker's official images, not Docker Hub (issue 8), by tag and digest
    # (issue 16): the one input of the build that was not pinned.
    base = dockerfiles[service.name].one("FROM")
    assert re.fullmatch(
        r"public\.ecr\.aws/docker/library/python:3\.11\.\d+-slim-[a-z]+@sha256:[0-9a-f]{64}", base
    ), base


def test_every_dockerfile_pins_the_same_base_image(dockerfiles):
    assert len({dockerfile.one("FROM") for dockerfile in dockerfiles.values()}) == 1


def test_pip_installs_only_hash_checked_wheels(service, dockerfiles):
    (install,) = [rest for rest in dockerfiles[service.name].all("RUN") if "pip install" in rest]
    words = shlex.split(install.split("&&")[0])
    assert {"--require-hashes", "--only-binary=:all:", "--no-cache-dir"} <= set(words), words
    assert words[words.index("--requirement") + 1] == "requirements.txt"


def test_the_image_runs_as_a_numeric_non_root_user(service, dockerfiles):
    user = dockerfiles[service.name].one("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_the_images_differ_only_in_their_service_settings(dockerfiles):
    food, pet = ([i for i in d.instructions if not (i[0] == "ENV" and "TABLE_KEY" in i[1])] for d in dockerfiles.values())
    assert food == pet


def _requirements() -> dict[str, list[str]]:
    """Each requirement line of requirements.txt (continuations joined): the pin -> its options."""
    text = (CONTAINERS / "requirements.txt").read_text().replace("\\\n", " ")
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return {words[0]: words[1:] for words in lines}


def test_runtime_requirements_are_pinned_exactly():
    requirements = _requirements()
    assert {r.split("==")[0].lower() for r in requirements} >= {"flask", "gunicorn", "boto3", "botocore"}
    for requirement in requirements:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*", requirement), requirement


def test_every_requirement_carries_sha256_hashes_and_nothing_else():
    for requirement, options in _requirements().items():
        assert options, f"{requirement} has no --hash"
        for option in options:
            assert re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", option), f"{requirement}: {option}"
        assert len(set(options)) == len(options), requirement


def test_the_pins_hold_their_whole_dependency_closure():
    # Hash-checking mode refuses any dependency that is not pinned and hashed itself. Offline: the
    # dependencies the venv's copies of the pinned distributions declare (at these exact versions,
    # `make test` installs them from this file), with markers evaluated for this Python on Linux.
    from importlib.metadata import distribution

    from packaging.requirements import Requirement

    pins = dict(r.lower().split("==") for r in _requirements())
    for name, version in pins.items():
        dist = distribution(name)
        assert dist.version == version, f"the venv has {name} {dist.version}, requirements.txt pins {version}"
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                assert requirement.name.lower() in pins, f"{name} needs {requirement}, which is not pinned"


def test_dockerignore_sends_only_what_the_images_copy(dockerfiles):
    lines = [line for line in (CONTAINERS / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"  # everything is excluded, then the sources are let back in
    sources = {rest.split()[0] for d in dockerfiles.values() for kw, rest in d.instructions if kw == "COPY"}
    assert sources == {"requirements.txt", "itemstore/"}
    assert {f"!{source}" for source in sources} <= set(lines)
