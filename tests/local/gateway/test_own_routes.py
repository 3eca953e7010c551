"""Your own routes through the local gateway over HTTP: route selection as API Gateway's developer
guide describes it, and the JWT authorizer against an issuer of the suite's own (tests/local/gateway/
issuer.py), its keys given with ``--jwks`` or found by OIDC discovery.

Every route is a service of its own, each behind a small upstream that answers with its name, so
the answer says which route API Gateway's rules chose.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ecsapi_local.gateway import LocalResolution
from ecsapi_local.template_reader import read_template
from generator import StackConfig, build_template
from generator.model.auth import AuthSpec
from generator.model.config import ServiceSpec
from generator.tooling.render import template_json
from tests.support.gateway import GatewayProcess
from tests.support.issuer import Issuer, new_key
from tests.support.processes import REGION, free_port

pytestmark = pytest.mark.integration

ISSUER = "https://login.example.test/"
AUDIENCE = "orders-api"
# "Routing API requests" (Amazon API Gateway Developer Guide, "Create routes for HTTP APIs"): the
# guide's example routes, with $default and cases of our own beside them.
ROUTES = {
    "dogone": ["GET /pets/dog/1"],
    "dogid": ["GET /pets/dog/{id}"],
    "pets": ["GET /pets/{proxy+}"],
    "anyproxy": ["ANY /{proxy+}"],
    "fallback": ["$default"],
    "thingsget": ["GET /things"],
    "thingsany": ["ANY /things"],
    "secure": [{"route": "GET /secure", "auth": "jwt"},
               {"route": "POST /secure", "auth": "jwt", "scopes": ["orders/write", "orders/admin"]},
               {"route": "GET /open"}],
}


class Upstream:
    """A task stand-in: answers with its service's name and what it received; ``X-Status`` sets the
    status, ``X-Sleep`` delays the answer (seconds)."""

    def __init__(self, name: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                time.sleep(float(self.headers.get("X-Sleep", "0")))
                data = json.dumps({"service": name, "method": self.command, "target": self.path,
                                   "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}).encode()
                self.send_response(int(self.headers.get("X-Status", "200")))
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Upstream", name)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def own_config(routes: dict) -> StackConfig:
    return StackConfig(
        auth=AuthSpec(issuer=ISSUER, audiences=(AUDIENCE,)),
        services=tuple(ServiceSpec(name=name, routes=keys, image="registry.example/shop:1", health_check="none")
                       for name, keys in routes.items()),
        alarms=False, dashboard=False)


@pytest.fixture(scope="module")
def issuer():
    server = Issuer(AUDIENCE).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def start_gateway(tmp_path_factory):
    """start_gateway(routes, *gateway_args, template_change=None, dead=()) -> GatewayProcess over
    Upstreams; the services in ``dead`` get a loopback port nothing listens on."""
    started, upstreams = [], []

    def start(routes: dict, *args: str, template_change=None, dead: tuple[str, ...] = ()) -> GatewayProcess:
        workdir = tmp_path_factory.mktemp("own")
        path = workdir / "template.json"
        path.write_text(template_json(build_template(own_config(routes))))
        stack = read_template(path)
        template = copy.deepcopy(stack.template)
        if template_change:
            template_change(template)
        servers = {c.discovery_id: Upstream(c.name) for c in stack.containers}
        upstreams.extend(servers.values())
        names = {c.discovery_id: c.name for c in stack.containers}
        resolution = LocalResolution(region=REGION, physical_ids={}, upstreams={
            k: f"http://127.0.0.1:{free_port()}" if names[k] in dead else s.url for k, s in servers.items()})
        gateway = GatewayProcess(workdir, template, resolution, "--timeout", "2", *args).start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()
    for upstream in upstreams:
        upstream.server.shutdown()
        upstream.server.server_close()


@pytest.fixture(scope="module")
def gateway(start_gateway, issuer):
    return start_gateway(ROUTES, "--jwks", f"{issuer.url}/jwks.json")


def call(gateway, method: str, path: str, token: str | None = None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    status, answer_headers, body = gateway.request(method, path, headers=headers)
    return status, {k.lower(): v for k, v in answer_headers.items()}, body


def chosen(gateway, method: str, path: str) -> str | None:
    status, headers, _ = call(gateway, method, path)
    return headers.get("x-upstream") if status == 200 else f"{status}"


# --- route selection ---------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "service"), [
    # The guide's example table.
    ("GET", "/pets/dog/1", "dogone"),      # a full match of a fixed route
    ("GET", "/pets/dog/2", "dogid"),       # a full match with a path variable
    ("GET", "/pets/cat/1", "pets"),        # no full match: the GET route with a greedy variable
    ("POST", "/pets/dog/1", "anyproxy"),   # no POST route: ANY with a greedy variable, before $default
    # Cases of our own.
    ("HEAD", "/pets/dog/1", "anyproxy"),   # HEAD is not GET: only ANY takes it
    ("GET", "/pets/dog/2/", "pets"),       # a trailing slash: an empty segment no variable takes
    ("GET", "/pets/dog/%31", "dogone"),    # segments are decoded before they are compared
    ("GET", "/pets", "anyproxy"),          # a greedy variable needs at least one segment
    ("GET", "/things", "thingsget"),       # the resource's own method first ...
    ("DELETE", "/things", "thingsany"),    # ... ANY for the methods it does not define
    ("GET", "/", "fallback"),              # /{proxy+} does not take the root: $default does
])
def test_routes_are_chosen_as_api_gateway_chooses_them(gateway, method, path, service):
    assert chosen(gateway, method, path) == service


def test_a_request_no_route_matches_is_404_not_found(start_gateway):
    gateway = start_gateway({"only": ["GET /only"]})
    status, headers, body = call(gateway, "GET", "/other")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    assert call(gateway, "POST", "/only")[0] == 404


def test_percent_encoded_segments_reach_the_task_decoded(gateway):
    status, _, body = call(gateway, "GET", "/pets/dog/%41b%20c?q=%41")
    echoed = json.loads(body)
    assert (status, echoed["service"]) == (200, "dogid")
    # The path's segments decoded (what must stay encoded in a request line, a space, stays so);
    # the query string as the client sent it.
    assert echoed["target"] == "/pets/dog/Ab%20c?q=%41"


def test_method_path_query_headers_and_body_reach_the_task_and_its_answer_comes_back(gateway, issuer):
    import http.client

    token = issuer.token(issuer=ISSUER, scope="orders/write")
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    connection.request("POST", "/secure?a=1&b=two", body=b'{"x": 1}',
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                "X-Custom": "kept", "X-Status": "202"})
    response = connection.getresponse()
    status, headers, body = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    echoed = json.loads(body)
    assert status == 202 and headers["x-upstream"] == "secure" and headers["content-type"] == "application/json"
    assert (echoed["method"], echoed["target"], echoed["body"]) == ("POST", "/secure?a=1&b=two", '{"x": 1}')
    assert echoed["headers"]["x-custom"] == "kept"
    assert echoed["headers"]["authorization"] == f"Bearer {token}"
    # What API Gateway adds for the integration.
    assert echoed["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert echoed["headers"]["x-forwarded-proto"] == "http"
    assert echoed["headers"]["x-amzn-trace-id"].startswith("Root=1-")


def test_a_task_slower_than_the_integration_timeout_is_504(gateway):
    status, _, body = call(gateway, "GET", "/open", **{"X-Sleep": "3"})
    assert (status, json.loads(body)) == (504, {"message": "Gateway Timeout"})


def test_a_service_nothing_listens_behind_is_503_service_unavailable(start_gateway):
    gateway = start_gateway({"gone": ["GET /gone"], "here": ["GET /here"]}, dead=("gone",))
    status, _, body = call(gateway, "GET", "/gone")
    assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})
    assert chosen(gateway, "GET", "/here") == "here"


# --- JWT ----------------------------------------------------------------------------------------

class FROM_NOW:  # noqa: N801 (reads as a value in the table below)
    """A time claim this many seconds from when the test runs."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds


def assert_401(answer) -> None:
    status, headers, body = answer
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert 'error="invalid_token"' in headers["www-authenticate"]


def test_a_valid_token_of_the_issuer_is_accepted(gateway, issuer):
    assert call(gateway, "GET", "/secure", issuer.token(issuer=ISSUER))[0] == 200


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c"])
def test_no_or_a_malformed_token_is_401_with_www_authenticate(gateway, header):
    headers = {} if header is None else {"Authorization": header}
    assert_401(call(gateway, "GET", "/secure", **headers))


@pytest.mark.parametrize("claims", [
    pytest.param({"issuer": "https://other.example.test/"}, id="wrong issuer"),
    pytest.param({"aud": "someone-else"}, id="wrong aud"),
    pytest.param({"aud": "someone-else", "client_id": AUDIENCE}, id="aud is checked when present, not client_id"),
    pytest.param({"aud": None, "client_id": "someone-else"}, id="wrong client_id without aud"),
    pytest.param({"aud": None}, id="neither aud nor client_id"),
    pytest.param({"exp": FROM_NOW(-10)}, id="expired"),
    pytest.param({"nbf": FROM_NOW(600)}, id="not yet valid"),
    pytest.param({"key": new_key()}, id="bad signature"),
    pytest.param({"kid": "unknown-key"}, id="unknown kid"),
])
def test_a_token_failing_a_check_is_401(gateway, issuer, claims):
    # Times are taken when the test runs, not when it is collected (a long session would move them).
    claims = {name: int(time.time()) + value.seconds if isinstance(value, FROM_NOW) else value
              for name, value in claims.items()}
    claims.setdefault("issuer", ISSUER)
    assert_401(call(gateway, "GET", "/secure", issuer.token(**claims)))


def test_client_id_stands_for_the_audience_when_there_is_no_aud(gateway, issuer):
    assert call(gateway, "GET", "/secure", issuer.token(issuer=ISSUER, aud=None, client_id=AUDIENCE))[0] == 200


def test_a_valid_token_without_the_routes_scopes_is_403_insufficient_scope(gateway, issuer):
    status, headers, body = call(gateway, "POST", "/secure", issuer.token(issuer=ISSUER, scope="orders/read"))
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    challenge = headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="orders/admin orders/write"' in challenge


@pytest.mark.parametrize("claims", [{"scope": "profile orders/write"}, {"scp": ["orders/admin"]}])
def test_one_of_the_routes_scopes_in_scope_or_scp_is_enough(gateway, issuer, claims):
    assert call(gateway, "POST", "/secure", issuer.token(issuer=ISSUER, **claims))[0] == 200


def test_a_route_without_auth_never_looks_at_the_token(gateway):
    assert call(gateway, "GET", "/open", "garbage")[0] == 200


def test_without_jwks_the_keys_come_from_the_issuers_oidc_discovery(start_gateway, issuer):
    def trust_the_suite_issuer(template):
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ApiGatewayV2::Authorizer":
                resource["Properties"]["JwtConfiguration"]["Issuer"] = issuer.url

    gateway = start_gateway({"secure": [{"route": "GET /secure", "auth": "jwt"}]},
                            template_change=trust_the_suite_issuer)
    assert call(gateway, "GET", "/secure", issuer.token())[0] == 200
    assert_401(call(gateway, "GET", "/secure", issuer.token(key=new_key())))


def test_jwks_may_be_a_file(start_gateway, issuer, tmp_path):
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(issuer.jwks()))
    gateway = start_gateway({"secure": [{"route": "GET /secure", "auth": "jwt"}]}, "--jwks", str(keys))
    assert call(gateway, "GET", "/secure", issuer.token(issuer=ISSUER))[0] == 200
    assert_401(call(gateway, "GET", "/secure", issuer.token(issuer=ISSUER, kid="other")))


def test_an_issuer_whose_discovery_outlasts_the_timeout_gets_401_keys_not_fetched(start_gateway, issuer):
    """API Gateway's fetch of the issuer's keys has a timeout (1500 ms); past it the token is refused,
    though the discovery document, had the gateway waited, names the keys that signed it."""
    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(2.5)
            data = json.dumps({"issuer": slow_url, "jwks_uri": f"{issuer.url}/jwks.json"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    slow = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    slow_url = f"http://127.0.0.1:{slow.server_address[1]}"

    def trust_the_slow_issuer(template):
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ApiGatewayV2::Authorizer":
                resource["Properties"]["JwtConfiguration"]["Issuer"] = slow_url

    try:
        gateway = start_gateway({"secure": [{"route": "GET /secure", "auth": "jwt"}]},
                                template_change=trust_the_slow_issuer)
        status, headers, _ = call(gateway, "GET", "/secure", issuer.token(issuer=slow_url))
        assert status == 401 and "could not be fetched" in headers["www-authenticate"]
    finally:
        slow.shutdown()
        slow.server_close()
