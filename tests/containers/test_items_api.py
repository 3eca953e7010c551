"""The item routes through Flask's test client, against dynalite: every route, every bad input.

Each bad input asserts the status, the stable error shape and that nothing was stored.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from itemstore import codec, contract
from itemstore.contract import MAX_ID_BYTES, MAX_ITEM_BYTES

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


def _json(response):
    return json.loads(response.get_data(), parse_float=Decimal, parse_int=Decimal)


def _error(response, code: str) -> dict:
    """The error body, after checking the status the contract gives ``code`` and the shape."""
    assert response.status_code == contract.ERROR_STATUS[code], response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert "Traceback" not in body["error"]["message"]
    return body["error"]


def _stored(dynalite, service, item_id: str):
    response = dynalite.client().get_item(TableName=service.table_name, Key={service.table_key: {"S": item_id}})
    return response.get("Item")


def _put(client, service, item_id, body, headers=JSON):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.put(service.url(item_id), data=data, headers=headers)


# --- happy paths --------------------------------------------------------------------------------

def test_put_stores_the_item_with_the_key_from_the_path(client, service, dynalite):
    response = _put(client, service, "apple", {"name": "Apple", "count": 3})
    assert response.status_code == 200
    assert response.get_json() == {"name": "Apple", "count": 3, service.table_key: "apple"}
    assert _stored(dynalite, service, "apple") == {
        "name": {"S": "Apple"}, "count": {"N": "3"}, service.table_key: {"S": "apple"}}


def test_get_returns_what_put_returned(client, service):
    put = _put(client, service, "pear", {"a": [1, {"b": None}]})
    get = client.get(service.url("pear"))
    assert get.status_code == 200 and get.mimetype == "application/json"
    assert get.get_data() == put.get_data()


def test_put_accepts_the_matching_key_in_the_body(client, service):
    response = _put(client, service, "same", {service.table_key: "same", "x": 1})
    assert response.status_code == 200


def test_put_replaces_the_whole_item(client, service):
    _put(client, service, "replaced", {"old": 1})
    _put(client, service, "replaced", {"new": 2})
    assert client.get(service.url("replaced")).get_json() == {"new": 2, service.table_key: "replaced"}


NUMBERS = {
    "int": 42, "negative": -7, "zero": 0,
    "decimal": "12.50", "tiny": "1E-130", "huge": "9.9999999999999999999999999999999999999E+125",
    "precise": "0.12345678901234567890123456789012345678",
    "digits38": "12345678901234567890123456789012345678",
    "exponent": "-5e3", "float_rounding": "0.1",
}


@pytest.mark.parametrize("name", NUMBERS)
def test_numbers_round_trip_exactly(client, service, name):
    text = str(NUMBERS[name])
    _put(client, service, f"num-{name}", f'{{"n": {text}}}')
    got = _json(client.get(service.url(f"num-{name}")))["n"]
    assert got == Decimal(text)


def test_every_json_type_round_trips(client, service):
    document = {
        "string": "plain", "empty": "", "unicode": "héllo wörld ✓ 日本 🍕", "escapes": "quote\" back\\ \n\t\u0001",
        "true": True, "false": False, "null": None, "list": [1, "two", [3], {"four": 4}], "empty_list": [],
        "object": {"nested": {"deeper": {"deepest": [True]}}}, "empty_object": {},
    }
    put = _put(client, service, "types", document)
    assert put.status_code == 200
    assert client.get(service.url("types")).get_json() == {**document, service.table_key: "types"}


def test_unicode_and_percent_encoded_ids(client, service):
    assert _put(client, service, "caf%C3%A9 %F0%9F%8D%95", {"x": 1}).status_code == 200
    response = client.get(service.url("caf%C3%A9 %F0%9F%8D%95"))
    assert response.get_json()[service.table_key] == "café 🍕"


def test_an_id_of_exactly_the_key_limit_is_accepted(client, service):
    item_id = "é" * (MAX_ID_BYTES // 2)  # 2 bytes each in UTF-8
    assert _put(client, service, item_id, {"x": 1}).status_code == 200
    assert client.get(service.url(item_id)).status_code == 200


def test_health_is_ok(client):
    response = client.get(contract.HEALTH_PATH)
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


# --- errors ---------------------------------------------------------------------------------------

def test_get_of_a_missing_item_is_404(client, service):
    _error(client.get(service.url("never-stored")), contract.ERROR_ITEM_NOT_FOUND)


@pytest.mark.parametrize("path", ["/", "/nothing/here", "/foodstore", "/health/x"])
def test_unknown_path_is_404(client, path):
    _error(client.get(path), contract.ERROR_NOT_FOUND)


def test_a_path_below_an_item_is_404(client, service):
    _error(client.get(service.url("a/b")), contract.ERROR_NOT_FOUND)


@pytest.mark.parametrize("method", ["POST", "DELETE", "PATCH"])
def test_other_methods_on_an_item_are_405_with_allow(client, service, method):
    response = client.open(service.url("x"), method=method)
    _error(response, contract.ERROR_METHOD_NOT_ALLOWED)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "PUT"}


def test_empty_id_is_400(client, service):
    _error(client.get(service.prefix + "/"), contract.ERROR_INVALID_ID)
    _error(client.put(service.prefix + "/", data="{}", headers=JSON), contract.ERROR_INVALID_ID)


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
def test_the_collection_path_is_a_json_404_not_a_redirect(client, service, method):
    # werkzeug would redirect <prefix> to <prefix>/ (an HTML 308); there is no collection to list.
    response = client.open(service.prefix, method=method, data="{}", headers=JSON)
    _error(response, contract.ERROR_NOT_FOUND)
    assert "Location" not in response.headers


def test_a_path_with_doubled_slashes_is_a_json_404_not_a_redirect(client, service):
    doubled = service.prefix.replace("/", "//", 1) + "/x"
    response = client.get(doubled)
    _error(response, contract.ERROR_NOT_FOUND)
    assert "Location" not in response.headers


@pytest.mark.parametrize("body", [{"": 1}, {"m": {"": 1}}, {"l": [{"ok": {"": None}}]}])
def test_an_empty_attribute_name_is_400(client, service, dynalite, body):
    # dynalite stores {"": 1}; DynamoDB refuses names shorter than one character.
    error = _error(_put(client, service, "empty-name", body), contract.ERROR_INVALID_ITEM)
    assert "name" in error["message"]
    assert _stored(dynalite, service, "empty-name") is None


@pytest.mark.parametrize("nested", [False, True])
def test_an_attribute_name_of_64_kb_is_400(client, service, dynalite, nested):
    name = "n" * codec.MAX_NAME_BYTES
    ok = {"m": {name: 1}} if nested else {name: 1}
    assert _put(client, service, "long-name", ok).status_code == 200
    too_long = {"m": {name + "n": 1}} if nested else {name + "n": 1}
    _error(_put(client, service, "long-name-2", too_long), contract.ERROR_INVALID_ITEM)
    assert _stored(dynalite, service, "long-name-2") is None


def test_id_over_the_key_limit_is_400(client, service, dynalite):
    item_id = "é" * (MAX_ID_BYTES // 2) + "x"  # one byte over
    _error(client.get(service.url(item_id)), contract.ERROR_INVALID_ID)
    _error(_put(client, service, item_id, {"x": 1}), contract.ERROR_INVALID_ID)
    assert _stored(dynalite, service, "x" * 10) is None


def test_key_in_body_that_differs_from_the_path_is_400(client, service, dynalite):
    _error(_put(client, service, "path-id", {service.table_key: "other-id"}), contract.ERROR_INVALID_ITEM)
    _error(_put(client, service, "path-id", {service.table_key: 5}), contract.ERROR_INVALID_ITEM)
    assert _stored(dynalite, service, "path-id") is None
    assert _stored(dynalite, service, "other-id") is None


@pytest.mark.parametrize("body", [b"{", b"{'single': 1}", b"", b"\xff\xfe{}", b'{"a": 1} trailing', b"[" * 100000])
def test_malformed_json_is_400(client, service, dynalite, body):
    _error(_put(client, service, "malformed", body), contract.ERROR_INVALID_ITEM)
    assert _stored(dynalite, service, "malformed") is None


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null", b"true"])
def test_body_that_is_not_an_object_is_400(client, service, dynalite, body):
    _error(_put(client, service, "not-object", body), contract.ERROR_INVALID_ITEM)
    assert _stored(dynalite, service, "not-object") is None


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1E-131", "1E+126",
                                   "123456789012345678901234567890123456789", "1" * 5000])
def test_numbers_dynamodb_cannot_store_are_400(client, service, dynalite, number):
    _error(_put(client, service, "bad-number", f'{{"n": {number}}}'), contract.ERROR_INVALID_ITEM)
    assert _stored(dynalite, service, "bad-number") is None


def test_unpaired_surrogate_is_400(client, service, dynalite):
    _error(_put(client, service, "surrogate", b'{"s": "\\ud800"}'), contract.ERROR_INVALID_ITEM)
    assert _stored(dynalite, service, "surrogate") is None


def test_nesting_deeper_than_dynamodb_allows_is_400(client, service, dynalite):
    body = '{"a": ' + "[" * 40 + "]" * 40 + "}"
    _error(_put(client, service, "deep", body), contract.ERROR_INVALID_ITEM)
    assert _stored(dynalite, service, "deep") is None


@pytest.mark.parametrize("headers", [{}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"},
                                     {"Content-Type": "application/json; charset=latin-1"}])
def test_put_without_json_content_type_is_415(client, service, dynalite, headers):
    _error(_put(client, service, "media", {"x": 1}, headers=headers), contract.ERROR_UNSUPPORTED_MEDIA_TYPE)
    assert _stored(dynalite, service, "media") is None


def test_put_with_charset_utf8_is_accepted(client, service):
    response = _put(client, service, "charset", {"x": 1}, headers={"Content-Type": "application/json; charset=UTF-8"})
    assert response.status_code == 200


def test_body_over_400_kb_is_413_before_dynamodb(app_factory, service, closed_port):
    # DynamoDB is unreachable: a 413 proves the body was refused without calling it.
    client = app_factory(service, DYNAMODB_ENDPOINT_URL=f"http://127.0.0.1:{closed_port}").test_client()
    body = json.dumps({"blob": "x" * MAX_ITEM_BYTES})
    _error(_put(client, service, "huge", body), contract.ERROR_ITEM_TOO_LARGE)


def test_an_item_dynamodb_finds_too_large_is_413(app_factory, service, dynalite):
    # Under 400 KB of JSON, but DynamoDB counts 3 bytes per empty map plus 1 per list element.
    # dynalite needs seconds for 120 000 maps on a busy machine: a longer read timeout (2 x 9 s
    # + 1 s backoff, still under the gateway bound) keeps this about the size, not the clock.
    client = app_factory(service, DYNAMODB_READ_TIMEOUT="8", DYNAMODB_MAX_ATTEMPTS="2").test_client()
    body = '{"l": [' + ",".join(["{}"] * 120_000) + "]}"
    assert len(body) < MAX_ITEM_BYTES
    _error(_put(client, service, "sneaky", body), contract.ERROR_ITEM_TOO_LARGE)
    assert _stored(dynalite, service, "sneaky") is None
