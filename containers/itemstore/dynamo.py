"""The one owner of the DynamoDB client: created once per worker process, reused by every request.

The client is :class:`itemstore.transport.DynamoDBClient` (why not botocore's: see that module).
botocore still does what it is good at and what costs nothing per request: at start-up it resolves
the region, the endpoint and the CA bundle, and the credential provider chain (environment, ECS
task role, ...) at the first call that finds credentials; per call, the transport asks the
provider for its current frozen credentials, so task-role credentials rotate as they do under a
botocore client.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from json.encoder import encode_basestring_ascii as quote_json  # what json.dumps quotes strings with

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import NoCredentialsError
from flask import Flask, current_app

from itemstore import contract
from itemstore.errors import ApiError
from itemstore.settings import Settings, SettingsError, check_no_proxy
from itemstore.sigv4 import UnsupportedEndpoint
from itemstore.transport import DynamoDBClient, DynamoDBError, DynamoDBUnreachable

EXTENSION = "itemstore"

# Error codes that mean "DynamoDB cannot serve this now; the same request may succeed later".
UNAVAILABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "ResourceNotFoundException",  # the table is missing or still being created
})


def make_client(settings: Settings) -> DynamoDBClient:
    """The DynamoDB client of one worker: bounded timeouts and attempts, one connection pool.

    Raises SettingsError, naming the variable, for an endpoint URL the client cannot use (one
    with a path: see itemstore.sigv4.host_header), and for an HTTP(S) proxy botocore would send
    its requests through (settings.check_no_proxy).
    """
    session = _session()
    # A botocore client resolves the region (AWS_REGION, config files; NoRegionError if none) and
    # the endpoint (DYNAMODB_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, the regional, FIPS or
    # dual-stack endpoint) exactly as before; it is built once and never sends a request. Unsigned,
    # so that building it does not resolve credentials: an ECS credential endpoint that is not
    # answering yet must not stop the worker from starting (requests answer 503 until it does).
    resolver = session.create_client("dynamodb", region_name=settings.region, endpoint_url=settings.endpoint_url,
                                     config=Config(signature_version=UNSIGNED))
    endpoint_url = resolver.meta.endpoint_url
    check_no_proxy(endpoint_url)  # the client never uses a proxy: refuse one botocore would use
    credentials = ProviderChainCredentials(session)
    try:
        client = DynamoDBClient(
            endpoint_url, resolver.meta.region_name, credentials,
            connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
            max_attempts=settings.max_attempts, ca_certs=ca_bundle(session),
        )
    except UnsupportedEndpoint as error:
        raise SettingsError(_endpoint_source(settings, endpoint_url), endpoint_url,
                            f"http(s)://host[:port] without a path ({error})") from None
    try:
        credentials.get_frozen_credentials()  # resolve the chain now, so the first request does not wait
    except Exception as error:  # noqa: BLE001 (whatever the chain raises, requests answer 503 until it works)
        logging.getLogger(__name__).warning("AWS credentials not available yet (%s: %s); "
                                            "DynamoDB calls answer 503 until they are", type(error).__name__, error)
    return client


def ca_bundle(session: botocore.session.Session) -> str:
    """The CA bundle a botocore client of ``session`` verifies with, in botocore's order: the
    ``ca_bundle`` setting (AWS_CA_BUNDLE, else ``ca_bundle`` of the config file's profile), else
    REQUESTS_CA_BUNDLE (botocore's Endpoint honours it), else botocore's default bundle."""
    from botocore.httpsession import get_cert_path

    return session.get_config_variable("ca_bundle") or os.environ.get("REQUESTS_CA_BUNDLE") or get_cert_path(True)


def _endpoint_source(settings: Settings, endpoint_url: str) -> str:
    """The setting the endpoint URL came from, in botocore's order of precedence."""
    if settings.endpoint_url is not None:
        return "DYNAMODB_ENDPOINT_URL"
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"):
        if os.environ.get(name) == endpoint_url:
            return name
    return "endpoint_url (AWS config file)"


class ProviderChainCredentials:
    """botocore's credential provider chain (environment, ECS task role, ...), resolved at the
    first call that finds credentials, and retried on the next call until then.

    Once resolved, botocore's own objects do the rest: the ECS task-role credentials are
    refreshable, refreshed by the call that finds them within 15 minutes of their expiry (a failed
    refresh keeps the current ones) and, within 10 minutes, by a refresh that must succeed or the
    call fails; the container endpoint is asked with a 2 s timeout, 3 times, sleeping 1 s after
    each failure (at most 9 s).
    """

    def __init__(self, session: botocore.session.Session) -> None:
        self._session = session
        self._credentials = None
        self._lock = threading.Lock()

    def get_frozen_credentials(self):
        credentials = self._credentials
        if credentials is None:
            with self._lock:
                if self._credentials is None:
                    found = self._session.get_credentials()
                    if found is None:
                        raise NoCredentialsError()
                    self._credentials = found
                credentials = self._credentials
        return credentials.get_frozen_credentials()


_SESSION: botocore.session.Session | None = None


def _session() -> botocore.session.Session:
    # One session per process: it caches the loaded service model and the credential provider, so
    # a second app (a test's fresh app) costs milliseconds instead of reloading the model.
    global _SESSION
    if _SESSION is None:
        _SESSION = botocore.session.get_session()
    return _SESSION


class ItemTable:
    """Get and put items of one table by their string hash key."""

    def __init__(self, settings: Settings, client=None) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        self._retry_after = {"Retry-After": str(settings.retry_after)}
        # GetItem's body is this text around the quoted id: the bytes json.dumps (and botocore's
        # serializer) would write, without building and walking a dict per request.
        self._get_body = json.dumps({"TableName": settings.table_name,
                                     "Key": {settings.table_key: {"S": "\0"}}}).split('"\\u0000"')
        # PutItem's body likewise: this text, the item's attribute values as JSON, then "}".
        self._put_head = json.dumps({"TableName": settings.table_name, "Item": None})[:-len("null}")]

    def get(self, item_id: str) -> dict | None:
        """The item's attribute values, or None when there is no such item."""
        head, tail = self._get_body
        return self._call("GetItem", head + quote_json(item_id) + tail).get("Item")

    def put(self, item: dict) -> None:
        """Store the item (attribute values), replacing any item with the same key."""
        self.put_encoded(json.dumps(item))

    def put_encoded(self, attribute_values: str) -> None:
        """Store the item whose attribute values are this JSON text (``codec.encode_item``'s first
        text, or ``json.dumps`` of them), replacing any item with the same key."""
        self._call("PutItem", self._put_head + attribute_values + "}")

    def _call(self, operation: str, body: str) -> dict:
        try:
            return self.client.call(operation, body.encode("utf-8"))
        except (DynamoDBError, DynamoDBUnreachable) as error:
            raise self._translate(error) from None

    def _translate(self, error: Exception) -> ApiError:
        if isinstance(error, DynamoDBError):
            code, message = error.code, error.message
            if code == "ValidationException":
                if "size has exceeded" in message and "hashkey" not in message.lower():
                    return ApiError(contract.ERROR_ITEM_TOO_LARGE, "The item exceeds DynamoDB's 400 KB item size limit.")
                return ApiError(contract.ERROR_INVALID_ITEM, f"DynamoDB rejected the item: {message}")
            if code not in UNAVAILABLE_CODES:
                current_app.logger.error("DynamoDB error %s: %s", code, message)
            else:
                current_app.logger.warning("DynamoDB unavailable: %s", code)
        else:
            # Connection refused, connect or read timeout, connection reset: the client gave up
            # after its bounded attempts.
            current_app.logger.warning("DynamoDB unreachable: %s", error)
        return ApiError(contract.ERROR_DYNAMODB_UNAVAILABLE, "The item store is unavailable; retry later.",
                        self._retry_after)


def init_app(app: Flask, settings: Settings) -> ItemTable:
    table = ItemTable(settings)
    app.extensions[EXTENSION] = table
    return table


def get_table() -> ItemTable:
    """The current app's table helper."""
    return current_app.extensions[EXTENSION]
