"""The per-service GET/PUT forms: one per configured service, the DOM contract other tests rely on,
what is sent (and what never is), every error state, keyboard use, a phone-sized screen, and the
strict Content-Security-Policy."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.processes import REPO
from tests.support.web import SERVICES, confirmed_user, page_config, run, sign_in

pytestmark = pytest.mark.integration

# Chromium's own console lines for failed loads; allowed only in the tests that cause them.
HTTP_ERROR_LINE = r"Failed to load resource: the server responded with a status of {}"


@pytest.mark.parametrize("count", [2, 3])
def test_renders_one_form_per_configured_service_in_order(make_rig, count):
    rig = make_rig(SERVICES[:count])
    page = rig.open().page
    sections = page.locator("section[data-service]")
    assert [sections.nth(i).get_attribute("data-service") for i in range(sections.count())] == \
        [s["name"] for s in SERVICES[:count]]
    for service in SERVICES[:count]:
        section = page.locator(f'section[data-service="{service["name"]}"]')
        for selector in ("input[name=id]", "textarea[name=body]", "button[data-action=get]",
                         "button[data-action=put]", "output[data-role=status]", "pre[data-role=body]"):
            assert section.locator(selector).count() == 1, (service["name"], selector)
        # Every field has a label a screen reader announces (get_by_label finds it through the label).
        assert section.get_by_label(f'{service["idParameter"]} (id)', exact=True).count() == 1
        assert section.get_by_label("Body (JSON object, sent with PUT)").count() == 1
        assert service["path"] in section.inner_text()
    for field in ("Email", "Password", "Confirmation code (from the sign-up email)"):
        assert page.get_by_label(field, exact=True).count() == 1
    assert page.get_attribute("#messages", "aria-live") == "polite"
    assert "Signed out" in page.inner_text("#auth-status")


def test_get_shows_status_and_body_and_sends_no_token(rig, email):
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    status, body = run(watched, "foodstore", "get", "apple pie/1")
    assert status == "200"
    assert json.loads(body) == {"id": "apple pie/1", "name": "canned"}
    get = [r for r in rig.api.requests if r.method == "GET"]
    assert [r.path for r in get] == ["/foodstore/foods/apple%20pie%2F1"]  # the id is one path segment
    assert "Authorization" not in get[0].headers  # a public GET never carries the token
    assert "answered 200" in watched.page.inner_text("#messages")


def test_put_sends_the_access_token_and_json_body(rig, email):
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    status, body = run(watched, "petstore", "put", "rex", '{"kind": "dog"}')
    assert (status, json.loads(body)) == ("200", {"kind": "dog"})
    put = [r for r in rig.api.requests if r.method == "PUT"]
    assert len(put) == 1 and put[0].path == "/petstore/pets/rex"
    assert put[0].headers["Content-Type"] == "application/json"
    assert json.loads(put[0].body) == {"kind": "dog"}
    token = put[0].headers["Authorization"].removeprefix("Bearer ")
    assert rig.pool.idp.get_user(AccessToken=token)["Username"]  # the access token moto issued


def test_protected_get_carries_the_token_only_where_configured(make_rig, email):
    rig = make_rig(SERVICES)  # toystore protects GET too
    watched = rig.open()
    assert run(watched, "toystore", "get", "ball")[0] == "401"
    assert "needs a signed-in user (401): sign in first" in watched.page.inner_text("#messages")
    sign_in(watched, confirmed_user(rig.pool, email))
    assert run(watched, "toystore", "get", "ball")[0] == "200"
    assert run(watched, "foodstore", "get", "ball")[0] == "200"
    gets = [(r.path, "Authorization" in r.headers) for r in rig.api.requests if r.method == "GET"]
    assert gets == [("/toystore/toys/ball", False), ("/toystore/toys/ball", True), ("/foodstore/foods/ball", False)]
    rig.allow_console(HTTP_ERROR_LINE.format(401))


@pytest.mark.parametrize("body", ["{bad json", "", "{'single': 'quotes'}", '{"a": 1,}'])
def test_invalid_json_is_reported_and_never_sent(rig, email, body):
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    status, shown = run(watched, "foodstore", "put", "apple", body)
    assert status == "invalid"
    assert "The body is not valid JSON" in shown and "Nothing was sent" in shown
    assert "foodstore: The body is not valid JSON" in watched.page.inner_text("#messages")
    assert rig.api.requests == []  # not even a preflight
    assert not [r for r in watched.requests if r.url.startswith(rig.api.url)]


def test_missing_id_is_reported_and_never_sent(rig):
    watched = rig.open()
    status, shown = run(watched, "petstore", "get", "   ")
    assert status == "invalid" and "Enter the petId first" in shown
    assert rig.api.requests == []


def test_put_signed_out_shows_401_and_says_to_sign_in(rig):
    rig.allow_console(HTTP_ERROR_LINE.format(401))
    watched = rig.open()
    status, body = run(watched, "foodstore", "put", "apple", '{"a": 1}')
    assert (status, json.loads(body)) == ("401", {"message": "Unauthorized"})
    assert "foodstore: PUT needs a signed-in user (401): sign in first." in watched.page.inner_text("#messages")
    assert "Authorization" not in rig.api.requests[-1].headers


def test_404_shows_the_api_message(rig):
    rig.allow_console(HTTP_ERROR_LINE.format(404))
    watched = rig.open()
    status, body = run(watched, "foodstore", "get", "missing")
    assert status == "404"
    assert json.loads(body)["error"]["code"] == "item_not_found"
    assert "Not found (404)" in watched.page.inner_text("#messages")
    assert "No item has this id." in watched.page.inner_text("#messages")


def test_413_says_the_body_is_too_large(rig, email):
    rig.allow_console(HTTP_ERROR_LINE.format(413))
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    status, _ = run(watched, "petstore", "put", "huge", json.dumps({"blob": "x" * 5000}))
    assert status == "413"
    assert "Too large (413)" in watched.page.inner_text("#messages")


def test_unreachable_api_is_a_network_error(rig):
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    rig.allow_console(r"net::ERR_CONNECTION_REFUSED")
    watched = rig.open(page_config(rig.pool, rig.moto, f"http://127.0.0.1:{closed}", rig.services))
    status, shown = run(watched, "foodstore", "get", "apple")
    assert status == "network"
    assert f"The API at http://127.0.0.1:{closed} could not be reached (network error)." == shown
    assert "network error" in watched.page.inner_text("#messages")


def test_cors_refusal_is_told_apart_from_a_network_error(rig):
    rig.allow_console(r"has been blocked by CORS policy|net::ERR_FAILED")
    watched = rig.open()
    status, shown = run(watched, "foodstore", "get", "nocors")
    assert status == "cors"
    assert "its CORS settings do not allow this page's origin" in shown
    assert rig.sites[0].origin in shown
    assert [r.path for r in rig.api.requests] == ["/foodstore/foods/nocors"] * 2  # the request, then the probe


def test_keyboard_alone_reaches_every_control_and_sends(rig):
    watched = rig.open()
    page = watched.page
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(
            "(() => { const e = document.activeElement;"
            " const s = e.closest('section[data-service]');"
            " return (s ? s.dataset.service + ':' : '') + (e.id && !s ? '#' + e.id :"
            " e.name ? e.name : e.dataset.action || e.dataset.role || e.tagName); })()"))
    expected = ["#email", "#password", "#sign-in", "#sign-up", "#sign-out", "#code", "#confirm", "#resend",
                "foodstore:id", "foodstore:body", "foodstore:get", "foodstore:put", "foodstore:body",
                "petstore:id"]
    assert reached[:len(expected)] == expected  # foodstore:body twice: the textarea, then the response <pre>
    # Enter in an id field sends a GET; Space on a focused button presses it.
    page.focus('section[data-service="petstore"] input[name=id]')
    page.keyboard.type("rex")
    page.keyboard.press("Enter")
    expect(page.locator("[data-service=petstore] output")).to_have_text("200")
    page.focus('section[data-service="foodstore"] input[name=id]')
    page.keyboard.type("pear")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.locator("[data-service=foodstore] output")).to_have_text("200")
    assert [r.path for r in rig.api.requests] == ["/petstore/pets/rex", "/foodstore/foods/pear"]


def test_phone_width_has_no_sideways_scroll_and_big_targets(make_rig):
    rig = make_rig(SERVICES)
    page = rig.open(viewport=(375, 740)).page
    page.fill('section[data-service="foodstore"] textarea[name=body]', '{"a": "' + "long" * 200 + '"}')
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for control in page.locator("button, input, textarea").all():
        box = control.bounding_box()
        assert box["height"] >= 44, control.evaluate("e => e.outerHTML")
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "16px"
    # For a person to look at (build/ is not committed): `make test` leaves it there.
    shot = REPO / "build" / "web" / "phone.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert Path(shot).stat().st_size > 0


def test_page_runs_under_the_strict_csp_without_violations(rig, email):
    watched = rig.open()
    response = watched.page.request.get(rig.sites[0].url)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    sign_in(watched, confirmed_user(rig.pool, email))
    run(watched, "foodstore", "get", "apple")
    assert watched.csp_violations() == []
    # The stylesheet applied (a blocked one would leave the default white page background).
    assert watched.page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(244, 246, 248)"


def test_csp_check_catches_an_inline_script_and_style(rig):
    """The detector the other tests rely on does fire: a page with inline code is caught."""
    probe = b"<!doctype html><style>body{color:red}</style><script>document.title='ran'</script><body data-config>"
    rig.allow_console(r"Content Security Policy")
    rig.csp_violations_expected = True
    watched = rig.open(extra={"probe.html": probe}, path="probe.html")
    assert sorted(v.split(" ")[0] for v in watched.csp_violations()) == ["script-src-elem", "style-src-elem"]
    assert watched.page.title() != "ran"
    assert any("Content Security Policy" in text for kind, text in watched.console if kind == "error")
