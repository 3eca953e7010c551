"""A small closed-loop load generator for the local stack: clients sending PUT then GET of their own
items through the gateway until stopped, each on a kept-alive connection. Every answer, connection
error and latency is recorded under the phase current when the request started, and every
acknowledged PUT remembered, so a caller can check them all afterwards.

Used by the rolling-deploy test (tests/local/stack/test_rolling.py) and ``make bench-local``
(scripts/bench_local_gateway.py).
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Load:
    """``paths``: item path prefixes (``/foodstore/foods/``), ``clients`` per prefix; each client
    waits ``pause`` seconds after each answer (default 0: the next request as soon as the answer is in)."""

    port: int
    token: str
    paths: tuple[str, ...]
    clients: int = 2
    pause: float = 0.0
    phase: str = "at rest"
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    """Per phase: answers other than 200 plus connection errors."""
    connection_errors: int = 0
    sent_in: Counter = field(default_factory=Counter)
    """Per phase: requests sent."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)

    def _client(self, name: str, path: str) -> None:
        connection = self._connect()
        for n in itertools.count():
            if self._stop.is_set():
                break
            item_id = f"{name}-{n}"
            for method in ("PUT", "GET"):
                headers = {"Authorization": f"Bearer {self.token}"}
                body = None
                if method == "PUT":
                    body = json.dumps({"n": n})
                    headers["Content-Type"] = "application/json"
                phase, started = self.phase, time.perf_counter()
                with self._lock:
                    self.sent_in[phase] += 1
                try:
                    connection.request(method, path + item_id, body=body, headers=headers)
                    response = connection.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as error:
                    with self._lock:
                        self.failures.append(f"{method} {path}{item_id}: {type(error).__name__}: {error}")
                        self.errors[phase] += 1
                        self.connection_errors += 1
                    connection.close()
                    connection = self._connect()
                    if self.pause:
                        self._stop.wait(self.pause)
                    continue
                elapsed = time.perf_counter() - started
                with self._lock:
                    self.statuses[response.status] += 1
                    self.latencies[phase].append(elapsed)
                    if response.status != 200:
                        self.failures.append(f"{method} {path}{item_id}: {response.status} {data[:120]!r}")
                        self.errors[phase] += 1
                    elif method == "PUT":
                        self.acknowledged[path + item_id] = n
                if self.pause:
                    self._stop.wait(self.pause)
        connection.close()

    def start(self) -> Load:
        run = time.monotonic_ns()  # item ids unique across runs on the same tables
        for path in self.paths:
            for i in range(self.clients):
                thread = threading.Thread(target=self._client, args=(f"c{i}-{run}", path), daemon=True)
                self._threads.append(thread)
                thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    @property
    def sent(self) -> int:
        return sum(self.sent_in.values())

    def summary(self, phase: str) -> dict:
        """Requests sent, errors (non-200 and connection errors) and p99 latency (ms) of answers in a phase."""
        latencies = sorted(self.latencies.get(phase, ()))
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else float("nan")
        return {"phase": phase, "sent": self.sent_in[phase], "errors": self.errors[phase], "p99_ms": p99}
