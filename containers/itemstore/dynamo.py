"""The one owner of the DynamoDB client: created once per worker process, reused by every request.

botocore clients are thread-safe and keep a pool of kept-alive HTTPS connections, so one client per
gunicorn worker (created after the fork, when the factory runs) serves all of the worker's threads.
"""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, current_app

from itemstore.errors import ApiError
from itemstore.settings import Settings

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


def make_client(settings: Settings):
    """A low-level DynamoDB client with bounded timeouts and retries."""
    config = Config(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        # Standard mode retries throttling and transient errors with jittered backoff, and its
        # retry quota stops a fleet from amplifying an outage.
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        # Every request to DynamoDB is built here from a validated item (codec.to_item), so
        # botocore's second walk over the parameters finds nothing; it costs CPU per request.
        parameter_validation=False,
        # Threads of one worker share the pool; one connection per thread is enough.
        max_pool_connections=64,
    )
    return _session().client("dynamodb", region_name=settings.region, endpoint_url=settings.endpoint_url,
                             config=config)


_SESSION: boto3.session.Session | None = None


def _session() -> boto3.session.Session:
    # One session per process: it caches the loaded service model, so a second client (a test's
    # fresh app) costs milliseconds instead of reloading the model.
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session()
    return _SESSION


class ItemTable:
    """Get and put items of one table by their string hash key."""

    def __init__(self, settings: Settings, client=None) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        self._retry_after = {"Retry-After": str(settings.retry_after)}

    def get(self, item_id: str) -> dict | None:
        """The item's attribute values, or None when there is no such item."""
        try:
            response = self.client.get_item(
                TableName=self.settings.table_name, Key={self.settings.table_key: {"S": item_id}}
            )
        except (ClientError, BotoCoreError) as error:
            raise self._translate(error) from None
        return response.get("Item")

    def put(self, item: dict) -> None:
        """Store the item (attribute values), replacing any item with the same key."""
        try:
            self.client.put_item(TableName=self.settings.table_name, Item=item)
        except (ClientError, BotoCoreError) as error:
            raise self._translate(error) from None

    def _translate(self, error: Exception) -> ApiError:
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", "")
            if code == "ValidationException":
                if "size has exceeded" in message and "hashkey" not in message.lower():
                    return ApiError(413, "item_too_large", "The item exceeds DynamoDB's 400 KB item size limit.")
                return ApiError(400, "invalid_item", f"DynamoDB rejected the item: {message}")
            if code not in UNAVAILABLE_CODES:
                current_app.logger.error("DynamoDB error %s: %s", code, message)
            else:
                current_app.logger.warning("DynamoDB unavailable: %s", code)
        else:
            # Connection refused, connect or read timeout, connection reset: botocore gave up
            # after its bounded attempts.
            current_app.logger.warning("DynamoDB unreachable: %s", error)
        return ApiError(503, "dynamodb_unavailable", "The item store is unavailable; retry later.",
                        self._retry_after)


def init_app(app: Flask, settings: Settings) -> ItemTable:
    table = ItemTable(settings)
    app.extensions[EXTENSION] = table
    return table


def get_table() -> ItemTable:
    """The current app's table helper."""
    return current_app.extensions[EXTENSION]
