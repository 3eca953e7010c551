"""Typed, validated settings of one itemstore service, read from the Flask config.

Standard library only: the gunicorn master imports it to check the environment before any worker
boots, and the generator imports :func:`check_overrides` to refuse bad task environments at
configuration time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from itemstore.contract import (
    ENV_ITEM_PATH_PREFIX,
    ENV_REGION,
    ENV_TABLE_KEY,
    ENV_TABLE_NAME,
    GATEWAY_TIMEOUT_SECONDS,
)

# The DynamoDB client settings a user may override in the task environment (the generator passes a
# service's `environment` through check_overrides), with their defaults. None means unset.
OVERRIDES: dict[str, str | None] = {
    "DYNAMODB_ENDPOINT_URL": None,
    "DYNAMODB_CONNECT_TIMEOUT": "1.0",
    "DYNAMODB_READ_TIMEOUT": "2.0",
    "DYNAMODB_MAX_ATTEMPTS": "3",
    "RETRY_AFTER_SECONDS": "1",
}
# The prefixes of the override names: any other name with one of them is a typo, refused.
OVERRIDE_PREFIXES = ("DYNAMODB_", "RETRY_")

# Every environment variable the service reads (the ECS task definition sets the first four), with
# its default. None means "unset": required, or left to botocore's own lookup for AWS_REGION.
DEFAULTS: dict[str, str | None] = {
    ENV_TABLE_NAME: None,
    ENV_TABLE_KEY: None,
    ENV_ITEM_PATH_PREFIX: None,
    ENV_REGION: None,
    **OVERRIDES,
}
REQUIRED = (ENV_TABLE_NAME, ENV_TABLE_KEY, ENV_ITEM_PATH_PREFIX)

_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_KEY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")
_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")
_ENDPOINT = re.compile(r"https?://[^/\s]+/?")
# What one request may spend waiting on DynamoDB, with every attempt timing out: it must end before
# API Gateway gives up on the integration, or the client gets a 504 while the task still retries.
_WORST_CASE_NAMES = "DYNAMODB_CONNECT_TIMEOUT, DYNAMODB_READ_TIMEOUT, DYNAMODB_MAX_ATTEMPTS"


class SettingsError(ValueError):
    """A setting has a value the service cannot run with; the message names it and what is allowed."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        shown = " is not set" if value is None else f"={value!r} is not valid"
        super().__init__(f"{name}{shown}: {allowed}")
        self.name = name
        self.value = value
        self.allowed = allowed


def worst_case_seconds(connect_timeout: float, read_timeout: float, max_attempts: int) -> float:
    """An upper bound on how long one DynamoDB call can take before it fails: every attempt times
    out on connect and on read, plus the standard-mode backoff (at most min(2**(n-1), 20) s before
    retry n, jittered, x-amz-retry-after included; see itemstore.transport.backoff_bound)."""
    backoff = sum(min(2 ** n, 20) for n in range(max_attempts - 1))
    return max_attempts * (connect_timeout + read_timeout) + backoff


def _check_client(endpoint_url: str | None, connect_timeout: float, read_timeout: float,
                  max_attempts: int, retry_after: int) -> None:
    if endpoint_url is not None and not (isinstance(endpoint_url, str) and _ENDPOINT.fullmatch(endpoint_url)):
        raise SettingsError("DYNAMODB_ENDPOINT_URL", endpoint_url, "http(s)://host[:port]")
    for name, value in (("DYNAMODB_CONNECT_TIMEOUT", connect_timeout), ("DYNAMODB_READ_TIMEOUT", read_timeout)):
        if not 0 < value <= 60:
            raise SettingsError(name, value, "seconds, more than 0 and at most 60")
    if not 1 <= max_attempts <= 10:
        raise SettingsError("DYNAMODB_MAX_ATTEMPTS", max_attempts, "an integer from 1 to 10")
    if not 0 <= retry_after <= 3600:
        raise SettingsError("RETRY_AFTER_SECONDS", retry_after, "an integer from 0 to 3600")
    worst = worst_case_seconds(connect_timeout, read_timeout, max_attempts)
    if worst >= GATEWAY_TIMEOUT_SECONDS:
        raise SettingsError(
            _WORST_CASE_NAMES, f"{connect_timeout}, {read_timeout}, {max_attempts}",
            f"together they let one request wait {worst:g} s on DynamoDB (attempts x (connect + read) "
            f"+ backoff); keep it below API Gateway's {GATEWAY_TIMEOUT_SECONDS} s integration timeout "
            "with fewer attempts or shorter timeouts",
        )


def _client_values(get: Callable[[str], str | None]) -> dict:
    """The client fields of Settings, parsed from the override names (get returns a default when unset)."""

    def number(name: str, kind: type, what: str):
        value = get(name)
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise SettingsError(name, value, what) from None

    return {
        "endpoint_url": get("DYNAMODB_ENDPOINT_URL"),
        "connect_timeout": number("DYNAMODB_CONNECT_TIMEOUT", float, "a number of seconds"),
        "read_timeout": number("DYNAMODB_READ_TIMEOUT", float, "a number of seconds"),
        "max_attempts": number("DYNAMODB_MAX_ATTEMPTS", int, "an integer from 1 to 10"),
        "retry_after": number("RETRY_AFTER_SECONDS", int, "an integer from 0 to 3600"),
    }


def _getter(config: Mapping) -> Callable[[str], str | None]:
    def get(name: str) -> str | None:
        value = config.get(name)
        return DEFAULTS[name] if value is None or value == "" else value

    return get


def check_overrides(environment: Mapping[str, str]) -> None:
    """Refuse DynamoDB client overrides the service would refuse at start, raising SettingsError.

    ``environment`` is the extra task environment of a service (other names are ignored): every
    DYNAMODB_*/RETRY_* name must be one of OVERRIDES, each value valid, and together with the
    defaults of the unset ones they must keep a request's worst case below the gateway timeout.
    """
    for name, value in environment.items():
        if name.startswith(OVERRIDE_PREFIXES) and name not in OVERRIDES:
            raise SettingsError(name, value, f"not a setting of the item store; it reads {', '.join(OVERRIDES)}")
    _check_client(**_client_values(_getter({k: v for k, v in environment.items() if k in OVERRIDES})))


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
    """DYNAMODB_CONNECT_TIMEOUT in seconds, per attempt; > 0, at most 60."""
    read_timeout: float = 2.0
    """DYNAMODB_READ_TIMEOUT in seconds, per attempt; > 0, at most 60. DynamoDB answers in milliseconds."""
    max_attempts: int = 3
    """DYNAMODB_MAX_ATTEMPTS: attempts per request including the first (botocore's standard retry
    rules, as itemstore.transport applies them); 1-10. Together with the timeouts, the worst case
    (``worst_case_seconds``) must stay below GATEWAY_TIMEOUT_SECONDS."""
    retry_after: int = 1
    """RETRY_AFTER_SECONDS: the Retry-After header sent with a 503; 0-3600."""

    def __post_init__(self) -> None:
        if not isinstance(self.table_name, str) or not _TABLE_NAME.fullmatch(self.table_name):
            raise SettingsError(ENV_TABLE_NAME, self.table_name, "3-255 of A-Z a-z 0-9 _ - .")
        if not isinstance(self.table_key, str) or not _KEY_NAME.fullmatch(self.table_key):
            raise SettingsError(ENV_TABLE_KEY, self.table_key, "1-255 of A-Z a-z 0-9 _ - .")
        if not isinstance(self.item_path_prefix, str) or not _PREFIX.fullmatch(self.item_path_prefix):
            raise SettingsError(
                ENV_ITEM_PATH_PREFIX, self.item_path_prefix,
                "a path such as /foodstore/foods: starts with '/', no trailing '/', segments of A-Z a-z 0-9 . _ ~ -",
            )
        _check_client(self.endpoint_url, self.connect_timeout, self.read_timeout, self.max_attempts, self.retry_after)

    @property
    def worst_case_seconds(self) -> float:
        """An upper bound on how long one DynamoDB call can take before it fails (see the function)."""
        return worst_case_seconds(self.connect_timeout, self.read_timeout, self.max_attempts)

    @classmethod
    def from_mapping(cls, config: Mapping) -> Settings:
        """Build from a mapping of the names in DEFAULTS (the Flask config); '' counts as unset."""
        get = _getter(config)
        for name in REQUIRED:
            if get(name) is None:
                raise SettingsError(name, None, "required; set it in the environment")
        return cls(
            table_name=get(ENV_TABLE_NAME),
            table_key=get(ENV_TABLE_KEY),
            item_path_prefix=get(ENV_ITEM_PATH_PREFIX),
            region=get(ENV_REGION),
            **_client_values(get),
        )


def _environment_proxies(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """{scheme: (variable, value)} of the ``<scheme>_proxy`` variables, read as the standard
    library's ``urllib.request.getproxies_environment`` reads them (botocore's source on Linux):
    any case, the lowercase name winning over the others, and a lowercase one set empty unsetting it."""
    proxies: dict[str, tuple[str, str]] = {}
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy"):
            proxies[name.lower()[:-6]] = (name, value)
    for name, value in environ.items():
        if name.endswith("_proxy"):  # lowercase suffix: the second pass of getproxies_environment
            if value:
                proxies[name.lower()[:-6]] = (name, value)
            else:
                proxies.pop(name.lower()[:-6], None)
    return proxies


def _redacted(url: str) -> str:
    """A proxy URL without its password (user:password@host), fit for an error message and the log."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, sep, userinfo = head.partition("://")
    user = userinfo.split(":", 1)[0] if sep else head.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}" if sep else f"{user}:***@{tail}"


def check_no_proxy(endpoint_url: str, environ: Mapping[str, str] = os.environ) -> None:
    """Refuse, with SettingsError naming the variable, an HTTP(S) proxy that botocore would send
    DynamoDB requests to ``endpoint_url`` through.

    The rule is botocore's (``botocore.utils.get_environ_proxies`` and its ProxyConfiguration): the
    proxy of the endpoint's scheme (HTTPS_PROXY/https_proxy for https, HTTP_PROXY/http_proxy for
    http), unless NO_PROXY/no_proxy names the endpoint's host (a DNS suffix, or ``*``). The item
    store's own client (itemstore.transport) connects to the endpoint directly and never through
    a proxy, so such a setting would be ignored silently; it is refused at start instead.
    """
    proxies = _environment_proxies(environ)
    scheme, netloc = urlsplit(endpoint_url)[:2]
    found = proxies.get(scheme)
    if found is None:
        return
    # Here, not at the top: urllib.request loads http.client, email and ssl (~40 ms), and the
    # generator reads this module for its contract facts on every cold `ecsapi template`.
    from urllib.request import proxy_bypass_environment

    bypass = {"no": proxies["no"][1]} if "no" in proxies else {}
    if proxy_bypass_environment(netloc, bypass):
        return
    name, value = found
    no_proxy = proxies["no"][0] if "no" in proxies else "NO_PROXY"
    raise SettingsError(
        name, _redacted(value),
        f"the item store's DynamoDB client connects to {netloc} directly and does not use HTTP(S) proxies "
        f"(the task reaches DynamoDB through the VPC's route); unset {name}, or add {urlsplit(endpoint_url).hostname} "
        f"to {no_proxy}",
    )


def from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The DEFAULTS names that are set in the environment."""
    return {name: environ[name] for name in DEFAULTS if name in environ}
