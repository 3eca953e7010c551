"""One gunicorn worker per vCPU of the task, read from a task metadata endpoint (v4) on loopback
that answers as ECS's does; two where there is no task size."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from itemstore import taskmeta
from itemstore.taskmeta import ENV_METADATA_URI, MetadataUnavailable, task_vcpus, workers_for_vcpus

from generator.model.constants import FARGATE_CPU_MEMORY
from tests.support.containers import SERVICES, Gunicorn


class MetadataEndpoint:
    """A task metadata endpoint on loopback: ``GET <base>/task`` answers ``status`` and ``body``;
    ``paths`` lists the paths asked for."""

    def __init__(self, status: int = 200, body: bytes = b"{}") -> None:
        endpoint = self
        self.status, self.body, self.paths = status, body, []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                endpoint.paths.append(self.path)
                self.send_response(endpoint.status if self.path == "/v4/abc-123/task" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(endpoint.body)))
                self.end_headers()
                self.wfile.write(endpoint.body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # ECS's value has this shape: http://169.254.170.2/v4/<id>
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/v4/abc-123"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, document) -> None:
        self.body = json.dumps(document).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def metadata():
    endpoint = MetadataEndpoint()
    yield endpoint
    endpoint.close()


# The task part of the v4 answer for a Fargate task (AWS, "Amazon ECS task metadata v4 examples for
# tasks on Fargate"), trimmed to the fields around Limits.
def fargate_task(limits) -> dict:
    document = {"Cluster": "arn:aws:ecs:us-east-1:111122223333:cluster/stack", "Family": "food", "Revision": "3",
                "DesiredStatus": "RUNNING", "KnownStatus": "RUNNING", "LaunchType": "FARGATE",
                "Containers": [{"Name": "food", "Limits": {"CPU": 2, "Memory": 0}}]}
    if limits is not None:
        document["Limits"] = limits
    return document


@pytest.mark.parametrize(("cpu_units", "workers"), [
    (256, 1), (512, 1), (1024, 1), (2048, 2), (4096, 4), (8192, 8), (16384, 16)])
def test_each_fargate_size_gets_one_worker_per_started_vcpu(cpu_units, workers):
    assert cpu_units in FARGATE_CPU_MEMORY  # every size the generator accepts is listed here
    assert workers_for_vcpus(cpu_units / 1024) == workers


def test_every_fargate_size_is_covered():
    assert set(FARGATE_CPU_MEMORY) == {256, 512, 1024, 2048, 4096, 8192, 16384}


def test_no_task_size_keeps_two_workers_and_a_huge_one_is_capped():
    assert workers_for_vcpus(None) == 2 == taskmeta.WORKERS_WITHOUT_TASK_SIZE
    assert workers_for_vcpus(192) == taskmeta.MAX_WORKERS == 64


@pytest.mark.integration
def test_the_task_cpu_limit_is_read_in_vcpus(metadata):
    metadata.answer(fargate_task({"CPU": 0.25, "Memory": 512}))
    assert task_vcpus({ENV_METADATA_URI: metadata.uri}) == 0.25
    assert metadata.paths == ["/v4/abc-123/task"]
    metadata.answer(fargate_task({"CPU": 4, "Memory": 8192}))
    assert task_vcpus({ENV_METADATA_URI: metadata.uri + "/"}) == 4.0


@pytest.mark.integration
@pytest.mark.parametrize("limits", [None, {"Memory": 512}, {"CPU": None}], ids=["no Limits", "no CPU", "CPU null"])
def test_a_task_without_a_cpu_limit_has_no_size(metadata, limits):
    metadata.answer(fargate_task(limits))
    assert task_vcpus({ENV_METADATA_URI: metadata.uri}) is None


@pytest.mark.integration
def test_off_ecs_nothing_is_asked(metadata):
    assert task_vcpus({}) is None
    assert task_vcpus({ENV_METADATA_URI: ""}) is None
    assert metadata.paths == []


@pytest.mark.integration
@pytest.mark.parametrize(("status", "body"), [
    (500, b"{}"),
    (200, b"<html>"),
    (200, json.dumps(fargate_task({"CPU": "0.25"})).encode()),
    (200, json.dumps(fargate_task({"CPU": 0})).encode()),
    (200, json.dumps(fargate_task({"CPU": True})).encode()),
    (200, b'{"Limits": {"CPU": 1e400}}'),  # json reads it as infinity
    (200, b"[1, 2]"),
    (200, json.dumps(fargate_task([0.25])).encode()),
], ids=["error status", "not JSON", "CPU a string", "CPU zero", "CPU a boolean", "CPU infinite", "not an object",
        "Limits not an object"])
def test_an_answer_that_is_not_task_metadata_is_refused_naming_the_url(metadata, status, body):
    metadata.status, metadata.body = status, body
    with pytest.raises(MetadataUnavailable, match=re.escape(metadata.uri + "/task")):
        task_vcpus({ENV_METADATA_URI: metadata.uri})


@pytest.mark.integration
def test_an_endpoint_that_never_answers_is_given_up_within_the_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)  # accepts into the backlog, never answers
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}/v4/abc-123"
        with pytest.raises(MetadataUnavailable, match="timed out"):
            task_vcpus({ENV_METADATA_URI: uri}, timeout=0.3)


def _booted_workers(server: Gunicorn, expected: int) -> tuple[int, int]:
    """(workers the master forked, workers that said they listen), once ``expected`` listen or
    after 20 s. The master forks every worker at once at start, before any of them can answer the
    /health that start() waited for, so the first number is final by then."""
    deadline = time.monotonic() + 20
    while True:
        log = server.log()
        booted = len(re.findall(r"\[INFO\] Booting worker with pid", log))
        listening = len(set(re.findall(r"\[INFO\] Worker (\d+) listening at:", log)))
        if listening >= expected or time.monotonic() > deadline:
            return booted, listening
        time.sleep(0.1)


@pytest.mark.integration
@pytest.mark.parametrize(("limits", "workers", "reason"), [
    ({"CPU": 0.25, "Memory": 512}, 1, "one per vCPU of the task's 0.25"),
    ({"CPU": 2, "Memory": 4096}, 2, "one per vCPU of the task's 2"),
    ({"CPU": 3, "Memory": 8192}, 3, "one per vCPU of the task's 3"),
], ids=["0.25 vCPU", "2 vCPU", "3 vCPU"])
def test_gunicorn_runs_one_worker_per_vcpu_of_the_task(dockerfiles, dynalite, tmp_path, metadata, limits, workers,
                                                       reason):
    metadata.answer(fargate_task(limits))
    (tmp_path / "home").mkdir()
    food = SERVICES[0]
    server = Gunicorn(food, dockerfiles[food.name], tmp_path / "gunicorn.log",
                      {"DYNAMODB_ENDPOINT_URL": dynalite.url, ENV_METADATA_URI: metadata.uri}, tmp_path / "home")
    del server.env["GUNICORN_WORKERS"]  # the image's default, as the template deploys it
    server.start()
    try:
        assert _booted_workers(server, workers) == (workers, workers), server.log()
        assert f"[INFO] {workers} worker(s): {reason}" in server.log()
    finally:
        server.stop()


@pytest.mark.integration
def test_gunicorn_keeps_two_workers_when_the_metadata_gives_no_size(dockerfiles, dynalite, tmp_path, metadata):
    metadata.status = 500
    (tmp_path / "home").mkdir()
    food = SERVICES[0]
    server = Gunicorn(food, dockerfiles[food.name], tmp_path / "gunicorn.log",
                      {"DYNAMODB_ENDPOINT_URL": dynalite.url, ENV_METADATA_URI: metadata.uri}, tmp_path / "home")
    del server.env["GUNICORN_WORKERS"]
    server.start()
    try:
        assert _booted_workers(server, 2) == (2, 2), server.log()
        log = server.log()
        assert "[INFO] 2 worker(s): the task metadata gave no size (" in log and metadata.uri in log, log
    finally:
        server.stop()
