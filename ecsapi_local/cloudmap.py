"""Cloud Map, locally: which tasks serve each service, and API Gateway's cached view of it.

In AWS, ECS registers a task's address in the service's Cloud Map service once its container
health check passes, and deregisters it when it stops the task. API Gateway's private integration
finds the instances with Cloud Map's DiscoverInstances and spreads requests over them, but it keeps
its own cache of that answer, so it goes on sending requests to a deregistered task for a while
(aws/containers-roadmap#1639; itemstore.contract.DEFAULT_DRAIN_SECONDS says what is known).

Here the local stack (:mod:`ecsapi_local.tasks`) is the only writer of a small JSON file, the
registry; the gateway, another process, reads it whenever it changes (:class:`DiscoveryCache`)
and keeps using a deregistered instance for ``cache_seconds`` after its deregistration, as API
Gateway's cache does. The file::

    {"services": {"FoodstoreDiscoveryService": [
        {"id": "foodstore-1", "url": "http://127.0.0.1:8010", "port": 8080, "deregistered_at": null}, ...]}}

``url`` is where the task listens here (each task has a loopback port of its own); ``port`` is the
port its SRV record carries in AWS, the container port of the task definition revision the task
runs (ECS registers each task with the ServiceRegistries ContainerPort of its own revision, so
during a deployment that changes the port, old and new instances carry different ports).
``deregistered_at`` is wall-clock time (``time.time()``), read by another process.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# How long the registry keeps a deregistered instance in the file: long enough for any cache
# setting the gateway may use, short enough that the file stays small over many deployments.
KEEP_DEREGISTERED_SECONDS = 3600.0


@dataclass(frozen=True)
class Instance:
    """One registered task: its id, its address, its SRV port and when it was deregistered (None: it is not)."""

    id: str
    url: str
    deregistered_at: float | None = None
    port: int | None = None
    """The port of its SRV record: its task definition's container port (None: not given)."""

    def routable(self, now: float, cache_seconds: float) -> bool:
        """True when a gateway with a ``cache_seconds`` cache still sends requests here."""
        return self.deregistered_at is None or now - self.deregistered_at < cache_seconds


class Registry:
    """The writer: registers and deregisters instances, rewriting the file atomically each time."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._services: dict[str, list[Instance]] = {}
        self._lock = threading.Lock()

    def add_service(self, service: str) -> None:
        with self._lock:
            self._services.setdefault(service, [])
            self._write()

    def register(self, service: str, instance_id: str, url: str, port: int | None = None) -> None:
        """Register a task listening at ``url`` whose SRV record carries ``port`` (default: none given)."""
        with self._lock:
            instances = [i for i in self._services.get(service, []) if i.id != instance_id]
            self._services[service] = [*instances, Instance(instance_id, url, port=port)]
            self._write()

    def deregister(self, service: str, instance_id: str) -> None:
        with self._lock:
            now = time.time()
            self._services[service] = [
                Instance(i.id, i.url, now, i.port) if i.id == instance_id and i.deregistered_at is None else i
                for i in self._services.get(service, [])
                if i.deregistered_at is None or now - i.deregistered_at < KEEP_DEREGISTERED_SECONDS
            ]
            self._write()

    def registered(self, service: str) -> list[Instance]:
        """The instances Cloud Map would answer now (not deregistered), oldest first."""
        with self._lock:
            return [i for i in self._services.get(service, []) if i.deregistered_at is None]

    def _write(self) -> None:
        data = {"services": {name: [vars(i) for i in instances] for name, instances in sorted(self._services.items())}}
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, self.path)  # readers see the old file or the new one, never half


def read_registry(path: Path) -> dict[str, tuple[Instance, ...]]:
    data = json.loads(Path(path).read_text())
    return {name: tuple(Instance(**entry) for entry in entries) for name, entries in data["services"].items()}


class DiscoveryCache:
    """The gateway's side: picks an instance for a service the way API Gateway does, round robin
    over the registered ones plus those deregistered less than ``cache_seconds`` ago.

    The file is re-read at most every ``CHECK_SECONDS`` (a few hundred bytes: cheaper than being
    clever with modification times, which two writes in one clock tick share), so a registration
    is seen within milliseconds.
    """

    CHECK_SECONDS = 0.02

    def __init__(self, path: Path, cache_seconds: float) -> None:
        if cache_seconds < 0:
            raise ValueError(f"cache_seconds: {cache_seconds!r} must be 0 or more")
        self.path = Path(path)
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._services: Mapping[str, tuple[Instance, ...]] = {}
        self._turns = itertools.count()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.CHECK_SECONDS:
            return
        self._checked = now
        self._services = read_registry(self.path)

    def instances(self, service: str) -> tuple[Instance, ...]:
        """The instances a request to ``service`` may go to now."""
        with self._lock:
            self._refresh()
            services = self._services
        now = time.time()
        return tuple(i for i in services.get(service, ()) if i.routable(now, self.cache_seconds))

    def pick(self, service: str) -> str | None:
        """The URL of the instance the next request goes to; None when there is none."""
        candidates = self.instances(service)
        if not candidates:
            return None
        return candidates[next(self._turns) % len(candidates)].url
