"""How many gunicorn workers a task runs: one per vCPU of the task, read from ECS's task metadata.

A gthread worker runs Python on one core at a time (its GIL), so a task with N vCPUs needs N
workers to use them, and more workers than vCPUs only compete for the same CPU time. The stack's
default task has 0.25 vCPU (256 cpu units): two workers there share a quarter of a core, with
two processes' memory and their context switches. Measured beside the Node original (containers
README, Performance), one worker spent less CPU per PUT than two in each side-by-side run.

ECS tells the container its task's size: Fargate (platform 1.4.0 and later) injects
``ECS_CONTAINER_METADATA_URI_V4`` into every container, and ``${ECS_CONTAINER_METADATA_URI_V4}/task``
answers with ``Limits.CPU``, "the resource limits specified at the task levels such as CPU
(expressed in vCPUs) and memory", omitted when the task has no limits (AWS, "Amazon ECS task
metadata v4 JSON response for tasks on Fargate"). Outside ECS (a local run, the tests, a task with
no CPU limit, an endpoint that does not answer) the server keeps the two workers it always ran.

Imported by the gunicorn master (gunicorn_conf), so it uses only the standard library.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

ENV_METADATA_URI = "ECS_CONTAINER_METADATA_URI_V4"
# Without a task size to go by: the number of workers the image ran before it read one.
WORKERS_WITHOUT_TASK_SIZE = 2
MAX_WORKERS = 64  # GUNICORN_WORKERS' upper bound (gunicorn_conf)
# The endpoint is the ECS agent on the task's own link-local address; it answers in milliseconds.
# A start that waits longer than this for it goes on with WORKERS_WITHOUT_TASK_SIZE.
METADATA_TIMEOUT_SECONDS = 2.0
# A task's metadata is a few kilobytes; read no more than this of whatever answers.
MAX_METADATA_BYTES = 1 << 20


class MetadataUnavailable(Exception):
    """The metadata endpoint is set but gave no usable answer (the message says why)."""


def task_vcpus(environ: Mapping[str, str], timeout: float = METADATA_TIMEOUT_SECONDS) -> float | None:
    """The task's CPU limit in vCPUs from ``Limits.CPU`` of the task metadata; None when
    ``ECS_CONTAINER_METADATA_URI_V4`` is unset (not on ECS: no request is made) or the task has no
    CPU limit.

    Raises MetadataUnavailable when the endpoint does not answer within ``timeout``, answers with an
    error status, or with something that is not task metadata (a CPU that is not a positive number).
    """
    base = environ.get(ENV_METADATA_URI, "")
    if not base:
        return None
    import urllib.request  # only on ECS: off the start-up path of a local run

    url = base.rstrip("/") + "/task"
    try:
        # No proxy: the endpoint is link-local, and an HTTP(S)_PROXY of the task must not see it.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=timeout) as answer:
            document = json.loads(answer.read(MAX_METADATA_BYTES))
    except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors; bad JSON a ValueError
        raise MetadataUnavailable(f"{url}: {type(error).__name__}: {error}") from None
    if not isinstance(document, dict):
        raise MetadataUnavailable(f"{url}: the answer is not a JSON object")
    limits = document.get("Limits")
    if limits is None:
        return None  # no resource limits defined for the task
    if not isinstance(limits, dict):
        raise MetadataUnavailable(f"{url}: Limits is {limits!r}, not an object")
    cpu = limits.get("CPU")
    if cpu is None:
        return None
    if isinstance(cpu, bool) or not isinstance(cpu, int | float) or not 0 < cpu < math.inf:
        raise MetadataUnavailable(f"{url}: Limits.CPU is {cpu!r}, not a number of vCPUs")
    return float(cpu)


def workers_for_vcpus(vcpus: float | None) -> int:
    """One worker per started vCPU (0.25 and 0.5 vCPU: 1; 1: 1; 2: 2; 16: 16), at most MAX_WORKERS;
    WORKERS_WITHOUT_TASK_SIZE when the size is unknown (None)."""
    if vcpus is None:
        return WORKERS_WITHOUT_TASK_SIZE
    return min(MAX_WORKERS, max(1, math.ceil(vcpus)))
