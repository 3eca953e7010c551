"""The local Cloud Map: registrations the gateway sees at once, round robin over the registered
instances, and a deregistered instance kept for the discovery cache's time, as API Gateway does."""

from __future__ import annotations

import time

import pytest

from ecsapi_local.cloudmap import DiscoveryCache, Registry, read_registry

SERVICE = "FoodstoreDiscoveryService"


@pytest.fixture
def registry(tmp_path) -> Registry:
    registry = Registry(tmp_path / "cloudmap.json")
    registry.add_service(SERVICE)
    registry.register(SERVICE, "t1", "http://127.0.0.1:9001")
    registry.register(SERVICE, "t2", "http://127.0.0.1:9002")
    return registry


def test_requests_are_spread_over_every_registered_instance(registry):
    cache = DiscoveryCache(registry.path, cache_seconds=0)
    picks = [cache.pick(SERVICE) for _ in range(4)]
    assert sorted(picks) == ["http://127.0.0.1:9001"] * 2 + ["http://127.0.0.1:9002"] * 2


def test_a_deregistered_instance_still_gets_requests_until_the_cache_expires(registry, monkeypatch):
    cache = DiscoveryCache(registry.path, cache_seconds=30)
    registry.deregister(SERVICE, "t1")
    time.sleep(DiscoveryCache.CHECK_SECONDS * 2)
    assert {i.id for i in cache.instances(SERVICE)} == {"t1", "t2"}
    assert [i.id for i in registry.registered(SERVICE)] == ["t2"]
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    assert {i.id for i in cache.instances(SERVICE)} == {"t2"}


def test_without_a_cache_a_deregistered_instance_is_gone_at_once(registry):
    cache = DiscoveryCache(registry.path, cache_seconds=0)
    registry.deregister(SERVICE, "t1")
    registry.deregister(SERVICE, "t2")
    time.sleep(DiscoveryCache.CHECK_SECONDS * 2)
    assert cache.pick(SERVICE) is None


def test_the_file_names_each_instance_and_when_it_was_deregistered(registry):
    registry.deregister(SERVICE, "t1")
    instances = read_registry(registry.path)[SERVICE]
    assert [(i.id, i.deregistered_at is None) for i in instances] == [("t1", False), ("t2", True)]


def test_a_negative_cache_time_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cache_seconds"):
        DiscoveryCache(tmp_path / "cloudmap.json", cache_seconds=-1)
