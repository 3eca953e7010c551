"""The OpenAPI export: a valid 3.0.3 document that describes the same routes as the template, with the
item store's error shape and codes and API Gateway's own answers."""

from __future__ import annotations

import ast
import json
import sys

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator, validate

from generator import ServiceSpec, StackConfig
from generator.model.config import DEFAULT_SERVICES
from generator.template.openapi import build_openapi
from tests.support.processes import REPO
from tests.support.templates import resources

ITEM_STORE = REPO / "containers" / "itemstore"
if str(ITEM_STORE.parent) not in sys.path:  # the containers import themselves as `itemstore`
    sys.path.insert(0, str(ITEM_STORE.parent))

ORDERS = ServiceSpec(name="orders", path="/shop/orders/{orderId}", protected_methods=("GET", "PUT"))
CONFIGS = {
    "default": StackConfig(),
    "three-services": StackConfig(services=(*DEFAULT_SERVICES, ORDERS)),
}
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def operations(document: dict):
    """(METHOD, path, operation) for every operation of the document."""
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def resolve(document: dict, node):
    """``node`` with every local ``$ref`` replaced by what it points to."""
    if isinstance(node, list):
        return [resolve(document, value) for value in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(document, target)
    return {key: resolve(document, value) for key, value in node.items()}


def body_schema(document: dict, operation: dict, status: int) -> OAS30Validator:
    response = resolve(document, operation["responses"][str(status)])
    return OAS30Validator(response["content"]["application/json"]["schema"])


@pytest.fixture(scope="module")
def document(release) -> dict:
    return build_openapi(StackConfig(), release)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_document_is_valid_openapi_3_0_3(release, name):
    document = build_openapi(CONFIGS[name], release)
    validate(document, cls=OpenAPIV30SpecValidator)  # raises on the first violation
    assert document["openapi"] == "3.0.3"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_routes_and_their_security_are_the_templates(render, release, name):
    config = CONFIGS[name]
    document = build_openapi(config, release)
    routes = {r["Properties"]["RouteKey"]: r["Properties"]
              for r in resources(render(config), "AWS::ApiGatewayV2::Route").values()}

    documented = {f"{method} {path}": operation for method, path, operation in operations(document)}
    assert set(documented) == set(routes)
    assert len(routes) == 2 * len(config.services)
    secured = {key for key, operation in documented.items() if "security" in operation}
    assert secured == {key for key, route in routes.items() if route["AuthorizationType"] == "JWT"}
    assert secured  # the comparison above must not pass vacuously


def test_protected_operations_require_the_jwt_scheme_and_document_401(release):
    document = build_openapi(CONFIGS["three-services"], release)
    scheme = document["components"]["securitySchemes"]["CognitoJwt"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for method, path, operation in operations(document):
        protected = path == ORDERS.path or method == "PUT"
        assert operation.get("security") == ([{"CognitoJwt": []}] if protected else None), (method, path)
        assert ("401" in operation["responses"]) == protected, (method, path)
    assert "security" not in document  # no document-wide default that would cover public operations


def test_401_and_429_are_api_gateways_own_message_bodies(document):
    get = document["paths"]["/petstore/pets/{petId}"]["get"]
    put = document["paths"]["/petstore/pets/{petId}"]["put"]
    unauthorized = body_schema(document, put, 401)
    throttled = body_schema(document, get, 429)
    assert unauthorized.is_valid({"message": "Unauthorized"})
    assert not unauthorized.is_valid({"message": "Forbidden"})
    assert throttled.is_valid({"message": "Too Many Requests"})
    assert not throttled.is_valid({"error": {"code": "throttled", "message": "slow down"}})


def test_operation_ids_and_tags_name_the_service(document):
    ids = {(method, path): (op["operationId"], op["tags"]) for method, path, op in operations(document)}
    assert ids == {
        ("GET", "/foodstore/foods/{foodId}"): ("getFoodstoreItem", ["foodstore"]),
        ("PUT", "/foodstore/foods/{foodId}"): ("putFoodstoreItem", ["foodstore"]),
        ("GET", "/petstore/pets/{petId}"): ("getPetstoreItem", ["petstore"]),
        ("PUT", "/petstore/pets/{petId}"): ("putPetstoreItem", ["petstore"]),
    }
    assert [tag["name"] for tag in document["tags"]] == ["foodstore", "petstore"]


def test_id_parameter_is_one_required_string_within_dynamodbs_key_limit(document):
    parameters = document["paths"]["/foodstore/foods/{foodId}"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [("foodId", "path", True)]
    assert parameters[0]["schema"] == {"type": "string", "minLength": 1, "maxLength": 2048}


def test_put_body_is_any_json_object_whose_table_key_if_present_is_a_string(release):
    spec = ServiceSpec(name="catalog", path="/catalog/products/{productId}", table_key="sku")
    document = build_openapi(StackConfig(services=(spec,)), release)
    put = document["paths"][spec.path]["put"]
    body = resolve(document, put["requestBody"])
    assert body["required"] is True and list(body["content"]) == ["application/json"]
    schema = OAS30Validator(body["content"]["application/json"]["schema"])
    assert schema.is_valid({"name": "lamp", "price": 12.5, "tags": ["a"], "dims": {"w": 1}})
    assert schema.is_valid({"sku": "A-1", "name": "lamp"})
    assert not schema.is_valid({"sku": 7})
    assert not schema.is_valid(["a list"])
    assert not schema.is_valid("text")

    stored = body_schema(document, put, 200)
    assert stored.is_valid({"sku": "A-1", "name": "lamp"})
    assert not stored.is_valid({"name": "lamp"})  # a stored item always carries its key


def test_503_documents_retry_after_and_both_bodies(document):
    get = document["paths"]["/foodstore/foods/{foodId}"]["get"]
    response = resolve(document, get["responses"]["503"])
    assert response["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 0}
    schema = body_schema(document, get, 503)
    assert schema.is_valid({"error": {"code": "dynamodb_unavailable", "message": "retry later"}})
    assert schema.is_valid({"message": "Service Unavailable"})
    assert not schema.is_valid({"error": {"code": "item_not_found", "message": "no"}})


def _item_store_errors() -> set[tuple[int, str]]:
    """(status, code) of every ApiError(code, ...) and error_response(status, code, ...) in the item
    store whose code is a literal or an itemstore.contract constant (ApiError's status is the contract's)."""
    from itemstore import contract

    def code_of(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "contract":
            return getattr(contract, node.attr)
        return None

    found = set()
    for source in sorted(ITEM_STORE.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None)
            if name == "ApiError" and node.args and code_of(node.args[0]) is not None:
                code = code_of(node.args[0])
                found.add((contract.ERROR_STATUS[code], code))
            elif (name == "error_response" and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
                  and code_of(node.args[1]) is not None):
                found.add((node.args[0].value, code_of(node.args[1])))
    return found


def _documented_errors(document: dict) -> set[tuple[int, str]]:
    """(status, code) of every item-store code an operation documents."""
    found = set()
    for _, _, operation in operations(document):
        for status, response in operation["responses"].items():
            schema = resolve(document, response)["content"]["application/json"]["schema"]
            for alternative in schema.get("oneOf", [schema]):
                for part in alternative.get("allOf", []):
                    code = part.get("properties", {}).get("error", {}).get("properties", {}).get("code", {})
                    found.update((int(status), value) for value in code.get("enum", []))
    return found


def test_error_codes_are_exactly_those_the_item_store_raises_and_its_server_limits(document):
    from itemstore import contract

    from generator.template.openapi import SERVER_LIMIT_ERRORS

    raised = _item_store_errors()
    assert (404, "item_not_found") in raised and (503, "dynamodb_unavailable") in raised  # the scan works
    # gunicorn answers these itself (tests/containers/test_documented_limits.py sends them to it)
    server_limits = {(contract.ERROR_STATUS[code], code) for code in SERVER_LIMIT_ERRORS}
    assert server_limits == {(414, "uri_too_long"), (431, "headers_too_large")}
    assert _documented_errors(document) == raised | server_limits


def test_item_store_error_bodies_match_the_documented_shape(document):
    from itemstore.errors import error_response

    put = document["paths"]["/petstore/pets/{petId}"]["put"]
    body = json.loads(error_response(413, "item_too_large", "The item is too large.").get_data())
    assert body_schema(document, put, 413).is_valid(body)
    assert OAS30Validator(resolve(document, document["components"]["schemas"]["Error"])).is_valid(body)
    assert not body_schema(document, put, 413).is_valid({"error": {"code": "invalid_item", "message": "x"}})
    assert not body_schema(document, put, 413).is_valid({"code": "item_too_large", "message": "flat"})


def test_stated_limits_are_the_ones_the_item_store_enforces():
    from itemstore import codec, contract

    from generator.template import openapi

    assert openapi.MAX_ID_BYTES == contract.MAX_ID_BYTES
    assert openapi.MAX_ITEM_BYTES == contract.MAX_ITEM_BYTES
    assert openapi.MAX_NUMBER_DIGITS == codec.MAX_NUMBER_DIGITS
    assert openapi.MAX_DEPTH == codec.MAX_DEPTH


def test_info_and_server_describe_this_release_and_the_invoke_url(document, release):
    assert (document["info"]["title"], document["info"]["version"]) == ("ecsapi", release.version)
    (server,) = document["servers"]
    assert server["url"] == "https://{apiId}.execute-api.{region}.amazonaws.com"
    assert set(server["variables"]) == {"apiId", "region"}
    assert server["variables"]["region"]["default"] == release.regions[0]


def test_document_has_no_api_gateway_import_extensions(release):
    text = json.dumps(build_openapi(CONFIGS["three-services"], release))
    assert "x-amazon-apigateway" not in text


def test_two_builds_give_the_same_json_text(release):
    config = CONFIGS["three-services"]
    first, second = (json.dumps(build_openapi(config, release), indent=2, sort_keys=True) for _ in range(2))
    assert first == second


def test_build_returns_a_fresh_document_each_time(release):
    first = build_openapi(StackConfig(), release)
    first["components"]["schemas"]["Error"]["required"].append("mutated")
    first["paths"]["/foodstore/foods/{foodId}"]["get"]["tags"].append("mutated")
    assert build_openapi(StackConfig(), release) != first
