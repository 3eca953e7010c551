"""The gateway as a proxy and a router: what reaches the container, what comes back, unknown routes,
dead containers, CORS and throttling — each against real servers on loopback."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time

import pytest

from generator import ServiceSpec, StackConfig
from generator.template.names import logical_id
from tests.support.gateway import PAGE_ORIGIN, EmulatedApi

pytestmark = pytest.mark.integration

SERVICES = ("foodstore", "petstore")


@pytest.fixture(scope="module")
def echoing(start_stack, echo) -> EmulatedApi:
    """The default template, both services' integrations pointed at the echo app."""
    return start_stack(StackConfig(), upstreams={logical_id(name, "DiscoveryService"): echo.url for name in SERVICES})


def raw_request(port: int, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None = None):
    """One request with headers sent exactly as given (repeats and hop-by-hop ones included)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True,
                              skip_host=any(name.lower() == "host" for name, _ in headers))
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# --- what the container receives ----------------------------------------------------------------

def test_method_path_query_and_body_reach_the_container_unchanged(echoing):
    body = b'{"name": "caf\xc3\xa9", "n": 1}'
    target = "/petstore/pets/caf%C3%A9%20au%20lait?b=2&a=1&a=%2F&empty="
    status, _, data = raw_request(echoing.gateway.port, "GET", target, [("Content-Type", "application/json")], body)
    assert status == 200
    echoed = json.loads(data)
    assert echoed["method"] == "GET"
    assert echoed["raw_uri"] == target
    assert echoed["query"] == "b=2&a=1&a=%2F&empty="
    assert base64.b64decode(echoed["body_base64"]) == body
    assert echoed["content_length"] == str(len(body))


def test_a_put_body_arrives_byte_for_byte_with_the_token(echoing):
    token = echoing.cognito.tokens("proxy-put@example.com")["AccessToken"]
    body = json.dumps({"k": "v" * 50000, "unicode": "ü€𝄞"}).encode()
    status, _, data = raw_request(echoing.gateway.port, "PUT", "/foodstore/foods/big", [
        ("Content-Type", "application/json; charset=utf-8"), ("Authorization", f"Bearer {token}")], body)
    assert status == 200
    echoed = json.loads(data)
    assert (echoed["method"], echoed["headers"]["content-type"]) == ("PUT", "application/json; charset=utf-8")
    assert base64.b64decode(echoed["body_base64"]) == body


def test_a_chunked_body_is_forwarded_whole_with_its_length(echoing):
    connection = http.client.HTTPConnection("127.0.0.1", echoing.gateway.port, timeout=15)
    try:
        connection.request("GET", "/petstore/pets/chunked", body=iter([b'{"a":', b' 1}']),
                           headers={"Content-Type": "application/json"}, encode_chunked=True)
        response = connection.getresponse()
        echoed = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 200
    assert base64.b64decode(echoed["body_base64"]) == b'{"a": 1}'
    assert echoed["content_length"] == "8"
    assert "transfer-encoding" not in echoed["headers"]


def test_a_body_over_the_http_api_payload_quota_is_413_before_it_is_read(echoing):
    # HTTP API quota: 10 MB. The gateway answers from Content-Length, so only the head is sent.
    with socket.create_connection(("127.0.0.1", echoing.gateway.port), timeout=15) as sock:
        sock.sendall(b"GET /petstore/pets/big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                     % (10 * 1024 * 1024 + 1))
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert (response.status, json.loads(response.read())) == (413, {"message": "Request Entity Too Large"})


def test_end_to_end_headers_pass_and_hop_by_hop_ones_do_not(echoing):
    status, _, data = raw_request(echoing.gateway.port, "GET", "/foodstore/foods/h", [
        ("Accept", "application/json"),
        ("X-Custom", "kept"),
        ("User-Agent", "gateway-test/1"),
        ("If-None-Match", '"abc"'),
        ("Cookie", "session=1"),
        ("Connection", "keep-alive, X-Only-For-This-Hop"),
        ("X-Only-For-This-Hop", "dropped"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Proxy-Authorization", "Basic c2VjcmV0"),
        ("Upgrade", "h2c"),
        ("X-Forwarded-For", "203.0.113.7"),
    ])
    assert status == 200
    headers = json.loads(data)["headers"]
    for name, value in {"accept": "application/json", "x-custom": "kept", "user-agent": "gateway-test/1",
                        "if-none-match": '"abc"', "cookie": "session=1"}.items():
        assert headers[name] == value, name
    for name in ("x-only-for-this-hop", "keep-alive", "te", "proxy-authorization", "upgrade"):
        assert name not in headers, name
    assert headers.get("connection", "keep-alive") == "keep-alive"  # the gateway's own connection, if any


def test_the_gateway_adds_forwarding_headers(echoing):
    status, _, data = raw_request(echoing.gateway.port, "GET", "/foodstore/foods/f",
                                  [("X-Forwarded-For", "203.0.113.7"), ("Host", "api.local")])
    assert status == 200
    headers = json.loads(data)["headers"]
    assert headers["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == str(echoing.gateway.port)
    assert headers["forwarded"] == "for=127.0.0.1;host=api.local;proto=http"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    assert headers["host"] != "api.local"  # the upstream's own host and port
    # A host with a port is not an RFC 7239 token: it goes in quotes.
    status, _, data = echoing.gateway.request("GET", "/foodstore/foods/f")
    assert json.loads(data)["headers"]["forwarded"] == (
        f'for=127.0.0.1;host="127.0.0.1:{echoing.gateway.port}";proto=http')


def test_the_containers_answer_comes_back_with_its_status_and_headers(echoing):
    status, headers, data = echoing.gateway.request("GET", "/foodstore/foods/status")
    assert status == 200
    assert headers["X-Echo"] == "yes"
    assert headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert headers["Content-Type"] == "application/json"
    assert headers["apigw-requestid"]
    assert len(headers.get_all("Date")) == len(headers.get_all("Server")) == 1  # the gateway's, not both
    assert json.loads(data)["path"] == "/foodstore/foods/status"


@pytest.mark.parametrize("status", [201, 400, 404, 500, 502])
def test_the_containers_status_is_passed_on_as_it_is(echoing, status):
    got, _, data = echoing.gateway.request("GET", "/foodstore/foods/s", headers={"X-Status": str(status)})
    assert got == status
    assert json.loads(data)["path"] == "/foodstore/foods/s"  # the container's body, not the gateway's


def test_the_item_store_answers_through_the_gateway(stack):
    status, _, data = stack.gateway.request("GET", "/foodstore/foods/%20")
    direct = stack.containers["foodstore"].request("GET", "/foodstore/foods/%20")
    assert (status, json.loads(data)) == (direct[0], json.loads(direct[2]))


# --- routing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"),
    ("GET", "/foodstore"),
    ("GET", "/foodstore/foods"),
    ("GET", "/foodstore/foods/"),
    ("GET", "/foodstore/foods/a/b"),
    ("GET", "/FOODSTORE/foods/a"),
    ("DELETE", "/foodstore/foods/a"),
    ("POST", "/petstore/pets/a"),
    ("HEAD", "/foodstore/foods/a"),
    ("OPTIONS", "/foodstore/foods/a"),  # not a preflight: no Origin, no Access-Control-Request-Method
    ("GET", "/health"),  # the containers' health path is not a route of the API
])
def test_a_request_no_route_matches_is_404_not_found(echoing, method, path):
    status, headers, data = echoing.gateway.request(method, path)
    assert status == 404
    if method != "HEAD":
        assert json.loads(data) == {"message": "Not Found"}
    assert headers["Content-Type"] == "application/json"


# --- a container that is not there ------------------------------------------------------------------

@pytest.fixture(scope="module")
def dead(start_stack) -> tuple[EmulatedApi, socket.socket]:
    """foodstore's upstream refuses connections; petstore's accepts them and never answers."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused = closed.getsockname()[1]
    closed.close()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    stack = start_stack(StackConfig(), "--timeout", "1", upstreams={
        logical_id("foodstore", "DiscoveryService"): f"http://127.0.0.1:{refused}",
        logical_id("petstore", "DiscoveryService"): f"http://127.0.0.1:{silent.getsockname()[1]}"})
    yield stack, silent
    silent.close()


def test_a_container_that_refuses_the_connection_is_503_service_unavailable(dead):
    stack, _ = dead
    status, _, data = stack.gateway.request("GET", stack.services["foodstore"].url("x"))
    assert (status, json.loads(data)) == (503, {"message": "Service Unavailable"})
    assert "failed" in stack.gateway.log()


def test_a_container_that_never_answers_is_504_gateway_timeout_within_the_local_timeout(dead):
    # API Gateway answers an integration that outlasts its timeout with 504, HTTP APIs included
    # (AWS Knowledge Center, "How do I troubleshoot HTTP 504 errors from API Gateway?").
    stack, _ = dead
    started = time.monotonic()
    # http_request's own timeout (15 s) bounds the wait; the gateway's is 1 s here (--timeout 1).
    status, _, data = stack.gateway.request("GET", stack.services["petstore"].url("x"))
    assert (status, json.loads(data)) == (504, {"message": "Gateway Timeout"})
    assert time.monotonic() - started < 10
    assert "timed out" in stack.gateway.log()


# --- CORS ------------------------------------------------------------------------------------------

def test_a_preflight_from_the_page_is_answered_by_the_gateway(echoing):
    status, headers, data = echoing.gateway.request("OPTIONS", "/foodstore/foods/a", headers={
        "Origin": PAGE_ORIGIN, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert (status, data) == (204, b"")
    cors = echoing.template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    assert headers["Access-Control-Allow-Methods"] == ", ".join(cors["AllowMethods"])
    assert headers["Access-Control-Allow-Headers"] == ", ".join(cors["AllowHeaders"])
    assert headers["Access-Control-Max-Age"] == str(cors["MaxAge"])
    assert "Access-Control-Allow-Credentials" not in headers


def test_a_preflight_needs_no_route_and_no_token(echoing):
    status, headers, _ = echoing.gateway.request("OPTIONS", "/not/a/route", headers={
        "Origin": PAGE_ORIGIN, "Access-Control-Request-Method": "GET"})
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN


def test_a_preflight_from_another_origin_gets_no_cors_headers(echoing):
    status, headers, _ = echoing.gateway.request("OPTIONS", "/foodstore/foods/a", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"})
    assert status == 204
    assert not [name for name in headers if name.lower().startswith("access-control-")]


def test_the_template_origin_of_a_resource_not_running_locally_is_dropped(echoing):
    # The page's CloudFront distribution does not run locally: its origin cannot be resolved.
    origins = echoing.template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]["AllowOrigins"]
    assert origins == [{"Fn::Sub": "https://${SiteDistribution.DomainName}"}]
    status, headers, _ = echoing.gateway.request("OPTIONS", "/foodstore/foods/a", headers={
        "Origin": "https://${SiteDistribution.DomainName}", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in headers


def test_responses_to_the_page_carry_the_apis_cors_headers_not_the_containers(echoing):
    status, headers, _ = echoing.gateway.request("GET", "/foodstore/foods/a", headers={"Origin": PAGE_ORIGIN})
    assert status == 200
    assert headers.get_all("Access-Control-Allow-Origin") == [PAGE_ORIGIN]
    assert "Access-Control-Allow-Credentials" not in headers  # the echo app sent it; the API does not allow it


def test_the_gateways_own_401_and_404_carry_cors_headers_so_the_page_can_read_them(echoing):
    for method, path in (("PUT", "/foodstore/foods/a"), ("GET", "/nowhere")):
        status, headers, _ = echoing.gateway.request(method, path, headers={"Origin": PAGE_ORIGIN})
        assert status in (401, 404)
        assert headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN


def test_without_an_origin_no_cors_headers_are_added(echoing):
    _, headers, _ = echoing.gateway.request("GET", "/nowhere")
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize("origin", [PAGE_ORIGIN, "https://evil.example", None], ids=["page", "other", "none"])
def test_every_answer_that_depends_on_the_origin_says_vary_origin(echoing, origin):
    # The CORS headers depend on the Origin (the API names origins, not *), so a cache must key on
    # it (Fetch standard, "CORS protocol and HTTP caches"): with, without and with another Origin.
    headers_in = {"Origin": origin} if origin else {}
    for method, path, extra in (("GET", "/foodstore/foods/a", {}), ("GET", "/nowhere", {}),
                                ("OPTIONS", "/foodstore/foods/a", {"Access-Control-Request-Method": "PUT"})):
        _, headers, _ = echoing.gateway.request(method, path, headers={**headers_in, **extra})
        vary = [part.strip() for value in headers.get_all("Vary") or [] for part in value.split(",")]
        if method == "OPTIONS" and not origin:
            continue  # not a preflight without an Origin: routed like any request
        assert vary.count("Origin") == 1, (method, path, headers.get_all("Vary"))


# --- throttling ------------------------------------------------------------------------------------

def test_a_route_over_its_throttle_gets_429_and_other_routes_do_not(start_stack, echo):
    config = StackConfig(services=(
        ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", throttle_rate_limit=1, throttle_burst_limit=3),
        ServiceSpec(name="petstore", path="/petstore/pets/{petId}"),
    ))
    stack = start_stack(config, upstreams={logical_id(name, "DiscoveryService"): echo.url for name in SERVICES})
    settings = stack.template["Resources"]["ApiStage"]["Properties"]["RouteSettings"]
    assert settings["GET /foodstore/foods/{foodId}"] == {"ThrottlingBurstLimit": 3, "ThrottlingRateLimit": 1}
    statuses, body = [], b""
    while 429 not in statuses and len(statuses) < 50:  # at 1 request a second, a 429 comes at once
        status, _, body = stack.gateway.request("GET", "/foodstore/foods/t")
        statuses.append(status)
    assert statuses[:3] == [200, 200, 200]  # the burst
    assert statuses[-1] == 429
    assert json.loads(body) == {"message": "Too Many Requests"}
    # The other service's route has the stage's default bucket (100/s, burst 200), untouched.
    assert [stack.gateway.request("GET", "/petstore/pets/t")[0] for _ in range(10)] == [200] * 10
