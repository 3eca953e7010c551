"""Settings: defaults, then the environment, then the test mapping; bad values name the variable."""

from __future__ import annotations

import pytest
from itemstore import create_app
from itemstore.contract import ENV_ITEM_PATH_PREFIX, ENV_TABLE_NAME, GATEWAY_TIMEOUT_SECONDS
from itemstore.settings import Settings, SettingsError, check_overrides

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
