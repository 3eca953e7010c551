"""config.json: web/config.schema.json and the page accept and reject the same settings, and the page
says clearly what is wrong with a missing or invalid one."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from tests.support.web import PASSWORD_POLICY, SERVICES, WEB

pytestmark = pytest.mark.integration

SCHEMA = json.loads((WEB / "config.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

EXAMPLE = {
    "region": "us-east-1", "apiUrl": "https://abc.execute-api.us-east-1.amazonaws.com",
    "cognitoEndpoint": "https://cognito-idp.us-east-1.amazonaws.com/", "userPoolId": "us-east-1_xxx",
    "clientId": "1example23456789", "passwordPolicy": PASSWORD_POLICY, "services": SERVICES[:2],
}


# Your own service as generator/template/site.py page_service gives it.
OWN = {"name": "orders", "routes": [
    {"route": "GET /orders", "method": "GET", "path": "/orders", "variables": [], "auth": "none", "scopes": []},
    {"route": "POST /orders/{id}", "method": "POST", "path": "/orders/{id}", "variables": ["id"], "auth": "jwt",
     "scopes": ["orders/write"]},
    {"route": "$default", "method": None, "path": None, "variables": [], "auth": "none", "scopes": []},
]}


def changed(path: str, value) -> dict:
    """EXAMPLE with the setting at ``path`` (dotted, list indexes as numbers) set, or removed if ..."""
    config = copy.deepcopy(EXAMPLE)
    *parents, last = path.split(".")
    target = config
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is ...:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return config


# (case id, config, words the page's message must contain)
INVALID = [
    ("no-api-url", changed("apiUrl", ...), "apiUrl is missing"),
    ("http-api-url", changed("apiUrl", "http://api.example.com"), "apiUrl"),
    ("api-url-query", changed("apiUrl", "https://api.example.com/?x=1"), "apiUrl"),
    ("region", changed("region", "US East"), "region"),
    ("cognito-endpoint", changed("cognitoEndpoint", "ftp://cognito"), "cognitoEndpoint"),
    ("pool-id", changed("userPoolId", "no-underscore"), "userPoolId"),
    ("client-id", changed("clientId", "has space"), "clientId"),
    ("unknown-setting", changed("apiURL", "https://x.example.com"), "apiURL is not a setting"),
    ("short-minimum", changed("passwordPolicy.minimumLength", 5), "passwordPolicy.minimumLength"),
    ("flag-not-bool", changed("passwordPolicy.requireSymbols", "yes"), "passwordPolicy.requireSymbols"),
    ("policy-missing-flag", changed("passwordPolicy.requireNumbers", ...), "passwordPolicy.requireNumbers"),
    ("no-services", changed("services", []), "services"),
    ("service-name", changed("services.0.name", "Food Store"), "services[0].name"),
    ("service-path", changed("services.1.path", "/petstore/pets"), "services[1].path"),
    ("id-parameter", changed("services.0.idParameter", "1id"), "services[0].idParameter"),
    ("protected-method", changed("services.0.protectedMethods", ["DELETE"]), "services[0].protectedMethods"),
    ("protected-twice", changed("services.0.protectedMethods", ["PUT", "PUT"]), "services[0].protectedMethods"),
    ("service-extra", changed("services.0.port", 8080), "services[0].port is not a setting"),
    ("api-domain-upper-case", changed("apiDomain", "API.example.com"), "apiDomain"),
    ("api-domain-url", changed("apiDomain", "https://api.example.com"), "apiDomain"),
    ("route-auth", changed("services", [{**OWN, "routes": [{**OWN["routes"][0], "auth": "maybe"}]}]),
     "services[0].routes[0].auth"),
    ("route-extra", changed("services", [{**OWN, "routes": [{**OWN["routes"][0], "port": 1}]}]),
     "services[0].routes[0].port is not a setting"),
    ("route-method", changed("services", [{**OWN, "routes": [{**OWN["routes"][0], "method": "FETCH"}]}]),
     "services[0].routes[0].route"),
    ("no-routes", changed("services", [{**OWN, "routes": []}]), "services[0].routes"),
]
# Cross-field rules JSON Schema cannot state; only the page enforces them (the schema says so).
PAGE_ONLY = [
    ("duplicate-name", changed("services.1.name", "foodstore"), "services[1].name"),
    ("path-other-parameter", changed("services.0.path", "/foodstore/foods/{petId}"), "/{foodId}"),
    ("scopes-without-jwt", changed("services", [{**OWN, "routes": [{**OWN["routes"][0], "scopes": ["a/b"]}]}]),
     "services[0].routes[0].scopes"),
    ("route-key-other-path", changed("services", [{**OWN, "routes": [{**OWN["routes"][0], "path": "/other"}]}]),
     "services[0].routes[0].route"),
]


def schema_errors(config: dict) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(config)]


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("name", ["config.example.json"])
def test_shipped_example_config_matches_the_schema(name):
    assert schema_errors(json.loads((WEB / name).read_text())) == []


def test_issue_example_and_test_configs_match_the_schema():
    assert schema_errors(EXAMPLE) == []
    assert schema_errors(changed("cognitoEndpoint", ...)) == []  # optional: derived from region
    assert schema_errors(changed("services", SERVICES)) == []
    assert schema_errors(changed("apiUrl", "http://127.0.0.1:8080")) == []  # loopback may use http
    assert schema_errors(changed("apiDomain", "api.example.com")) == []  # make local with a [domain]


def test_page_accepts_config_naming_the_deployed_domain(rig):
    config = {**EXAMPLE, "apiUrl": rig.api.url, "apiDomain": "api.example.com"}
    watched = rig.open(config=config)
    assert watched.page.get_attribute("body", "data-config") == "ready"


    assert schema_errors(changed("services", [SERVICES[0], OWN])) == []


def test_the_generators_page_entries_for_own_services_match_the_schema():
    from generator.model.config_file import load_config
    from generator.model.page import services_of
    from tests.support.processes import REPO

    for stack in ("orders.toml",):
        config = load_config(REPO / "stacks" / stack)
        assert schema_errors(changed("services", services_of(config))) == []
    config = load_config(REPO / "examples" / "orders" / "orders.toml")
    assert schema_errors(changed("services", services_of(config))) == []


@pytest.mark.parametrize(("config", "words"), [(c, w) for _, c, w in INVALID], ids=[i for i, _, _ in INVALID])
def test_schema_rejects_invalid_config(config, words):
    assert schema_errors(config), f"the schema accepted {config}"


@pytest.mark.parametrize(("config", "words"), [(c, w) for _, c, w in INVALID + PAGE_ONLY],
                         ids=[i for i, _, _ in INVALID + PAGE_ONLY])
def test_page_names_the_invalid_setting(rig, config, words):
    watched = rig.open(raw_config=json.dumps(config).encode(), config=config)
    page = watched.page
    assert page.get_attribute("body", "data-config") == "invalid"
    message = page.inner_text("#messages")
    assert "This page is not configured" in message and words in message, message
    assert page.locator("section[data-service]").count() == 0
    assert page.is_disabled("#sign-in")


def test_page_accepts_config_without_cognito_endpoint(rig):
    config = {**changed("cognitoEndpoint", ...), "apiUrl": rig.api.url}
    watched = rig.open(config=config)
    assert watched.page.get_attribute("body", "data-config") == "ready"
    assert watched.page.locator("section[data-service]").count() == 2


def test_missing_config_json_is_reported(rig):
    rig.allow_console(r"Failed to load resource: the server responded with a status of 404")
    watched = rig.open(missing_config=True)
    message = watched.page.inner_text("#messages")
    assert "This page is not configured: config.json could not be fetched: HTTP 404" in message


def test_config_json_that_is_not_json_is_reported(rig):
    watched = rig.open(raw_config=b"{ region: us-east-1 }")
    assert "config.json is not valid JSON" in watched.page.inner_text("#messages")
