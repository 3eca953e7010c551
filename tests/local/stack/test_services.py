"""A service added to the configuration is served by the emulator — its route, table and
task — with no change to ecsapi_local: the emulator reads it from the rendered template."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import jsonschema
import pytest

from tests.support.processes import REPO

pytestmark = pytest.mark.integration

# The default stack's two services and a third whose name appears nowhere in ecsapi_local.
CONFIG = """
[[services]]
name = "foodstore"
path = "/foodstore/foods/{foodId}"

[[services]]
name = "petstore"
path = "/petstore/pets/{petId}"

[[services]]
name = "toystore"
path = "/toystore/toys/{toyId}"
port = 9100
protected_methods = ["GET", "PUT"]
environment = { DYNAMODB_MAX_ATTEMPTS = "2" }
"""
LOCAL_CODE = REPO / "ecsapi_local"


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in raw if b"=" in entry)


def test_a_third_service_gets_its_route_table_and_container(make_stack, tmp_path, email):
    assert not any("toystore" in path.read_text() for path in LOCAL_CODE.glob("*.py"))
    config = tmp_path / "three.toml"
    config.write_text(CONFIG)
    stack = make_stack(config=config, services=3).start()

    page = stack.page_config
    schema = json.loads((REPO / "web" / "config.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(page)  # the page's own rules
    assert (page["apiUrl"], page["cognitoEndpoint"]) == (stack.api_url, f"http://127.0.0.1:{stack.ports['cognito']}/")
    with urllib.request.urlopen(stack.page_url, timeout=10) as response:
        csp = response.headers["Content-Security-Policy"]
    assert f"connect-src 'self' {stack.api_url} http://127.0.0.1:{stack.ports['cognito']};" in csp
    assert page["services"][-1] == {"name": "toystore", "path": "/toystore/toys/{toyId}", "idParameter": "toyId",
                                    "protectedMethods": ["GET", "PUT"]}

    table = stack.client("dynamodb").describe_table(TableName="ecsapi-local-ToystoreTable")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "toyId", "KeyType": "HASH"}]

    # Its container: the image's gunicorn, with the task definition's environment, on its own port.
    pid = int(re.search(r"toystore-\d+ is up \(pid (\d+)\)", stack.output).group(1))
    environ = _environ(pid)
    assert environ["TABLE_NAME"] == "ecsapi-local-ToystoreTable" and environ["TABLE_KEY"] == "toyId"
    assert environ["ITEM_PATH_PREFIX"] == "/toystore/toys" and environ["DYNAMODB_MAX_ATTEMPTS"] == "2"
    assert environ["PORT"] == str(stack.ports["containers"] + 2)  # third in template order

    # Its routes, through the gateway: both methods need a token, as protected_methods says.
    assert stack.request("GET", "/toystore/toys/t1") == (401, {"message": "Unauthorized"})
    assert stack.request("PUT", "/toystore/toys/t1", {"colour": "red"}) == (401, {"message": "Unauthorized"})
    token = stack.access_token(email)
    status, body = stack.request("GET", "/toystore/toys/t1", token=token)
    assert (status, body["error"]["code"]) == (404, "item_not_found")
    assert stack.request("PUT", "/toystore/toys/t1", {"colour": "red"}, token) == (200, {"colour": "red", "toyId": "t1"})
    assert stack.request("GET", "/toystore/toys/t1", token=token) == (200, {"colour": "red", "toyId": "t1"})
    stored = stack.client("dynamodb").get_item(TableName="ecsapi-local-ToystoreTable", Key={"toyId": {"S": "t1"}})
    assert stored["Item"]["colour"] == {"S": "red"}
    # The other services are unchanged: a public GET, and a route the template does not have is 404.
    status, body = stack.request("GET", "/foodstore/foods/none")
    assert (status, body["error"]["code"]) == (404, "item_not_found")
    assert stack.request("GET", "/toystore/cars/t1") == (404, {"message": "Not Found"})
