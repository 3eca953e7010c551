"""A live per-route summary for the local gateway: requests, 4xx, 5xx and p50/p99 latency over the
last minute, the figures the stack's dashboard shows on AWS.

The gateway records every answered request; once a minute, on the next request, it logs one line
per route that saw traffic (``make local`` shows the gateway's log). On AWS the same figures are
the ``AWS/ApiGateway`` metrics ``Count``, ``4xx``, ``5xx`` and ``Latency`` (p50, p99) by ``ApiId``
and ``Stage`` (and, with ``detailed_metrics``, by ``Route``), on the stack's CloudWatch dashboard
(the ``DashboardName`` output). Locally the latency is the gateway's own time to answer, which on
AWS is ``Latency``; 429s are counted in 4xx here as there.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
# Requests no route matched: API Gateway answers them 404 without a route key.
NO_ROUTE = "-"


@dataclass(frozen=True)
class RouteSummary:
    route: str
    requests: int
    client_errors: int
    server_errors: int
    p50_ms: float
    p99_ms: float

    def line(self) -> str:
        return (f"{self.route}: {self.requests} requests, {self.client_errors} 4xx, {self.server_errors} 5xx, "
                f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms")


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ascending ``sorted_values`` (CloudWatch's pNN of the samples)."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


class RouteStats:
    """The last ``window`` seconds of requests, per route; safe to call from the gateway's threads."""

    def __init__(self, window: float = WINDOW_SECONDS, clock=time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._samples: deque[tuple[float, str, int, float]] = deque()
        self._lock = threading.Lock()
        self._last_report = clock()

    def record(self, route: str, status: int, latency_ms: float) -> list[str]:
        """Record one answered request; returns the summary lines when a report is due (a window
        has passed since the last one), else an empty list."""
        now = self.clock()
        with self._lock:
            self._samples.append((now, route, status, latency_ms))
            self._prune(now)
            if now - self._last_report < self.window:
                return []
            self._last_report = now
            summaries = self._summaries()
        return [f"last {self.window:g} s, {summary.line()}" for summary in summaries]

    def summary(self) -> list[RouteSummary]:
        """The routes that saw requests in the last window, by route key."""
        with self._lock:
            self._prune(self.clock())
            return self._summaries()

    def _prune(self, now: float) -> None:
        while self._samples and self._samples[0][0] <= now - self.window:
            self._samples.popleft()

    def _summaries(self) -> list[RouteSummary]:
        by_route: dict[str, list[tuple[int, float]]] = {}
        for _, route, status, latency in self._samples:
            by_route.setdefault(route, []).append((status, latency))
        summaries = []
        for route in sorted(by_route):
            answers = by_route[route]
            latencies = sorted(latency for _, latency in answers)
            summaries.append(RouteSummary(
                route=route,
                requests=len(answers),
                client_errors=sum(400 <= status < 500 for status, _ in answers),
                server_errors=sum(status >= 500 for status, _ in answers),
                p50_ms=percentile(latencies, 0.50),
                p99_ms=percentile(latencies, 0.99),
            ))
        return summaries
