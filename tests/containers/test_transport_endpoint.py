"""The endpoint URL: botocore's settings name it (DYNAMODB_ENDPOINT_URL is the app's own,
AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, endpoint_url in the config file); the client sends
every request to ``/`` of it, so a URL with a path (a proxy at http://proxy/ddb) is refused at
start with a message that names the setting, never silently sent to ``/``.
"""

from __future__ import annotations

import pytest
from itemstore import create_app, dynamo
from itemstore.settings import SettingsError

from tests.support.containers import SERVICES
from tests.support.processes import REGION

SERVICE = SERVICES[0]
# Refused before any request: nothing needs to listen here.
UNUSED_ENDPOINT = "http://127.0.0.1:8000"


@pytest.fixture
def fresh_session(monkeypatch, tmp_path):
    """A new botocore session (it reads the environment and config file anew), no config file,
    no endpoint variables."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(dynamo, "_SESSION", None)
    return monkeypatch


def _app(**config):
    return create_app({"TABLE_NAME": SERVICE.table_name, "TABLE_KEY": SERVICE.table_key,
                       "ITEM_PATH_PREFIX": SERVICE.prefix, "AWS_REGION": REGION, **config})


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"])
@pytest.mark.parametrize("path", ["/ddb", "/ddb/", "/a/b"])
def test_an_endpoint_url_with_a_path_is_refused_naming_the_variable(fresh_session, variable, path):
    url = UNUSED_ENDPOINT + path
    fresh_session.setenv(variable, url)
    with pytest.raises(SettingsError) as raised:
        _app()
    assert raised.value.name == variable
    assert str(raised.value).startswith(f"{variable}={url!r} is not valid: http(s)://host[:port] without a path")
    assert "sends every request to '/'" in str(raised.value)


def test_an_endpoint_url_with_a_path_in_the_config_file_is_refused(fresh_session, tmp_path):
    config = tmp_path / "config"
    config.write_text(f"[default]\nendpoint_url = {UNUSED_ENDPOINT}/ddb\n")
    fresh_session.setenv("AWS_CONFIG_FILE", str(config))
    with pytest.raises(SettingsError, match=r"endpoint_url \(AWS config file\)=.*/ddb' is not valid"):
        _app()


def test_the_apps_own_endpoint_setting_refuses_a_path(fresh_session):
    with pytest.raises(SettingsError) as raised:
        _app(DYNAMODB_ENDPOINT_URL=UNUSED_ENDPOINT + "/ddb")
    assert raised.value.name == "DYNAMODB_ENDPOINT_URL"


@pytest.mark.integration
@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"])
@pytest.mark.parametrize("suffix", ["", "/"])
def test_an_endpoint_url_without_a_path_is_used(fresh_session, dynalite, variable, suffix):
    fresh_session.setenv(variable, dynalite.url + suffix)
    client = _app().test_client()
    assert client.put(SERVICE.url(f"via-{variable}"), json={"n": 1}).status_code == 200
    response = client.get(SERVICE.url(f"via-{variable}"))
    assert (response.status_code, response.get_json()) == (200, {SERVICE.table_key: f"via-{variable}", "n": 1})


@pytest.mark.integration
def test_the_image_command_stops_at_start_on_an_endpoint_path(dynalite, start_gunicorn):
    url = dynalite.url + "/ddb"
    with pytest.raises(RuntimeError) as raised:
        start_gunicorn(SERVICE, AWS_ENDPOINT_URL_DYNAMODB=url)
    log = str(raised.value)
    assert f"AWS_ENDPOINT_URL_DYNAMODB={url!r} is not valid" in log
    assert "Worker failed to boot" in log
