"""Your own services under ``make local``: the order example (examples/orders) end to end, and what
stops or changes a run (a missing local secret or command, --skip, a failing health check)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import REPO

pytestmark = pytest.mark.integration

EXAMPLE = REPO / "examples" / "orders"
LOCAL_RECEIPT_KEY = "local-receipt-key"  # examples/orders/orders.toml [services.local] secrets


def machine_token(stack, scope: str | None = None, secret: str | None = None) -> tuple[int, dict]:
    """(status, JSON) of the local Cognito's token endpoint, client credentials with HTTP Basic."""
    idp = stack.client("cognito-idp")
    pool = idp.list_user_pools(MaxResults=10)["UserPools"][0]["Id"]
    clients = [idp.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
               for c in idp.list_user_pool_clients(UserPoolId=pool)["UserPoolClients"]]
    [machine] = [c for c in clients if c.get("ClientSecret")]
    basic = base64.b64encode(f"{machine['ClientId']}:{secret or machine['ClientSecret']}".encode()).decode()
    form = "grant_type=client_credentials" + (f"&scope={scope}" if scope else "")
    request = urllib.request.Request(f"http://127.0.0.1:{stack.ports['cognito']}/oauth2/token", data=form.encode(),
                                     method="POST", headers={"Authorization": f"Basic {basic}",
                                                             "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_order_example_runs_end_to_end(make_stack, email):
    stack = make_stack(config=EXAMPLE / "orders.toml", services=2).start()

    # The tables, made from the template's key schemas on dynalite.
    dynamodb = stack.client("dynamodb")
    keys = {name: dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]
            for name in dynamodb.list_tables()["TableNames"]}
    assert sorted(keys.values(), key=len) == [
        [{"AttributeName": "orderId", "KeyType": "HASH"}],
        [{"AttributeName": "orderId", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
    ]

    # The machine client: client credentials, tokens with the scopes asked for and allowed.
    status, writer = machine_token(stack, "orders/write")
    assert status == 200 and writer["token_type"] == "Bearer"
    assert machine_token(stack, "orders/write", secret="wrong")[0] == 401
    assert machine_token(stack, "orders/other") == (400, {"error": "invalid_scope"})
    admin = machine_token(stack, "orders/admin")[1]["access_token"]

    # POST (scope orders/write): the order is stored, and its receipt is signed with the local secret.
    status, placed = stack.request("POST", "/orders", {"items": [{"sku": "tea", "quantity": 2}]},
                                   token=writer["access_token"])
    assert status == 201
    order_id = placed["order"]["orderId"]
    assert placed["receipt"] == hmac.new(LOCAL_RECEIPT_KEY.encode(), order_id.encode(), hashlib.sha256).hexdigest()
    assert stack.request("POST", "/orders", {"items": []}, token=writer["access_token"])[0] == 400
    assert stack.request("GET", f"/orders/{order_id}", token=writer["access_token"]) == (200, {"order": placed["order"]})
    assert stack.request("GET", "/orders", token=writer["access_token"])[1]["orders"] == [placed["order"]]

    # DELETE needs orders/admin: the writer's token is refused with 403, the admin's accepted.
    assert stack.request("DELETE", f"/orders/{order_id}", token=writer["access_token"]) == (403, {"message": "Forbidden"})
    assert stack.request("DELETE", f"/orders/{order_id}", token=admin)[0] == 204
    status, events = stack.request("GET", f"/orders/{order_id}/events", token=admin)
    assert status == 200 and [e["event"] for e in events["events"]] == ["placed", "cancelled"]

    # A signed-in user: jwt routes without scopes take the token, scoped routes refuse it (403).
    user = stack.access_token(email)
    assert stack.request("GET", "/orders", token=user) == (200, {"orders": []})
    assert stack.request("POST", "/orders", {"items": [{"sku": "tea", "quantity": 1}]}, token=user)[0] == 403
    assert stack.request("GET", "/orders")[0] == 401

    # A rolling deploy replaces the service's tasks, which come up healthy by their own check.
    request = urllib.request.Request(f"http://127.0.0.1:{stack.ports['control']}/services/orders/deploy", method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        assert len(json.loads(response.read())["replaced"]) == 1
    assert stack.request("GET", f"/orders/{order_id}/events", token=admin)[0] == 200


def own_stack(tmp_path: Path, local: str, health_check: str = '"none"', name: str = "shop") -> Path:
    """A stack file of one own service (a tiny HTTP server on $PORT) beside the item store."""
    path = tmp_path / "stack.toml"
    path.write_text(textwrap.dedent(f"""\
        [[services]]
        name = "foodstore"
        path = "/foodstore/foods/{{foodId}}"

        [[services]]
        name = "{name}"
        image = "registry.example/shop:1"
        routes = [{{ route = "GET /shop/{{proxy+}}" }}]
        health_check = {health_check}
        secrets = {{ API_KEY = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/api-key" }}
        """) + local)
    return path


SERVE = ('command = ["python3", "-c", "import http.server as h, os; h.ThreadingHTTPServer((\'127.0.0.1\', '
         'int(os.environ[\'PORT\'])), h.SimpleHTTPRequestHandler).serve_forever()"]\n')


def test_a_secret_without_a_local_value_stops_make_local_naming_service_and_key(make_stack, tmp_path):
    stack = make_stack(config=own_stack(tmp_path, "[services.local]\n" + SERVE)).start(wait=False)
    assert stack.wait_exit() == 2
    assert "service shop: the secret API_KEY has no local value" in stack.output
    assert "is up" not in stack.output


def test_a_service_without_a_local_command_stops_make_local(make_stack, tmp_path):
    stack = make_stack(config=own_stack(tmp_path, "")).start(wait=False)
    assert stack.wait_exit() == 2
    assert "service shop: local.command is not set" in stack.output
    assert "is up" not in stack.output


def test_skip_runs_the_rest_and_the_skipped_services_routes_answer_503(make_stack, tmp_path):
    stack = make_stack(config=own_stack(tmp_path, ""), extra=("--skip", "shop")).start()
    assert "shop: skipped (--skip)" in stack.output
    assert stack.request("GET", "/shop/anything") == (503, {"message": "Service Unavailable"})
    assert stack.request("GET", "/foodstore/foods/nothing-here")[0] == 404  # the item store runs


def test_a_failing_health_check_fails_the_start_with_its_output(make_stack, tmp_path):
    config = own_stack(tmp_path, '[services.local]\n' + SERVE + 'secrets = { API_KEY = "k" }\n',
                       health_check='{ command = ["CMD-SHELL", "echo not ready; exit 3"], interval = 5, '
                                    'timeout = 2, retries = 1, start_period = 0 }')
    stack = make_stack(config=config).start(wait=False)
    assert stack.wait_exit(120) == 1
    assert "health check ['CMD-SHELL', 'echo not ready; exit 3'] failed 1 times" in stack.output
    assert "exit 3: not ready" in stack.output


def test_a_passing_shell_health_check_registers_the_task_with_its_environment(make_stack, tmp_path):
    config = own_stack(tmp_path, '[services.local]\n' + SERVE + 'secrets = { API_KEY = "k" }\n'
                       'environment = { GREETING = "hello" }\n',
                       health_check='{ command = ["CMD-SHELL", "test \\"$GREETING$API_KEY\\" = hellok && python3 -c '
                                    '\\"import urllib.request; urllib.request.urlopen(\'http://127.0.0.1:8080/\')\\""], '
                                    'interval = 5, timeout = 2, retries = 2, start_period = 5 }')
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "hello.txt").write_text("hello from the stack file's folder")
    stack = make_stack(config=config).start()
    assert "shop-2 registered in Cloud Map" in stack.output or "shop-1 registered in Cloud Map" in stack.output
    # The task runs in the stack file's folder and serves it.
    with urllib.request.urlopen(stack.api_url + "/shop/hello.txt", timeout=10) as response:
        assert response.read() == b"hello from the stack file's folder"


def test_the_page_lists_every_route_and_calls_it_as_the_signed_in_user(make_stack, browser, email):
    import re

    from playwright.sync_api import expect

    from tests.support.moto import PASSWORD

    stack = make_stack(config=EXAMPLE / "orders.toml", services=2).start()
    config = stack.page_config
    [orders] = config["services"]
    assert [r["route"] for r in orders["routes"]] == [
        "GET /orders", "POST /orders", "GET /orders/{orderId}", "DELETE /orders/{orderId}", "GET /orders/{orderId}/events"]
    idp = stack.client("cognito-idp")
    idp.sign_up(ClientId=config["clientId"], Username=email, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": email}])
    idp.admin_confirm_sign_up(UserPoolId=config["userPoolId"], Username=email)

    page = browser.new_context().new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(15_000)
    page.goto(stack.page_url)
    expect(page.locator("body")).to_have_attribute("data-config", "ready")
    forms = page.locator('section[data-service="orders"] form.route-form')
    assert [forms.nth(i).get_attribute("data-route") for i in range(forms.count())] == [r["route"] for r in orders["routes"]]

    def form(route: str):
        return page.locator(f'form.route-form[data-route="{route}"]')

    # Inputs for the path variables; a body box only where the method carries one.
    assert form("GET /orders/{orderId}").get_by_label("orderId", exact=True).count() == 1
    assert form("POST /orders").locator("textarea[name=body]").count() == 1
    assert form("GET /orders").locator("textarea").count() == 0

    def send(route: str, body: str | None = None, **variables) -> tuple[str, str, str]:
        target = form(route)
        for name, value in variables.items():
            target.locator(f'input[name="var-{name}"]').fill(value)
        if body is not None:
            target.locator("textarea[name=body]").fill(body)
        target.locator("button[type=submit]").click()
        expect(target).not_to_have_attribute("aria-busy", "true")
        status = target.locator("output[data-role=status]")
        expect(status).to_have_text(re.compile(r"^\d{3}$|^[a-z]+$"))
        return (status.inner_text(), target.locator("pre[data-role=body]").inner_text(),
                target.locator("p[data-role=explain]").inner_text())

    # Signed out: the jwt route is refused at the gateway, and the page says to sign in.
    status, body, explanation = send("GET /orders")
    assert (status, json.loads(body)) == ("401", {"message": "Unauthorized"}) and "sign in" in explanation

    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page.locator("#auth-status")).to_have_text(f"Signed in as {email}")

    assert send("GET /orders")[:2] == ("200", json.dumps({"orders": []}, indent=2))
    # The user's token has no custom scope: POST /orders needs orders/write, and the 403 is explained.
    status, body, explanation = send("POST /orders", '{"items": [{"sku": "tea", "quantity": 1}]}')
    assert (status, json.loads(body)) == ("403", {"message": "Forbidden"})
    assert "insufficient_scope" in explanation and "orders/write" in explanation
    # The service's own answer, shown as it came.
    status, body, _ = send("GET /orders/{orderId}", orderId="no such order")
    assert (status, json.loads(body)) == ("404", {"message": "no order no such order"})
    assert send("GET /orders/{orderId}/events", orderId="")[0] == "invalid"
    assert errors == []


def test_a_stack_with_an_external_issuer_runs_with_its_keys_from_jwks_and_no_page(make_stack, tmp_path):
    """stacks/orders-oidc.toml (no Cognito): the gateway checks tokens against --jwks; both services
    are skipped here, so a valid token reaches the integration and gets 503, a bad one 401."""
    from tests.support.issuer import Issuer

    issuer = Issuer(audience="https://api.example.com").start()
    try:
        keys = tmp_path / "jwks.json"
        keys.write_text(json.dumps(issuer.jwks()))
        stack = make_stack(config=REPO / "stacks" / "orders-oidc.toml",
                           extra=("--skip", "orders", "--skip", "reports", "--jwks", str(keys))).start()
        assert "test page" not in stack.output
        good = issuer.token(issuer="https://login.example.com/", scope="write:orders")
        assert stack.request("POST", "/orders", {"items": []}, token=good) == (503, {"message": "Service Unavailable"})
        assert stack.request("POST", "/orders", {"items": []}, token=issuer.token())[0] == 401  # another issuer
        scopeless = issuer.token(issuer="https://login.example.com/")
        assert stack.request("POST", "/orders", {"items": []}, token=scopeless) == (403, {"message": "Forbidden"})
    finally:
        issuer.stop()
