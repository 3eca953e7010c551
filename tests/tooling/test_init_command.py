"""``ecsapi init``: a starter stack file for your own API that renders as it is, never an overwrite,
and a refusal naming the option for what the model would refuse."""

from __future__ import annotations

import json
import shutil

import pytest

from generator import build_template
from generator.model.config_file import load_config_file
from generator.model.routes import AuthMode
from generator.tooling.cli import main
from tests.support.processes import REPO  # noqa: E402


def routes_of(template: dict) -> dict[str, dict]:
    return {r["Properties"]["RouteKey"]: r["Properties"] for r in template["Resources"].values()
            if r["Type"] == "AWS::ApiGatewayV2::Route"}


def test_init_writes_a_stack_file_that_renders_with_its_routes(tmp_path, capsys):
    path = tmp_path / "stack.toml"
    assert main(["init", str(path), "--name", "orders", "--image", "repo/orders:1.0", "--route", "GET /orders",
                 "--route", "POST /orders jwt orders/write", "--route", "GET /orders/{orderId} jwt",
                 "--local-command", "python3 -m orders --reload"]) == 0
    assert "wrote" in capsys.readouterr().out
    config, _ = load_config_file(path)
    [service] = config.services
    assert (service.name, service.image, service.port) == ("orders", "repo/orders:1.0", 8080)
    assert [(r.route, r.auth, r.scopes) for r in service.routes] == [
        ("GET /orders", AuthMode.NONE, ()), ("POST /orders", AuthMode.JWT, ("orders/write",)),
        ("GET /orders/{orderId}", AuthMode.JWT, ())]
    assert service.local.command == ("python3", "-m", "orders", "--reload")
    routes = routes_of(json.loads(build_template(config).to_json()))
    assert routes["POST /orders"]["AuthorizationType"] == "JWT"
    assert routes["POST /orders"]["AuthorizationScopes"] == ["orders/write"]
    assert routes["GET /orders"]["AuthorizationType"] == "NONE"


def test_init_takes_the_routes_from_an_openapi_document_next_to_the_file(tmp_path):
    shutil.copy(REPO / "stacks" / "catalog.openapi.json", tmp_path / "catalog.openapi.json")
    path = tmp_path / "stacks" / "catalog.toml"
    assert main(["init", str(path), "--name", "catalog", "--image", "repo/catalog:2",
                 "--openapi", str(tmp_path / "catalog.openapi.json")]) == 0
    assert 'openapi = "../catalog.openapi.json"' in path.read_text()
    config, _ = load_config_file(path)
    assert "POST /catalog/products" in routes_of(json.loads(build_template(config).to_json()))


def test_init_never_overwrites_a_file(tmp_path, capsys):
    path = tmp_path / "stack.toml"
    path.write_text("# mine\n")
    assert main(["init", str(path), "--name", "orders", "--image", "repo/orders:1", "--route", "GET /a"]) == 2
    assert path.read_text() == "# mine\n"
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize(("arguments", "named"), [
    (["--name", "Orders", "--image", "r/o:1", "--route", "GET /a"], "name"),
    (["--name", "orders", "--image", "r/o:1", "--route", "GET /a/"], "--route"),
    (["--name", "orders", "--image", "r/o:1", "--route", "FETCH /a"], "--route"),
    (["--name", "orders", "--image", "r/o:1", "--route", "GET /a none orders/write"], "--route"),
    (["--name", "orders", "--image", "r/o:1"], "--route"),
    (["--name", "orders", "--image", "has space", "--route", "GET /a"], "image"),
])
def test_init_refuses_what_the_model_refuses_and_writes_nothing(tmp_path, capsys, arguments, named):
    path = tmp_path / "stack.toml"
    assert main(["init", str(path), *arguments]) == 2
    assert not path.exists()
    error = capsys.readouterr().err
    assert error.startswith("ecsapi: init: ") and named in error
