"""The web page's test world (tests/web): the page served from web/ under the production CSP,
moto (server mode) as Cognito, a small fake API, a stand-in for the Cognito calls moto lacks, and
the helpers that drive the page in Debian's chromium as a person would.

Everything listens on 127.0.0.1 on free ports; the fixtures that make and stop these live in
tests/web/conftest.py.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import expect

from generator.model import page as page_contract
from generator.template.auth import EXPLICIT_AUTH_FLOWS
from tests.support.moto import PASSWORD, Moto
from tests.support.processes import REPO

WEB = REPO / "web"
REGION = "us-east-1"
# The password policy the tests' user pools enforce (and the page shows).
PASSWORD_POLICY = {
    "minimumLength": 12, "requireLowercase": True, "requireUppercase": True, "requireNumbers": True,
    "requireSymbols": True,
}
GOOD_PASSWORD = PASSWORD
SERVICES = [
    {"name": "foodstore", "path": "/foodstore/foods/{foodId}", "idParameter": "foodId", "protectedMethods": ["PUT"]},
    {"name": "petstore", "path": "/petstore/pets/{petId}", "idParameter": "petId", "protectedMethods": ["PUT"]},
    {"name": "toystore", "path": "/toystore/toys/{toyId}", "idParameter": "toyId", "protectedMethods": ["GET", "PUT"]},
]
# Files the page consists of, with their content types; the test site serves these and nothing else from web/.
PAGE_FILES = {name: page_contract.CONTENT_TYPES[Path(name).suffix] for name in page_contract.PAGE_FILES}


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def with_claims(token: str, **changes) -> str:
    """``token`` with its payload changed (signature left as it was: only the page reads it)."""
    header, payload, signature = token.split(".")
    claims = {**jwt_claims(token), **changes}
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


class _QuietHandler(BaseHTTPRequestHandler):
    log_lines: list[str]

    def log_message(self, fmt, *args) -> None:  # kept for the failure report instead of stderr
        self.log_lines.append(f"{self.command} {self.path} " + (fmt % args))

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# --- moto as Cognito ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserPool:
    id: str
    client_id: str
    idp: object  # boto3 cognito-idp client on moto

    def user_status(self, email: str) -> str:
        return self.idp.admin_get_user(UserPoolId=self.id, Username=email)["UserStatus"]


def create_user_pool(moto: Moto) -> UserPool:
    """A user pool and app client as the template makes them: email as the user name, the policy
    above, a public client with the template's ExplicitAuthFlows and token revocation."""
    idp = moto.client("cognito-idp")
    pool = idp.create_user_pool(
        PoolName="web-test", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {
            "MinimumLength": PASSWORD_POLICY["minimumLength"], "RequireLowercase": True, "RequireUppercase": True,
            "RequireNumbers": True, "RequireSymbols": True}},
    )["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="web", GenerateSecret=False,
        ExplicitAuthFlows=list(EXPLICIT_AUTH_FLOWS), EnableTokenRevocation=True,
    )["UserPoolClient"]
    return UserPool(pool["Id"], client["ClientId"], idp)


# --- the fake API ---------------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes


class FakeApi:
    """Canned answers in the shapes API Gateway and the itemstore send, with the CORS headers the
    template configures (origin = the page's, headers authorization and content-type).

    Ids pick the answer: ``missing`` 404, ``huge`` 413, ``nocors`` 200 without CORS headers; any
    other id 200 with an item. A protected route answers 401 like the JWT authorizer unless the
    Bearer token is a live moto access token of ``client_id`` (checked with GetUser) that is not in
    ``rejected``, so the page must send the ACCESS token, fresh.
    """

    def __init__(self, pool: UserPool, services: list[dict]) -> None:
        self.pool = pool
        self.protected = {(s["path"].rsplit("/", 1)[0], m) for s in services for m in s["protectedMethods"]}
        self.origin = ""  # set once the page's site exists
        self.requests: list[Recorded] = []
        self.rejected: set[str] = set()
        self.reject_all = False  # answer 401 to every protected request, whatever the token
        self.log_lines: list[str] = []
        api = self

        class Handler(_QuietHandler):
            log_lines = api.log_lines

            def do_OPTIONS(self) -> None:  # noqa: N802 (http.server API)
                api.requests.append(Recorded("OPTIONS", self.path, dict(self.headers), b""))
                self._reply(204, headers={
                    **api.cors(), "Access-Control-Allow-Methods": "GET,PUT,OPTIONS",
                    "Access-Control-Allow-Headers": "authorization,content-type", "Access-Control-Max-Age": "600"})

            def do_GET(self) -> None:  # noqa: N802
                api.answer(self, b"")

            def do_PUT(self) -> None:  # noqa: N802
                api.answer(self, self.rfile.read(int(self.headers.get("Content-Length", 0))))

        self.server = _serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def cors(self) -> dict:
        return {"Access-Control-Allow-Origin": self.origin, "Vary": "Origin"}

    def answer(self, handler: _QuietHandler, body: bytes) -> None:
        self.requests.append(Recorded(handler.command, handler.path, dict(handler.headers), body))
        prefix, _, item_id = handler.path.rpartition("/")
        json_type = {"Content-Type": "application/json"}
        if (prefix, handler.command) in self.protected and not self._authorized(handler.headers.get("Authorization")):
            return handler._reply(401, b'{"message":"Unauthorized"}', {**self.cors(), **json_type})
        if item_id == "missing":
            error = {"error": {"code": "item_not_found", "message": "No item has this id."}}
            return handler._reply(404, json.dumps(error).encode(), {**self.cors(), **json_type})
        if item_id == "huge":
            error = {"error": {"code": "item_too_large", "message": "The body exceeds the item size limit."}}
            return handler._reply(413, json.dumps(error).encode(), {**self.cors(), **json_type})
        item = json.loads(body) if body else {"id": urllib.request.unquote(item_id), "name": "canned"}
        headers = json_type if item_id == "nocors" else {**self.cors(), **json_type}
        return handler._reply(200, json.dumps(item).encode(), headers)

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        token = header.removeprefix("Bearer ")
        try:
            claims = jwt_claims(token)
        except ValueError:
            return False
        if self.reject_all or token in self.rejected or claims.get("token_use") != "access" or claims.get("client_id") != self.pool.client_id:
            return False
        if claims.get("exp", 0) <= time.time():
            return False
        try:
            self.pool.idp.get_user(AccessToken=token)  # moto knows the token: issued, not signed out
        except self.pool.idp.exceptions.NotAuthorizedException:
            return False
        return True

    def close(self) -> None:
        _stop(self.server)


# --- a stand-in for the Cognito operations moto lacks --------------------------------------------


class CognitoFront:
    """A proxy in front of moto that answers what moto 5.2.5 cannot: ResendConfirmationCode (moto
    raises NotImplementedError, a 500 without CORS headers) and scripted error replies (moto
    accepts any confirmation code, so it never sends CodeMismatchException). Every other call goes
    to moto unchanged. Each call is recorded as (operation, body).
    """

    def __init__(self, moto: Moto, pool: UserPool) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.scripted: dict[str, tuple[int, dict]] = {}
        self.log_lines: list[str] = []
        front = self

        class Handler(_QuietHandler):
            log_lines = front.log_lines

            def do_OPTIONS(self) -> None:  # noqa: N802
                self._reply(200, headers={"Access-Control-Allow-Origin": self.headers.get("Origin", "*"),
                                          "Access-Control-Allow-Methods": "POST",
                                          "Access-Control-Allow-Headers": "content-type,x-amz-target"})

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                front.calls.append((operation, json.loads(body or b"{}")))
                status, reply = front.answer(operation, json.loads(body or b"{}"), body, dict(self.headers))
                self._reply(status, json.dumps(reply).encode(), {
                    "Access-Control-Allow-Origin": "*", "Content-Type": "application/x-amz-json-1.1"})

        self.moto, self.pool = moto, pool
        self.server = _serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def answer(self, operation: str, request: dict, raw: bytes, headers: dict) -> tuple[int, dict]:
        if operation in self.scripted:
            return self.scripted[operation]
        if operation == "ResendConfirmationCode":
            return self._resend(request["Username"])
        forwarded = urllib.request.Request(f"{self.moto.url}/", data=raw, method="POST", headers={
            "Content-Type": headers["Content-Type"], "X-Amz-Target": headers["X-Amz-Target"]})
        try:
            with urllib.request.urlopen(forwarded, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def _resend(self, username: str) -> tuple[int, dict]:
        """ResendConfirmationCode as the API reference describes it, against moto's users."""
        try:
            status = self.pool.user_status(username)
        except self.pool.idp.exceptions.UserNotFoundException:
            return 400, {"__type": "UserNotFoundException", "message": "Username/client id combination not found."}
        if status == "CONFIRMED":
            return 400, {"__type": "InvalidParameterException", "message": "User is already confirmed."}
        masked = f"{username[0]}***@{username.split('@')[1][0]}***"
        return 200, {"CodeDeliveryDetails": {"Destination": masked, "DeliveryMedium": "EMAIL", "AttributeName": "email"}}

    def close(self) -> None:
        _stop(self.server)


# --- the page's site ------------------------------------------------------------------------------


def content_security_policy(config: dict) -> str:
    """The page's policy (generator/model/page.py, which CloudFront and the emulator send too) for
    this config.json's API and Cognito origins; a config the page must refuse may name none."""
    urls = [config.get("apiUrl"), config.get("cognitoEndpoint") or f"https://cognito-idp.{REGION}.amazonaws.com/"]
    return page_contract.content_security_policy(origin for origin in map(_origin, urls) if origin)


def _origin(url) -> str | None:
    match = re.match(r"^(https?://[^/?#\s]+)", url) if isinstance(url, str) else None
    return match.group(1) if match else None


class Site:
    """web/ served on loopback with config.json (bytes, or absent) and the production-like headers."""

    def __init__(self, config: bytes | None, csp: str, extra: dict[str, bytes] | None = None) -> None:
        self.log_lines: list[str] = []
        files = {name: (WEB / name).read_bytes() for name in PAGE_FILES}
        extra = extra or {}

        class Handler(_QuietHandler):
            log_lines = self.log_lines

            def do_GET(self) -> None:  # noqa: N802
                name = self.path.split("?")[0].lstrip("/") or "index.html"
                headers = {**page_contract.security_headers(()), "Content-Security-Policy": csp,
                           "Cache-Control": "no-store"}
                if name in files:
                    return self._reply(200, files[name], {**headers, "Content-Type": PAGE_FILES[name]})
                if name == "config.json" and config is not None:
                    return self._reply(200, config, {**headers, "Content-Type": "application/json"})
                if name in extra:
                    return self._reply(200, extra[name], {**headers, "Content-Type": "text/html; charset=utf-8"})
                if name == "favicon.ico":
                    return self._reply(204, b"", headers)
                return self._reply(404, b"not found", {**headers, "Content-Type": "text/plain"})

        self.server = _serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")

    def close(self) -> None:
        _stop(self.server)


# --- the browser --------------------------------------------------------------------------------

# Records CSP violations in the page (Playwright injects this outside the page's CSP).
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.effectiveDirective + ' ' + e.blockedURI);
});
"""


@dataclass
class Watched:
    """A page and everything it said: console messages, uncaught errors, requests."""

    page: object
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[object] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def cognito_calls(self) -> list[tuple[str, dict]]:
        """(operation, request body) of every Cognito call the page made, in order."""
        calls = []
        for request in self.requests:
            target = request.headers.get("x-amz-target", "")
            if target.startswith("AWSCognitoIdentityProviderService."):
                calls.append((target.split(".", 1)[1], json.loads(request.post_data or "{}")))
        return calls


def page_config(pool: UserPool, moto: Moto, api_url: str, services: list[dict], **changes) -> dict:
    """The page's config.json for the rig, built by the one builder the stack and make local use
    (generator.model.page.page_config), then ``changes`` (the cases a page must refuse)."""
    from generator.model.page import PASSWORD_POLICY_KEYS
    from generator.model.page import page_config as build

    policy = {name: PASSWORD_POLICY[key] for name, key in PASSWORD_POLICY_KEYS.items()}
    config = build(REGION, api_url, pool.id, pool.client_id, policy, services, cognito_endpoint=f"{moto.url}/")
    config.update(changes)
    return config


class Rig:
    """One test's world: moto's user pool, the fake API, and the page's site(s) and tabs."""

    def __init__(self, browser, moto: Moto, pool: UserPool, services: list[dict]) -> None:
        self.browser, self.moto, self.pool, self.services = browser, moto, pool, services
        self.api = FakeApi(pool, services)
        self.sites: list[Site] = []
        self.pages: list[Watched] = []
        self.contexts: list = []
        self.allowed_console: list[re.Pattern] = []
        self.csp_violations_expected = False
        self.config: dict = {}

    def allow_console(self, pattern: str) -> None:
        """Let console errors matching ``pattern`` pass (Chromium logs failed loads on its own)."""
        self.allowed_console.append(re.compile(pattern))

    def open(self, config: dict | None = None, raw_config: bytes | None = None, missing_config: bool = False,
             viewport=(1280, 900), csp: str | None = None, extra: dict[str, bytes] | None = None,
             path: str = "") -> Watched:
        """Serve the page with ``config`` (default: pointing at moto and the fake API) and open it."""
        self.config = config or page_config(self.pool, self.moto, self.api.url, self.services)
        body = None if missing_config else (raw_config if raw_config is not None else json.dumps(self.config).encode())
        site = Site(body, csp or content_security_policy(self.config), extra)
        self.sites.append(site)
        self.api.origin = site.origin
        context = self.browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        self.contexts.append(context)
        return self._watch(context.new_page(), site.url + path)

    def new_tab(self, watched: Watched) -> Watched:
        return self._watch(watched.page.context.new_page(), watched.page.url)

    def _watch(self, page, url: str) -> Watched:
        watched = Watched(page)
        page.add_init_script(CSP_RECORDER)
        page.on("console", lambda m: watched.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: watched.errors.append(str(e)))
        page.on("request", lambda r: watched.requests.append(r))
        page.set_default_timeout(10_000)
        page.goto(url)
        page.wait_for_selector("body[data-config]", state="attached")
        self.pages.append(watched)
        return watched

    def unexpected_console(self) -> list[str]:
        found = []
        for watched in self.pages:
            found += [f"uncaught: {e}" for e in watched.errors]
            if not self.csp_violations_expected and not watched.page.is_closed():
                found += [f"CSP violation: {v}" for v in watched.csp_violations()]
            for kind, text in watched.console:
                if kind in ("error", "warning") and not any(p.search(text) for p in self.allowed_console):
                    found.append(f"console {kind}: {text}")
        return found

    def report(self) -> str:
        lines = [f"config: {json.dumps(self.config)}", "api:", *self.api.log_lines]
        for site in self.sites:
            lines += ["site:", *site.log_lines]
        for watched in self.pages:
            lines += ["console:", *(f"  {k}: {t}" for k, t in watched.console), *(f"  uncaught: {e}" for e in watched.errors)]
        return "\n".join(lines)

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        for site in self.sites:
            site.close()
        self.api.close()


def confirmed_user(pool: UserPool, email: str, password: str = GOOD_PASSWORD) -> str:
    """A confirmed user made through the API (for tests whose subject is not sign-up)."""
    pool.idp.sign_up(ClientId=pool.client_id, Username=email, Password=password,
                     UserAttributes=[{"Name": "email", "Value": email}])
    pool.idp.admin_confirm_sign_up(UserPoolId=pool.id, Username=email)
    return email


def sign_in(watched: Watched, email: str, password: str = GOOD_PASSWORD) -> None:
    """Sign in through the page's form, as a person would, and wait for the page to say so."""
    page = watched.page
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
    expect(page.locator("#auth-status")).to_have_text(f"Signed in as {email}")


def run(watched: Watched, service: str, action: str, item_id: str, body: str | None = None) -> tuple[str, str]:
    """Fill a service's form, press GET or PUT, wait for the answer: (status text, body text)."""
    section = watched.page.locator(f'section[data-service="{service}"]')
    section.locator("input[name=id]").fill(item_id)
    if body is not None:
        section.locator("textarea[name=body]").fill(body)
    section.locator(f"button[data-action={action}]").click()
    status = section.locator("output[data-role=status]")
    # Locator assertions, not wait_for_function: Playwright polls those with eval, which the CSP forbids.
    expect(section).not_to_have_attribute("aria-busy", "true")
    expect(status).to_have_text(re.compile(r"."))
    return status.inner_text(), section.locator("pre[data-role=body]").inner_text()


def stored_session(watched: Watched) -> dict | None:
    """The session the page keeps in sessionStorage (None when signed out)."""
    raw = watched.page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('ecsapi.session:'))"
                                ".map(k => sessionStorage.getItem(k))")
    assert len(raw) <= 1, raw
    return json.loads(raw[0]) if raw else None


def replace_session(watched: Watched, client_id: str, session: dict) -> None:
    watched.page.evaluate("([key, value]) => sessionStorage.setItem(key, value)",
                          [f"ecsapi.session:{client_id}", json.dumps(session)])
