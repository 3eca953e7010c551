"""The item store's own SigV4 signer and request bodies, checked against botocore as the oracle:
fixed cases, and generated ones (hypothesis) where the signer must either sign exactly as
botocore's SigV4Auth does or refuse what it documents it does not handle."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal
from unittest import mock

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st
from itemstore import codec
from itemstore.dynamo import ItemTable
from itemstore.settings import Settings
from itemstore.sigv4 import SigV4Signer, UnsupportedEndpoint, UnsupportedRequest, host_header
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


@pytest.mark.parametrize("item_id", ITEM_IDS)
def test_the_putitem_body_from_one_encoding_walk_is_botocores(botocore_client, item_id):
    # The PUT route sends codec.encode_item's attribute values through put_encoded.
    recorder = RecordingClient()
    settings = Settings(table_name="test-pets", table_key="petId", item_path_prefix="/petstore/pets")
    document = {**DOCUMENT, "petId": item_id}
    attribute_values, _ = codec.encode_item(document)
    ItemTable(settings, client=recorder).put_encoded(attribute_values)
    (operation, body), = recorder.calls
    assert operation == "PutItem"
    assert body == _serialized(botocore_client, "PutItem", {"TableName": "test-pets", "Item": codec.to_item(document)})


# --- generated requests: the same signature as botocore, or a refusal ----------------------------

FIELD_TEXT = st.text(alphabet=st.sampled_from([chr(c) for c in range(0x20, 0x7f)] + ["\t", " ", " "]), max_size=40)
ODD_TEXT = st.text(min_size=1, max_size=10).filter(lambda text: re.search(r"[^\t\x20-\x7e]", text))
DNS_NAME = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,12}[A-Za-z0-9])?(\.[A-Za-z0-9-]{1,10}){0,3}", fullmatch=True)
HOSTS = st.one_of(DNS_NAME, st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"))
PORTS = st.one_of(st.none(), st.sampled_from([80, 443]), st.integers(1, 65535))
# What may follow the host in an endpoint URL besides "" and "/": paths (unicode, spaces and
# encoded characters included), queries, fragments.
SUFFIXES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="?#"), min_size=1,
            max_size=20).map(lambda path: "/" + path.lstrip("/") + ("x" if not path.strip("/") else "")),
    st.from_regex(r"/?\?[a-z=&%0-9]{0,10}", fullmatch=True),
    st.from_regex(r"/?#[a-z]{0,5}", fullmatch=True),
)
OTHER_HEADERS = st.one_of(st.sampled_from(["User-Agent", "Expect", "X-Amz-Date", "Authorization", "Host",
                                           "X-Amz-Security-Token", "Content-Length", "X-Amz-Content-SHA256",
                                           "X-Amzn-Trace-Id", "Accept-Encoding"]),
                          st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True))


def _case_variants(name: str):
    return st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(name, upper, strict=True)))


@st.composite
def signing_inputs(draw):
    """A request the signer may be asked to sign: endpoint, headers, body, credentials, time.
    Most are ones it handles; some carry what it must refuse (another header, a value or key
    that is not a plain HTTP field value)."""
    scheme = draw(st.sampled_from(["http", "https"]))
    port = draw(PORTS)
    netloc = draw(HOSTS) + ("" if port is None else f":{port}")
    url = f"{scheme}://{netloc}" + draw(st.sampled_from(["", "/"]) if draw(st.integers(0, 7)) else SUFFIXES)
    headers = {draw(_case_variants("Content-Type")): draw(st.one_of(FIELD_TEXT, ODD_TEXT) if draw(st.integers(0, 9)) == 0
                                                           else FIELD_TEXT),
               draw(_case_variants("X-Amz-Target")): draw(FIELD_TEXT)}
    if draw(st.integers(0, 5)) == 0:
        headers[draw(OTHER_HEADERS)] = draw(FIELD_TEXT)
    body = draw(st.one_of(st.just(b""), st.binary(max_size=200), st.text(max_size=60).map(str.encode)))
    access_key = draw(st.one_of(st.from_regex(r"(AKIA|ASIA)[A-Z0-9]{16}", fullmatch=True), ODD_TEXT)
                      if draw(st.integers(0, 9)) == 0 else st.from_regex(r"(AKIA|ASIA)[A-Z0-9]{16}", fullmatch=True))
    token = draw(st.one_of(st.none(), st.just(""), FIELD_TEXT.filter(bool), ODD_TEXT))
    credentials = Credentials(access_key, draw(st.text(min_size=1, max_size=40)), token=token)
    region = draw(st.from_regex(r"[a-z]{2}(-[a-z]{2,9}){1,2}-[0-9]", fullmatch=True))
    when = draw(st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)))
    return url, headers, body, credentials.get_frozen_credentials(), region, when.replace(microsecond=0)


def _handled(headers: dict, credentials) -> bool:
    """What the signer documents it signs: the two header names once each, plain field values."""
    plain = re.compile(r"[\t\x20-\x7e]*")
    names = [name.lower() for name in headers]
    return (sorted(names) == ["content-type", "x-amz-target"]
            and all(plain.fullmatch(value) for value in headers.values())
            and plain.fullmatch(credentials.access_key) is not None
            and (not credentials.token or plain.fullmatch(credentials.token) is not None))


# 300 generated requests (derandomized: the same ones every run), each signed twice; 800 cost ~11 s
# of CPU in every `make test`.
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(signing_inputs())
def test_generated_requests_are_signed_as_botocore_signs_them_or_refused(inputs):
    url, headers, body, credentials, region, when = inputs
    suffix = url.split("://", 1)[1].partition("/")[1:]
    if any(mark in url.split("://", 1)[1] for mark in "?#") or "".join(suffix) not in ("", "/"):
        with pytest.raises(UnsupportedEndpoint, match="endpoint URL"):
            host_header(url)
        return
    signer = SigV4Signer(region, "dynamodb", host_header(url))
    if not _handled(headers, credentials):
        with pytest.raises(UnsupportedRequest):
            signer.sign(dict(headers), body, credentials, when.strftime("%Y%m%dT%H%M%SZ"))
        return
    ours = signer.sign(dict(headers), body, credentials, when.strftime("%Y%m%dT%H%M%SZ"))
    request = AWSRequest(method="POST", url=url.rstrip("/") + "/", data=body, headers=dict(headers))
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda: when):
        botocore.auth.SigV4Auth(credentials, "dynamodb", region).add_auth(request)
    assert ours == dict(request.headers.items())


@pytest.mark.parametrize("url", ["http://proxy/ddb", "https://127.0.0.1:8000/ddb/", "http://h/?a=1", "http://h/#f",
                                 "http://h/?", "http://h#", "http://user:pw@h", "ftp://h", "http://", "http://h:99999", "http://h\u00e9",
                                 "http://[fe80::1%25eth0]:8000"])
def test_endpoints_it_cannot_sign_for_are_refused_with_the_reason(url):
    with pytest.raises(UnsupportedEndpoint, match="endpoint URL"):
        host_header(url)


def test_an_endpoint_path_is_refused_by_name():
    with pytest.raises(UnsupportedEndpoint, match="has a path; .* sends every request to '/'"):
        host_header("http://proxy/ddb")


def test_a_value_checked_once_does_not_let_another_one_through():
    # The signer remembers the values it found plain (a set lookup per request instead of a
    # match); what it remembers must never excuse a different value.
    signer = SigV4Signer("us-east-1", "dynamodb", "dynamodb.us-east-1.amazonaws.com")
    good = Credentials("ASIAEXAMPLE", "secret", token="token").get_frozen_credentials()
    bad = Credentials("ASIAEXAMPLE", "secret", token="token\n").get_frozen_credentials()
    headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + "GetItem"}
    for _ in range(40):  # past the size at which it forgets everything
        signer.sign(dict(headers), b"{}", good, AMZ_DATE)
        with pytest.raises(UnsupportedRequest, match="session token"):
            signer.sign(dict(headers), b"{}", bad, AMZ_DATE)
        with pytest.raises(UnsupportedRequest, match="X-Amz-Target"):
            signer.sign({**headers, "X-Amz-Target": "DynamoDB_20120810.GetItem\u00e9"}, b"{}", good, AMZ_DATE)
    for number in range(40):
        signer.sign({**headers, "X-Amz-Target": f"{TARGET_PREFIX}Op{number}"}, b"{}", good, AMZ_DATE)
    assert len(signer._plain) <= 32


def test_one_signer_signs_each_request_as_botocore_whatever_it_signed_before(monkeypatch):
    # The signer keeps the canonical headers per (headers, access key, token) and the timestamp per
    # second; a request that differs in any of them (operation, token, no token, key, date,
    # body) must still be signed exactly as botocore signs it, before and after the cache is full.
    signer = SigV4Signer("eu-west-1", "dynamodb", host_header(ENDPOINTS[1]))
    rotated = Credentials("ASIAEXAMPLE", "secret/with+chars", token="IQoJb3JpZ2luX2VjEN///rotated==")
    cases = [(credentials, operation, body)
             for credentials in (*CREDENTIALS.values(), rotated)
             for operation in ("GetItem", "PutItem")
             for body in (b"{}", json.dumps({"TableName": "foods", "Key": {"foodId": {"S": "1"}}}).encode())]
    for _ in range(3):  # the second and third rounds find every canonical form cached
        for credentials, operation, body in cases:
            ours = signer.sign({"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation}, body,
                               credentials.get_frozen_credentials(), AMZ_DATE)
            assert ours == _botocore_headers(ENDPOINTS[1], "eu-west-1", credentials, operation, body, monkeypatch)
    for number in range(40):  # past the size at which it forgets everything
        signer.sign({"Content-Type": CONTENT_TYPE, "X-Amz-Target": f"{TARGET_PREFIX}Op{number}"}, b"{}",
                    rotated.get_frozen_credentials(), AMZ_DATE)
    assert len(signer._canonical) <= 32
    credentials = CREDENTIALS["session token"]
    with mock.patch("time.time", lambda: WHEN.replace(tzinfo=datetime.UTC).timestamp()):
        ours = signer.sign({"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + "GetItem"}, b"{}",
                           credentials.get_frozen_credentials())  # the date from the clock
    assert ours == _botocore_headers(ENDPOINTS[1], "eu-west-1", credentials, "GetItem", b"{}", monkeypatch)
