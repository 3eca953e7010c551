"""Settings: defaults, then the environment, then the test mapping; bad values name the variable."""

from __future__ import annotations

import pytest
from itemstore import create_app
from itemstore.settings import Settings, SettingsError

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
