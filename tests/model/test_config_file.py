"""TOML configuration: the shipped files load, the default reproduces StackConfig(), errors name the key."""

from __future__ import annotations

import pytest

from generator import ConfigError, StackConfig
from generator.model.config_file import config_from_mapping, load_config
from tests.support.processes import REPO

STACKS = sorted((REPO / "stacks").glob("*.toml"))


def test_default_toml_is_exactly_the_built_in_default():
    assert load_config(REPO / "stacks" / "default.toml") == StackConfig()


def test_default_toml_documents_every_stack_and_service_setting():
    text = (REPO / "stacks" / "default.toml").read_text()
    from generator.model.config_file import SERVICE_KEYS, STACK_KEYS

    for key in (*STACK_KEYS, *SERVICE_KEYS):
        assert f"{key} =" in text or f"[{key}]" in text or f"[[{key}]]" in text, key


@pytest.mark.parametrize("path", STACKS, ids=lambda p: p.name)
def test_every_shipped_stack_file_loads(path):
    assert load_config(path).services


def test_three_services_example_adds_orders():
    config = load_config(REPO / "stacks" / "three-services.toml")
    assert [s.name for s in config.services] == ["foodstore", "petstore", "orders"]
    assert config.services[2].protected_methods == ("GET", "PUT")


def test_unknown_top_level_key_is_refused_with_the_known_keys():
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"az_cout": 2})
    assert caught.value.field == "az_cout" and "az_count" in str(caught.value)


def test_unknown_service_key_names_its_service():
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"services": [{"name": "a", "path": "/a/{id}", "mem": 512}]})
    assert caught.value.field == "services[0].mem"


def test_service_error_is_placed_under_its_index():
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"services": [{"name": "a", "path": "/a/{id}"}, {"name": "b", "path": "/b/{id}", "cpu": 300}]})
    assert caught.value.field == "services[1].cpu"


def test_service_without_routes_openapi_or_path_is_refused_naming_all_three():
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"services": [{"name": "a"}]})
    assert caught.value.field == "services[0].routes"
    assert all(kind in caught.value.allowed for kind in ("routes", "openapi", "path"))


def test_invalid_toml_is_a_config_error_with_the_position(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("az_count = = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "line 1" in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    assert "cannot read" in str(caught.value)


def test_wrong_type_is_refused_not_coerced():
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"az_count": "3"})
    assert caught.value.field == "az_count"
