"""Typed, validated settings of one itemstore service, read from the Flask config."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

# DynamoDB's item size limit (400 KB, counting attribute names and values). A JSON body larger than
# this cannot become a storable item, so it is refused before anything is sent to DynamoDB.
DYNAMODB_MAX_ITEM_BYTES = 400 * 1024

# Every environment variable the service reads (the ECS task definition sets the first five), with
# its default. None means "unset": required, or left to botocore's own lookup for AWS_REGION.
DEFAULTS: dict[str, str | None] = {
    "TABLE_NAME": None,
    "TABLE_KEY": None,
    "ITEM_PATH_PREFIX": None,
    "AWS_REGION": None,
    "DYNAMODB_ENDPOINT_URL": None,
    "DYNAMODB_CONNECT_TIMEOUT": "1.0",
    "DYNAMODB_READ_TIMEOUT": "2.0",
    "DYNAMODB_MAX_ATTEMPTS": "3",
    "RETRY_AFTER_SECONDS": "1",
}

_KEY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


class SettingsError(ValueError):
    """A setting has a value the service cannot run with; the message names it and what is allowed."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        super().__init__(f"{name}={value!r} is not valid: {allowed}")
        self.name = name


@dataclass(frozen=True)
class Settings:
    table_name: str
    """TABLE_NAME: the DynamoDB table. Required; 3-255 of A-Z a-z 0-9 _ - . ."""
    table_key: str
    """TABLE_KEY: the table's hash key attribute (type S), set from the path on PUT. Required."""
    item_path_prefix: str
    """ITEM_PATH_PREFIX: items live at ``<prefix>/<id>``, e.g. ``/foodstore/foods``. Required."""
    region: str | None = None
    """AWS_REGION. Default: botocore's own lookup (ECS always sets AWS_REGION)."""
    endpoint_url: str | None = None
    """DYNAMODB_ENDPOINT_URL: a local DynamoDB-compatible server. Default: the regional endpoint."""
    connect_timeout: float = 1.0
    """DYNAMODB_CONNECT_TIMEOUT in seconds, per attempt; > 0."""
    read_timeout: float = 2.0
    """DYNAMODB_READ_TIMEOUT in seconds, per attempt; > 0. DynamoDB answers in milliseconds."""
    max_attempts: int = 3
    """DYNAMODB_MAX_ATTEMPTS: attempts per request including the first (botocore's standard retry
    rules, as itemstore.transport applies them); 1-10."""
    retry_after: int = 1
    """RETRY_AFTER_SECONDS: the Retry-After header sent with a 503; 0-3600."""

    def __post_init__(self) -> None:
        if not isinstance(self.table_name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", self.table_name):
            raise SettingsError("TABLE_NAME", self.table_name, "3-255 of A-Z a-z 0-9 _ - .")
        if not isinstance(self.table_key, str) or not _KEY_NAME.match(self.table_key):
            raise SettingsError("TABLE_KEY", self.table_key, "1-255 of A-Z a-z 0-9 _ - .")
        if not isinstance(self.item_path_prefix, str) or not _PREFIX.match(self.item_path_prefix):
            raise SettingsError(
                "ITEM_PATH_PREFIX", self.item_path_prefix,
                "a path such as /foodstore/foods: starts with '/', no trailing '/', segments of A-Z a-z 0-9 . _ ~ -",
            )
        if self.endpoint_url is not None and not re.match(r"^https?://[^/\s]+/?$", self.endpoint_url):
            raise SettingsError("DYNAMODB_ENDPOINT_URL", self.endpoint_url, "http(s)://host[:port]")
        for name, value in (("DYNAMODB_CONNECT_TIMEOUT", self.connect_timeout),
                            ("DYNAMODB_READ_TIMEOUT", self.read_timeout)):
            if not 0 < value <= 60:
                raise SettingsError(name, value, "seconds, more than 0 and at most 60")
        if not 1 <= self.max_attempts <= 10:
            raise SettingsError("DYNAMODB_MAX_ATTEMPTS", self.max_attempts, "an integer from 1 to 10")
        if not 0 <= self.retry_after <= 3600:
            raise SettingsError("RETRY_AFTER_SECONDS", self.retry_after, "an integer from 0 to 3600")

    @property
    def worst_case_seconds(self) -> float:
        """An upper bound on how long one DynamoDB call can take before it fails: every attempt
        times out on connect and on read, plus the standard-mode backoff (at most 2**(n-1) s
        before retry n, jittered; see itemstore.transport)."""
        backoff = sum(min(2 ** n, 20) for n in range(self.max_attempts - 1))
        return self.max_attempts * (self.connect_timeout + self.read_timeout) + backoff

    @classmethod
    def from_mapping(cls, config) -> Settings:
        """Build from a mapping of the names in DEFAULTS (the Flask config); '' counts as unset."""

        def get(name: str) -> str | None:
            value = config.get(name)
            return DEFAULTS[name] if value is None or value == "" else value

        def number(name: str, kind):
            value = get(name)
            try:
                return kind(value)
            except (TypeError, ValueError):
                raise SettingsError(name, value, f"a {kind.__name__}") from None

        for name in ("TABLE_NAME", "TABLE_KEY", "ITEM_PATH_PREFIX"):
            if get(name) is None:
                raise SettingsError(name, None, "required; set it in the environment")
        return cls(
            table_name=get("TABLE_NAME"),
            table_key=get("TABLE_KEY"),
            item_path_prefix=get("ITEM_PATH_PREFIX"),
            region=get("AWS_REGION"),
            endpoint_url=get("DYNAMODB_ENDPOINT_URL"),
            connect_timeout=number("DYNAMODB_CONNECT_TIMEOUT", float),
            read_timeout=number("DYNAMODB_READ_TIMEOUT", float),
            max_attempts=number("DYNAMODB_MAX_ATTEMPTS", int),
            retry_after=number("RETRY_AFTER_SECONDS", int),
        )


def from_environment(environ=os.environ) -> dict[str, str]:
    """The DEFAULTS names that are set in the environment."""
    return {name: environ[name] for name in DEFAULTS if name in environ}
