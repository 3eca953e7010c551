"""`make local` as a person uses it: the test page in headless Chromium against the whole local
stack (the page's server, the gateway, moto's Cognito, one gunicorn per service, dynalite), for
every service of the configuration, through the page's own forms."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.support.moto import PASSWORD

pytestmark = pytest.mark.integration

# Chromium logs every 4xx answer to a fetch as a console error. These are the answers the test
# provokes on purpose: the gateway's 401 to a PUT without a token, the container's 404 for an item
# not stored yet. Any other console message fails the test.
EXPECTED_CONSOLE = re.compile(r"^Failed to load resource: the server responded with a status of (401|404) ")
UNAUTHORIZED = {"message": "Unauthorized"}


def run(page, service: str, action: str, item_id: str, body: str | None = None) -> tuple[str, str]:
    """Fill a service's form, press GET or PUT, wait for the answer: (status text, body text)."""
    section = page.locator(f'section[data-service="{service}"]')
    section.locator("input[name=id]").fill(item_id)
    if body is not None:
        section.locator("textarea[name=body]").fill(body)
    section.locator(f"button[data-action={action}]").click()
    expect(section).not_to_have_attribute("aria-busy", "true")
    status = section.locator("output[data-role=status]")
    expect(status).to_have_text(re.compile(r"^\d{3}$|^[a-z]+$"))
    return status.inner_text(), section.locator("pre[data-role=body]").inner_text()


def test_sign_up_put_get_reload_sign_out_for_every_service(make_stack, browser, email):
    stack = make_stack().start()
    config = stack.page_config
    services = [s["name"] for s in config["services"]]
    assert services == ["foodstore", "petstore"]  # the default configuration's, read from the template
    assert all(s["protectedMethods"] == ["PUT"] for s in config["services"])

    context = browser.new_context()
    page = context.new_page()
    console, errors = [], []
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(15_000)
    page.goto(stack.page_url)
    expect(page.locator("body")).to_have_attribute("data-config", "ready")
    # Each body names its own id (the container adds it otherwise), so GET must return it unchanged.
    items = {s["name"]: {s["idParameter"]: f"{s['name']}-1", "name": f"{s['name']} item", "tags": ["local"],
                         "count": 3} for s in config["services"]}

    # Signed out: GET reaches the container (no such item yet), PUT is refused at the gateway.
    for name in services:
        status, body = run(page, name, "get", f"{name}-1")
        assert (status, json.loads(body)["error"]["code"]) == ("404", "item_not_found")
        status, body = run(page, name, "put", f"{name}-1", json.dumps(items[name]))
        assert (status, json.loads(body)) == ("401", UNAUTHORIZED)

    # Sign up, confirm, sign in through the page. moto's ConfirmSignUp accepts any code (it never
    # reads ConfirmationCode), so the confirmation proves the request and the flow, not the code.
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#sign-up")
    expect(page.locator("#messages")).to_contain_text("Account created")
    page.fill("#code", "123456")
    page.click("#confirm")
    expect(page.locator("#messages")).to_contain_text(f"Account {email} confirmed")
    idp = stack.client("cognito-idp")
    assert idp.admin_get_user(UserPoolId=config["userPoolId"], Username=email)["UserStatus"] == "CONFIRMED"
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page.locator("#auth-status")).to_have_text(f"Signed in as {email}")

    for name in services:
        status, body = run(page, name, "put", f"{name}-1", json.dumps(items[name]))
        assert (status, json.loads(body)) == ("200", items[name])
        status, body = run(page, name, "get", f"{name}-1")
        assert (status, json.loads(body)) == ("200", items[name])

    # A reload keeps the session (sessionStorage): PUT still carries a token the gateway accepts.
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-config", "ready")
    expect(page.locator("#auth-status")).to_have_text(f"Signed in as {email}")
    for name in services:
        items[name]["count"] = 4
        status, body = run(page, name, "put", f"{name}-1", json.dumps(items[name]))
        assert (status, json.loads(body)) == ("200", items[name])

    page.click("#sign-out")
    expect(page.locator("#auth-status")).to_have_text("Signed out")
    for name in services:
        status, body = run(page, name, "get", f"{name}-1")
        assert (status, json.loads(body)) == ("200", items[name])
        status, body = run(page, name, "put", f"{name}-1", json.dumps({"count": 5}))
        assert (status, json.loads(body)) == ("401", UNAUTHORIZED)

    # What the browser sent went to the local gateway and the local IdP only.
    unexpected = [f"{kind}: {text}" for kind, text in console
                  if kind in ("error", "warning") and not EXPECTED_CONSOLE.match(text)]
    assert not unexpected and not errors, (unexpected, errors)
    assert any(EXPECTED_CONSOLE.match(text) for _, text in console)  # the allowance is not vacuous
    context.close()

    # The items are in the stack's tables, keyed as the template keys them.
    dynamodb = stack.client("dynamodb")
    for name, key in (("foodstore", "foodId"), ("petstore", "petId")):
        table = f"ecsapi-local-{name.capitalize()}Table"
        stored = dynamodb.get_item(TableName=table, Key={key: {"S": f"{name}-1"}})["Item"]
        assert stored[key] == {"S": f"{name}-1"} and stored["count"] == {"N": "4"}
