"""The item store's own SigV4 signer and request bodies, checked against botocore as the oracle."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from itemstore import codec
from itemstore.dynamo import ItemTable
from itemstore.settings import Settings
from itemstore.sigv4 import SigV4Signer, host_header
from itemstore.transport import CONTENT_TYPE, TARGET_PREFIX

AMZ_DATE = "20260305T101502Z"
WHEN = datetime.datetime(2026, 3, 5, 10, 15, 2)
CREDENTIALS = {
    "no session token": Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    "session token": Credentials("ASIAEXAMPLE", "secret/with+chars", token="IQoJb3JpZ2luX2VjEN///token=="),
}
ENDPOINTS = ["https://dynamodb.eu-west-1.amazonaws.com", "http://127.0.0.1:8000", "https://LocalHost:443",
             "http://[::1]:8000"]


def _botocore_headers(url: str, region: str, credentials, operation: str, body: bytes, monkeypatch) -> dict:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: WHEN)
    request = AWSRequest(method="POST", url=url + "/", data=body,
                         headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation})
    botocore.auth.SigV4Auth(credentials.get_frozen_credentials(), "dynamodb", region).add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("kind", CREDENTIALS)
@pytest.mark.parametrize("operation", ["GetItem", "PutItem"])
def test_the_signature_is_botocores_byte_for_byte(url, kind, operation, monkeypatch):
    credentials = CREDENTIALS[kind]
    body = json.dumps({"TableName": "foods", "Key": {"foodId": {"S": "caf\u00e9 1"}}}).encode()
    ours = SigV4Signer("eu-west-1", "dynamodb", host_header(url)).sign(
        {"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation}, body,
        credentials.get_frozen_credentials(), AMZ_DATE)
    theirs = _botocore_headers(url, "eu-west-1", credentials, operation, body, monkeypatch)
    assert ours == theirs  # Authorization, X-Amz-Date, X-Amz-Security-Token and the signed headers
    assert ("X-Amz-Security-Token" in ours) == (kind == "session token")


def test_the_signing_key_is_derived_once_per_day_and_secret(monkeypatch):
    signer = SigV4Signer("us-east-1", "dynamodb", "127.0.0.1:8000")
    frozen = CREDENTIALS["no session token"].get_frozen_credentials()
    first = signer.signing_key(frozen.secret_key, "20260305")
    assert signer.signing_key(frozen.secret_key, "20260305") is first
    assert signer.signing_key(frozen.secret_key, "20260306") != first
    assert signer.signing_key("rotated", "20260305") != first
    # and a new day still signs exactly as botocore does
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: WHEN + datetime.timedelta(days=1))
    body = b"{}"
    ours = signer.sign({"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + "GetItem"}, body, frozen,
                       "20260306T101502Z")
    request = AWSRequest(method="POST", url="http://127.0.0.1:8000/", data=body,
                         headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + "GetItem"})
    botocore.auth.SigV4Auth(frozen, "dynamodb", "us-east-1").add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]


# --- the JSON bodies: the same bytes as botocore's serializer ------------------------------------

class RecordingClient:
    """Stands in for the transport: records (operation, body) and answers like DynamoDB."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    def call(self, operation: str, body: bytes) -> dict:
        self.calls.append((operation, body))
        return {}


@pytest.fixture(scope="module")
def botocore_client():
    session = botocore.session.get_session()
    return session.create_client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                                 aws_access_key_id="k", aws_secret_access_key="s")


def _serialized(client, operation: str, params: dict) -> bytes:
    model = client.meta.service_model.operation_model(operation)
    return client._serializer.serialize_to_request(params, model)["body"]


ITEM_IDS = ["apple", "caf\u00e9 \U0001f355", 'quote"back\\slash', "x" * 2048]
DOCUMENT = {"name": "Margherita \u2713", "price": Decimal("8.50"), "big": Decimal("1e125"), "tags": ["a", True, None],
            "nested": {"deep": [Decimal("1"), {"x": Decimal("-0.000001")}], "empty": {}, "list": []}, "ok": False}


@pytest.mark.parametrize("item_id", ITEM_IDS)
def test_the_getitem_body_is_botocores(botocore_client, item_id):
    recorder = RecordingClient()
    settings = Settings(table_name="test-foods", table_key="foodId", item_path_prefix="/foodstore/foods")
    ItemTable(settings, client=recorder).get(item_id)
    (operation, body), = recorder.calls
    assert operation == "GetItem"
    assert body == _serialized(botocore_client, "GetItem", {"TableName": "test-foods", "Key": {"foodId": {"S": item_id}}})


@pytest.mark.parametrize("item_id", ITEM_IDS)
def test_the_putitem_body_is_botocores(botocore_client, item_id):
    recorder = RecordingClient()
    settings = Settings(table_name="test-pets", table_key="petId", item_path_prefix="/petstore/pets")
    item = codec.to_item({**DOCUMENT, "petId": item_id})
    ItemTable(settings, client=recorder).put(item)
    (operation, body), = recorder.calls
    assert operation == "PutItem"
    assert body == _serialized(botocore_client, "PutItem", {"TableName": "test-pets", "Item": item})
