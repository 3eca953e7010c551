"""The images, checked without a Docker engine: hadolint, and the Dockerfiles parsed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from itemstore.contract import DEFAULT_PORT

CONTAINERS = Path(__file__).resolve().parents[2] / "containers"
HADOLINT = Path(sys.executable).parent / "hadolint"


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


def test_the_base_image_is_an_exact_slim_python(service, dockerfiles):
    base = dockerfiles[service.name].one("FROM")
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", base), base


def test_the_image_runs_as_a_numeric_non_root_user(service, dockerfiles):
    user = dockerfiles[service.name].one("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_the_images_differ_only_in_their_service_settings(dockerfiles):
    food, pet = ([i for i in d.instructions if not (i[0] == "ENV" and "TABLE_KEY" in i[1])] for d in dockerfiles.values())
    assert food == pet


def test_runtime_requirements_are_pinned_exactly():
    lines = [line.strip() for line in (CONTAINERS / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert {r.split("==")[0].lower() for r in requirements} >= {"flask", "gunicorn", "boto3", "botocore"}
    for requirement in requirements:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*", requirement), requirement


def test_dockerignore_sends_only_what_the_images_copy(dockerfiles):
    lines = [line for line in (CONTAINERS / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"  # everything is excluded, then the sources are let back in
    sources = {rest.split()[0] for d in dockerfiles.values() for kw, rest in d.instructions if kw == "COPY"}
    assert sources == {"requirements.txt", "itemstore/"}
    assert {f"!{source}" for source in sources} <= set(lines)
