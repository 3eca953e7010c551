"""Settings: defaults, then the environment, then the test mapping; bad values name the variable."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from itemstore import create_app
from itemstore.contract import ENV_ITEM_PATH_PREFIX, ENV_TABLE_NAME, GATEWAY_TIMEOUT_SECONDS
from itemstore.settings import Settings, SettingsError, check_no_proxy, check_overrides

BASE = {"TABLE_NAME": "foods", "TABLE_KEY": "foodId", "ITEM_PATH_PREFIX": "/foodstore/foods",
        "AWS_REGION": "us-east-1", "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9"}


def test_defaults():
    settings = Settings.from_mapping(BASE)
    assert (settings.connect_timeout, settings.read_timeout, settings.max_attempts, settings.retry_after) == (1.0, 2.0, 3, 1)


def test_the_environment_overrides_defaults_and_the_mapping_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "from-env")
    monkeypatch.setenv("DYNAMODB_READ_TIMEOUT", "0.5")
    app = create_app({k: v for k, v in BASE.items() if k != "TABLE_NAME"} | {"DYNAMODB_MAX_ATTEMPTS": "2"})
    settings = app.extensions["itemstore"].settings
    assert (settings.table_name, settings.read_timeout, settings.max_attempts) == ("from-env", 0.5, 2)
    assert create_app(BASE).extensions["itemstore"].settings.table_name == "foods"


@pytest.mark.parametrize("name", ["TABLE_NAME", "TABLE_KEY", "ITEM_PATH_PREFIX"])
def test_required_settings_are_named_when_missing(name, monkeypatch):
    monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError, match=name):
        create_app({**BASE, name: ""})


@pytest.mark.parametrize(("name", "value"), [
    ("ITEM_PATH_PREFIX", "foodstore/foods"), ("ITEM_PATH_PREFIX", "/foodstore/foods/"), ("ITEM_PATH_PREFIX", "/a/<b>"),
    ("TABLE_KEY", "food id"), ("TABLE_NAME", "ab"), ("DYNAMODB_ENDPOINT_URL", "127.0.0.1:8000"),
    ("DYNAMODB_CONNECT_TIMEOUT", "0"), ("DYNAMODB_READ_TIMEOUT", "soon"), ("DYNAMODB_MAX_ATTEMPTS", "11"),
    ("RETRY_AFTER_SECONDS", "-1"),
])
def test_invalid_settings_are_refused_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_mapping({**BASE, name: value})


def test_worst_case_bounds_every_attempt_and_backoff():
    settings = Settings.from_mapping({**BASE, "DYNAMODB_CONNECT_TIMEOUT": "1", "DYNAMODB_READ_TIMEOUT": "2",
                                      "DYNAMODB_MAX_ATTEMPTS": "3"})
    assert settings.worst_case_seconds == 3 * 3 + (1 + 2)


def test_settings_whose_worst_case_reaches_the_gateway_timeout_are_refused_naming_them():
    # 5 x (1 + 2) s + backoff 1 + 2 + 4 + 8 s = 30 s: not below API Gateway's limit.
    with pytest.raises(SettingsError) as error:
        Settings.from_mapping({**BASE, "DYNAMODB_MAX_ATTEMPTS": "5"})
    message = str(error.value)
    for name in ("DYNAMODB_CONNECT_TIMEOUT", "DYNAMODB_READ_TIMEOUT", "DYNAMODB_MAX_ATTEMPTS"):
        assert name in message
    assert f"{GATEWAY_TIMEOUT_SECONDS} s" in message
    assert Settings.from_mapping({**BASE, "DYNAMODB_MAX_ATTEMPTS": "4"}).worst_case_seconds < GATEWAY_TIMEOUT_SECONDS


def test_the_defaults_fit_the_gateway_timeout():
    assert Settings.from_mapping(BASE).worst_case_seconds < GATEWAY_TIMEOUT_SECONDS


@pytest.mark.parametrize("environment", [
    {}, {"DYNAMODB_MAX_ATTEMPTS": "4"}, {"DYNAMODB_READ_TIMEOUT": "0.5", "RETRY_AFTER_SECONDS": "5"},
    {"DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:8000"}, {"LOG_LEVEL": "debug", "OTHER": "anything"},
])
def test_check_overrides_accepts_what_the_service_would_run_with(environment):
    check_overrides(environment)


@pytest.mark.parametrize(("environment", "named"), [
    ({"DYNAMODB_MAX_ATTEMPTS": "10"}, "DYNAMODB_MAX_ATTEMPTS"),
    ({"DYNAMODB_READ_TIMEOUT": "60"}, "DYNAMODB_READ_TIMEOUT"),
    ({"DYNAMODB_CONNECT_TIMEOUT": "0"}, "DYNAMODB_CONNECT_TIMEOUT"),
    ({"DYNAMODB_MAX_ATTEMPTS": "three"}, "DYNAMODB_MAX_ATTEMPTS"),
    ({"RETRY_AFTER_SECONDS": "-1"}, "RETRY_AFTER_SECONDS"),
    ({"DYNAMODB_ENDPOINT_URL": "localhost:8000"}, "DYNAMODB_ENDPOINT_URL"),
    ({"DYNAMODB_MAX_ATTEMPT": "2"}, "DYNAMODB_MAX_ATTEMPT"),  # a typo is not silently ignored
])
def test_check_overrides_refuses_what_the_service_would_refuse(environment, named):
    with pytest.raises(SettingsError, match=named):
        check_overrides(environment)


def test_check_overrides_ignores_the_names_the_template_sets():
    # TABLE_NAME and friends come from the template, which the generator checks itself.
    check_overrides({ENV_TABLE_NAME: "", ENV_ITEM_PATH_PREFIX: "not a path"})


# Proxies: the item store's client never uses one, so a proxy botocore would use is refused at start
# (settings.check_no_proxy). botocore is the oracle for "would use".
PROXY = "http://proxy.internal:3128"
PROXY_NAMES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "Https_Proxy")
PROXY_VALUES = ("", PROXY, "http://user:secret@proxy.internal:3128")
NO_PROXY_VALUES = ("", "*", "127.0.0.1", "amazonaws.com", ".amazonaws.com", "dynamodb.us-east-1.amazonaws.com",
                   "example.com,127.0.0.1:8000", "localhost, amazonaws.com", "DYNAMODB.US-EAST-1.AMAZONAWS.COM")
ENDPOINTS = ("https://dynamodb.us-east-1.amazonaws.com", "http://127.0.0.1:8000", "http://localhost:8000",
             "https://dynamodb-fips.us-gov-west-1.amazonaws.com")


def _botocore_proxy(endpoint_url: str, environ: dict[str, str]) -> str | None:
    """The proxy a botocore client would send requests to ``endpoint_url`` through, in ``environ``."""
    from unittest import mock

    from botocore.httpsession import ProxyConfiguration
    from botocore.utils import get_environ_proxies

    with mock.patch.dict("os.environ", environ, clear=True):
        return ProxyConfiguration(proxies=get_environ_proxies(endpoint_url)).proxy_url_for(endpoint_url)


def _refused(endpoint_url: str, environ: dict[str, str]) -> SettingsError | None:
    try:
        check_no_proxy(endpoint_url, environ)
    except SettingsError as error:
        return error
    return None


@given(
    endpoint=st.sampled_from(ENDPOINTS),
    proxies=st.dictionaries(st.sampled_from([n for n in PROXY_NAMES if "NO" not in n.upper()]),
                            st.sampled_from(PROXY_VALUES), max_size=4),
    no_proxy=st.dictionaries(st.sampled_from(["NO_PROXY", "no_proxy"]), st.sampled_from(NO_PROXY_VALUES), max_size=2),
)
@hypothesis_settings(max_examples=300, deadline=None)
def test_a_proxy_is_refused_exactly_when_botocore_would_use_it(endpoint, proxies, no_proxy):
    environ = {**proxies, **no_proxy}
    used = _botocore_proxy(endpoint, environ)
    refused = _refused(endpoint, environ)
    assert (refused is not None) == (used is not None), (environ, used, refused)
    if refused is not None:
        assert environ[refused.name] and refused.name.lower() == urlsplit(endpoint).scheme + "_proxy"


@pytest.mark.parametrize(("environ", "named"), [
    ({"HTTPS_PROXY": PROXY}, "HTTPS_PROXY"),
    ({"https_proxy": PROXY}, "https_proxy"),
    ({"HTTPS_PROXY": "http://other:1", "https_proxy": PROXY}, "https_proxy"),  # lowercase wins, as in urllib
    ({"HTTPS_PROXY": PROXY, "NO_PROXY": "example.com"}, "HTTPS_PROXY"),
])
def test_an_https_proxy_for_the_regional_endpoint_is_refused_naming_its_variable(environ, named):
    error = _refused("https://dynamodb.us-east-1.amazonaws.com", environ)
    assert error is not None and error.name == named
    assert "NO_PROXY" in error.allowed  # the way out: exclude the endpoint's host


@pytest.mark.parametrize("environ", [
    {},
    {"HTTP_PROXY": PROXY},  # another scheme's proxy
    {"HTTPS_PROXY": PROXY, "NO_PROXY": "amazonaws.com"},
    {"HTTPS_PROXY": PROXY, "no_proxy": ".amazonaws.com"},
    {"HTTPS_PROXY": PROXY, "NO_PROXY": "*"},
    {"HTTPS_PROXY": ""},
    {"HTTPS_PROXY": PROXY, "https_proxy": ""},  # an empty lowercase variable unsets it, as in urllib
])
def test_no_proxy_in_effect_for_the_endpoint_is_accepted(environ):
    assert _refused("https://dynamodb.us-east-1.amazonaws.com", environ) is None


def test_the_error_does_not_show_the_proxy_password():
    error = _refused("http://127.0.0.1:8000", {"HTTP_PROXY": "http://user:s3cret@proxy.internal:3128"})
    assert error is not None and "s3cret" not in str(error)
    assert error.value == "http://user:***@proxy.internal:3128"


def test_the_app_refuses_a_proxy_for_its_resolved_endpoint(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", PROXY)
    with pytest.raises(SettingsError) as raised:
        create_app(BASE)  # DYNAMODB_ENDPOINT_URL is http://127.0.0.1:9
    assert raised.value.name == "HTTP_PROXY"
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert create_app(BASE).extensions["itemstore"].client.endpoint_url == BASE["DYNAMODB_ENDPOINT_URL"]
