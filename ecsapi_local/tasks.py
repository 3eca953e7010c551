"""ECS services, locally: N tasks per service, each its own gunicorn on its own port, registered in
the local Cloud Map (:mod:`ecsapi_local.cloudmap`) once healthy; rolling replaces and scale-ins in
the order ECS uses.

A rolling replace (an ECS deployment with minimumHealthyPercent 100, maximumPercent 200, as the
template sets) takes each old task in turn:

1. start a new task and wait until its health check passes (ECS: the container health check;
   here GET /health answers 200);
2. register it in Cloud Map;
3. deregister the old task from Cloud Map;
4. send the old task SIGTERM. ECS does 3 and 4 at once, which is the trouble: API Gateway's cache
   still sends requests there. The task's drain (itemstore.drain) answers them.

A deploy may also change the container port, as a new task definition revision does (the
``port`` of a service in the configuration): the new tasks run the new revision and register
with its port, the old ones keep theirs until they are stopped, so while the deployment runs
Cloud Map answers both (each instance's SRV port is its own task's container port). The ECS API
Reference, ServiceRegistry: a changed service registries configuration "starts a new deployment.
New tasks are registered and deregistered to the updated service registry configuration". Here every
task listens on a loopback port of its own whatever its container port; the container port is
what its Cloud Map instance carries.

A scale-in deregisters one task and sends it SIGTERM (steps 3 and 4). SIGTERM goes to the task's
gunicorn master only, as ECS sends it to the container's main process; a stopping task is left to
drain and exit on its own, and is no longer a failure of the stack when it does.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ecsapi_local.cloudmap import Registry
from ecsapi_local.supervisor import Component, StartError, Supervisor, port_free
from generator.model.checks import int_in
from generator.model.errors import ConfigError
from generator.template.api import CONTAINER_PORTS


class TaskError(Exception):
    """A request the local ECS cannot do (unknown service, the last task); the message says why."""


class Ports:
    """Hands out loopback ports from ``first`` upwards, each once, skipping ports in use."""

    def __init__(self, first: int) -> None:
        self._next = first
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            while not port_free(self._next):
                self._next += 1
            port, self._next = self._next, self._next + 1
            return port


@dataclass
class Task:
    """One running task of a service."""

    id: str
    service: str
    port: int
    """The loopback port it listens on here."""
    component: Component = field(repr=False)
    container_port: int | None = None
    """The container port of its task definition revision: its Cloud Map instance's SRV port."""
    revision: int = 1
    """Its task definition revision (the service's first is 1)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class LocalService:
    """One ECS service: its name (the container's), its Cloud Map service, its running tasks."""

    name: str
    discovery_id: str
    container_port: int | None = None
    """The container port of its current task definition revision (None: not given)."""
    revision: int = 1
    """Its current task definition revision; a deploy that changes the port makes the next one."""
    tasks: list[Task] = field(default_factory=list)


# make_component(service name, task id, port) -> the task's process, not started, whose ready()
# is its health check.
ComponentFactory = Callable[[str, str, int], Component]


class LocalEcs:
    """The services of the local stack and the operations ECS performs on them."""

    def __init__(self, supervisor: Supervisor, registry: Registry, make_component: ComponentFactory,
                 ports: Ports) -> None:
        self.supervisor = supervisor
        self.registry = registry
        self.make_component = make_component
        self.ports = ports
        self.services: dict[str, LocalService] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()  # one operation at a time, as ECS runs one deployment per service

    def say(self, line: str) -> None:
        self.supervisor.say(line, "ecs")

    def add_service(self, name: str, discovery_id: str, container_port: int | None = None) -> None:
        """A service whose task definition's first revision has ``container_port`` (default: none given)."""
        self.services[name] = LocalService(name, discovery_id, container_port)
        self.registry.add_service(discovery_id)

    def service(self, name: str) -> LocalService:
        if name not in self.services:
            raise TaskError(f"no service {name!r}; the services are {', '.join(sorted(self.services))}")
        return self.services[name]

    # --- the steps ---------------------------------------------------------------------------

    def start_task(self, service: LocalService) -> Task:
        """Start a task and wait until it is healthy (raises the supervisor's StartError)."""
        task_id = f"{service.name}-{next(self._numbers)}"
        port = self.ports.take()
        component = self.make_component(service.name, task_id, port)
        try:
            self.supervisor.start(component)
        except StartError:
            # A new task that never became healthy fails the deployment, not the running stack
            # (ECS's circuit breaker stops the deployment and keeps the old tasks).
            if component.process is not None:
                self.supervisor.release(component)
            raise
        return Task(task_id, service.name, port, component, service.container_port, service.revision)

    def register(self, service: LocalService, task: Task) -> None:
        self.registry.register(service.discovery_id, task.id, task.url, task.container_port)
        service.tasks.append(task)
        self.say(f"{task.id} registered in Cloud Map ({task.url}, SRV port {task.container_port}, "
                 f"revision {task.revision})")

    def deregister_and_stop(self, service: LocalService, task: Task) -> None:
        """ECS's stop of a task: deregister it from Cloud Map and SIGTERM its main process at once."""
        service.tasks.remove(task)
        self.registry.deregister(service.discovery_id, task.id)
        self.supervisor.release(task.component)
        try:
            os.kill(task.component.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.say(f"{task.id} deregistered from Cloud Map and sent SIGTERM")

    # --- what ECS does ---------------------------------------------------------------------

    def start_services(self, counts: dict[str, int]) -> None:
        """Each service's first tasks (service name -> how many), all started together, as ECS
        starts the services of a new stack side by side; each task is registered once healthy."""
        started = []
        for name, count in counts.items():
            service = self.service(name)
            for _ in range(count):
                task_id = f"{service.name}-{next(self._numbers)}"
                started.append((service, Task(task_id, name, port := self.ports.take(),
                                              self.make_component(name, task_id, port),
                                              service.container_port, service.revision)))
        self.supervisor.start_all([task.component for _, task in started])
        for service, task in started:
            self.register(service, task)

    def rolling_replace(self, name: str, container_port: int | None = None) -> list[str]:
        """Replace every task of ``name`` one by one in ECS's order (module docstring); returns
        what happened, a line per step. With ``container_port`` (default None: the same revision
        again) the new tasks run a new task definition revision with that container port."""
        with self._lock:
            service = self.service(name)
            if container_port is not None:
                try:
                    int_in("port", container_port, *CONTAINER_PORTS)
                except ConfigError as error:
                    raise TaskError(f"{name}: {error}") from None
                if container_port != service.container_port:
                    service.container_port, service.revision = container_port, service.revision + 1
            started = time.monotonic()
            old_tasks = list(service.tasks)
            self.say(f"{name}: rolling replace of {len(old_tasks)} tasks with revision {service.revision} "
                     f"(container port {service.container_port})")
            for old in old_tasks:
                new = self.start_task(service)
                self.register(service, new)
                self.deregister_and_stop(service, old)
            self.say(f"{name}: replaced {len(old_tasks)} tasks in {time.monotonic() - started:.1f} s")
            return [f"{old.id} -> replaced" for old in old_tasks]

    def scale_in(self, name: str) -> str:
        """Stop the service's oldest task, as a scale-in by one does; the last one stays."""
        with self._lock:
            service = self.service(name)
            if len(service.tasks) < 2:
                raise TaskError(f"{name} runs {len(service.tasks)} task; a service keeps at least one")
            task = service.tasks[0]
            self.deregister_and_stop(service, task)
            return task.id

    def describe(self) -> dict[str, list[dict]]:
        """The running tasks of every service (what `ecs list-tasks` would show)."""
        return {name: [{"id": t.id, "url": t.url, "pid": t.component.process.pid, "containerPort": t.container_port,
                        "revision": t.revision} for t in service.tasks]
                for name, service in sorted(self.services.items())}
