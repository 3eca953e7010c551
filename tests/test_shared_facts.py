"""Facts written in more than one place, where one source cannot serve every user: each copy is
compared with its source here (issue 23, "one source per fact")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.model import page
from generator.model.assets import BUILT_DOCKERFILE, SERVICE_DOCKERFILES
from generator.model.config import DEFAULT_SERVICES
from generator.runs_in_aws import site_publish

REPO = Path(__file__).resolve().parents[1]
CONTAINERS = REPO / "containers"


def test_the_site_publisher_serves_each_page_file_with_the_models_content_type():
    # site_publish runs inside Lambda, rendered inline into the template: it cannot import the model.
    assert site_publish.CONTENT_TYPES == page.CONTENT_TYPES
    for name in (*page.PAGE_FILES, page.CONFIG_FILE):
        assert site_publish.content_type(name) == page.CONTENT_TYPES[Path(name).suffix]


def service_lines(text: str) -> tuple[list[str], dict[str, str]]:
    """The Dockerfile's lines without comments and the ENV block naming the service, and that block's values."""
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    start = next(i for i, line in enumerate(lines) if line.startswith("ENV TABLE_KEY="))
    end = next(i for i in range(start, len(lines)) if not lines[i].endswith("\\"))
    block = " ".join(line.rstrip("\\").strip() for line in lines[start:end + 1]).removeprefix("ENV ")
    return lines[:start] + lines[end + 1:], dict(pair.split("=", 1) for pair in block.split())


def test_the_service_dockerfiles_differ_only_in_the_service_they_name():
    """food/ and pet/ are one image: the stack builds BUILT_DOCKERFILE for every service and sets
    TABLE_KEY and ITEM_PATH_PREFIX in each task definition, so any other difference is drift."""
    assert BUILT_DOCKERFILE in SERVICE_DOCKERFILES.values()
    bodies = {}
    for spec in DEFAULT_SERVICES:
        body, env = service_lines((CONTAINERS / SERVICE_DOCKERFILES[spec.name]).read_text())
        assert env == {"TABLE_KEY": spec.key_attribute, "ITEM_PATH_PREFIX": spec.path_prefix}
        bodies[spec.name] = body
    first, *others = bodies.values()
    assert others and all(body == first for body in others)


def test_a_dockerfile_with_another_instruction_differs(tmp_path):
    food = (CONTAINERS / SERVICE_DOCKERFILES["foodstore"]).read_text()
    changed = re.sub(r"^CMD ", "ENV EXTRA=1\nCMD ", food, flags=re.M)
    assert service_lines(changed)[0] != service_lines(food)[0]


@pytest.mark.parametrize("dockerfile", sorted(SERVICE_DOCKERFILES.values()))
def test_the_emulator_and_the_container_tests_read_the_same_image_command(dockerfile):
    from ecsapi_local.containers import image_command
    from tests.support.containers import Dockerfile

    path = CONTAINERS / dockerfile
    assert image_command(path) == Dockerfile.parse(path).cmd
    assert image_command(path)[0] == "gunicorn"


def test_the_release_names_its_template_and_openapi_files_from_one_stem():
    from generator.model.release import ReleaseSettings
    from generator.tooling.render import openapi_file

    release = ReleaseSettings(version="4.5.6")
    assert release.template_file() == "ecsapi-v4.5.6.json" and release.template_file("yaml") == "ecsapi-v4.5.6.yaml"
    assert openapi_file(Path("out"), release) == Path("out") / "ecsapi-v4.5.6.openapi.json"


def test_the_page_settings_built_in_one_place_are_what_the_pages_schema_takes():
    import json

    import jsonschema

    schema = json.loads((REPO / "web" / "config.schema.json").read_text())
    assert set(page.PASSWORD_POLICY_KEYS.values()) == set(schema["properties"]["passwordPolicy"]["required"])
    config = page.page_config(
        region="eu-west-1", api_url="https://abc.execute-api.eu-west-1.amazonaws.com", user_pool_id="eu-west-1_abc",
        client_id="client1", password_policy={"MinimumLength": 12, "RequireSymbols": True},
        services=[page.page_service("foodstore", "/foodstore/foods/{foodId}", ["PUT"])],
    )
    jsonschema.validate(config, schema)
    assert "cognitoEndpoint" not in config  # the page then uses the Region's endpoint
    assert config["services"] == [{"name": "foodstore", "path": "/foodstore/foods/{foodId}", "idParameter": "foodId",
                                   "protectedMethods": ["PUT"]}]
    assert config["passwordPolicy"] == {"minimumLength": 12, "requireLowercase": False, "requireUppercase": False,
                                        "requireNumbers": False, "requireSymbols": True}
    local = page.page_config(**_arguments(config), cognito_endpoint="http://127.0.0.1:8002/")
    jsonschema.validate(local, schema)
    assert local["cognitoEndpoint"] == "http://127.0.0.1:8002/"


def _arguments(config: dict) -> dict:
    """``page_config``'s arguments back from a config it built."""
    return {"region": config["region"], "api_url": config["apiUrl"], "user_pool_id": config["userPoolId"],
            "client_id": config["clientId"], "services": config["services"],
            "password_policy": {name: config["passwordPolicy"][key] for name, key in page.PASSWORD_POLICY_KEYS.items()}}
