"""The local gateway's per-route summary: counts and percentiles over the last minute, reported once
a minute on a request."""

from __future__ import annotations

import logging

import pytest

from ecsapi_local.route_stats import RouteStats, percentile


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_summary_counts_each_routes_requests_errors_and_latency():
    clock = Clock()
    stats = RouteStats(clock=clock)
    for latency in range(1, 101):
        stats.record("GET /foodstore/foods/{foodId}", 200, float(latency))
    stats.record("GET /foodstore/foods/{foodId}", 404, 1.0)
    stats.record("PUT /foodstore/foods/{foodId}", 429, 2.0)
    stats.record("PUT /foodstore/foods/{foodId}", 503, 30.0)
    get, put = stats.summary()
    assert (get.route, get.requests, get.client_errors, get.server_errors) == ("GET /foodstore/foods/{foodId}", 101, 1, 0)
    assert (get.p50_ms, get.p99_ms) == (50.0, 99.0)
    assert (put.requests, put.client_errors, put.server_errors, put.p99_ms) == (2, 1, 1, 30.0)


def test_requests_older_than_the_window_drop_out():
    clock = Clock()
    stats = RouteStats(window=60, clock=clock)
    stats.record("GET /a/{id}", 500, 5.0)
    clock.now += 30
    stats.record("GET /a/{id}", 200, 1.0)
    clock.now += 31
    (summary,) = stats.summary()
    assert (summary.requests, summary.server_errors) == (1, 0)
    clock.now += 60
    assert stats.summary() == []


def test_a_report_is_due_once_a_window_after_the_last():
    clock = Clock()
    stats = RouteStats(window=60, clock=clock)
    assert stats.record("GET /a/{id}", 200, 9.0) == []
    clock.now += 30
    assert stats.record("GET /a/{id}", 500, 3.0) == []
    clock.now += 29
    assert stats.record("GET /a/{id}", 200, 1.0) == []
    clock.now += 1
    # Due 60 s after the last report; the first request, 60 s old, has left the window.
    lines = stats.record("GET /a/{id}", 200, 2.0)
    assert lines == ["last 60 s, GET /a/{id}: 3 requests, 0 4xx, 1 5xx, p50 2.0 ms, p99 3.0 ms"]
    clock.now += 1
    assert stats.record("GET /a/{id}", 200, 2.0) == []


def test_the_gateway_logs_the_summary_of_the_requests_it_answered(caplog):
    from ecsapi_local.gateway import Gateway

    clock = Clock()
    gateway = Gateway.__new__(Gateway)  # only the recording path: no routes, no upstreams
    gateway.stats = RouteStats(window=60, clock=clock)
    gateway._answer = lambda environ: (404, [], b"{}", "-", "-", "-")
    with caplog.at_level(logging.INFO, logger="ecsapi_local.gateway"):
        clock.now += 1
        gateway({"REQUEST_METHOD": "GET", "PATH_INFO": "/nowhere"}, lambda status, headers: None)
        clock.now += 59
        gateway({"REQUEST_METHOD": "GET", "PATH_INFO": "/nowhere"}, lambda status, headers: None)
    assert "last 60 s, -: 2 requests, 2 4xx, 0 5xx" in caplog.text
