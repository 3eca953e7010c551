"""The emulator's page server sends the headers the stack's CloudFront distribution sends: both come
from generator.model.page, and this test reads each from where a browser would meet it (the
rendered template's response headers policy; a real ``python -m ecsapi_local.site``)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from ecsapi_local.intrinsics import Resolver, pseudo_parameters
from ecsapi_local.site import PAGE
from generator import StackConfig, build_template
from generator.model.page import PAGE_FILES
from generator.tooling.assets import WEB
from generator.tooling.render import template_json
from tests.support.processes import free_port

pytestmark = pytest.mark.integration

REGION = "eu-west-1"


def cloudfront_headers(template: dict, region: str) -> dict[str, str]:
    """The headers the SiteHeadersPolicy makes CloudFront send, per field of its
    SecurityHeadersConfig ("ResponseHeadersPolicySecurityHeadersConfig", Amazon CloudFront API
    Reference: ContentTypeOptions sends X-Content-Type-Options: nosniff; FrameOptions,
    ReferrerPolicy and ContentSecurityPolicy send their value)."""
    config = template["Resources"]["SiteHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    resolver = Resolver(template, {}, pseudo_parameters(region))
    # Strict-Transport-Security is left out: a host must not send it over plain HTTP (RFC 6797,
    # section 7.2), which is all the emulator speaks; test_site.py checks CloudFront's.
    return {
        "Content-Security-Policy": resolver.value("SiteHeadersPolicy", "ContentSecurityPolicy",
                                                  security["ContentSecurityPolicy"]["ContentSecurityPolicy"]),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
    }


@pytest.fixture
def page_server(tmp_path):
    """start(config) -> the base URL of ``python -m ecsapi_local.site`` serving that config.json."""
    started = []

    def start(config: dict) -> str:
        path = tmp_path / f"config{len(started)}.json"
        path.write_text(json.dumps(config))
        port = free_port()
        # Its errors go to a file: a pipe nobody reads while it serves could fill up with tracebacks
        # of clients that went away, and block the server (and so its SIGTERM) on a write.
        errors = tmp_path / f"server{len(started)}.err"
        with errors.open("wb") as sink:
            process = subprocess.Popen([sys.executable, "-m", "ecsapi_local.site", "--config", str(path),
                                        "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=sink)
        started.append(process)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                return url
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the page server did not start: {errors.read_text()}") from None
                time.sleep(0.05)

    yield start
    for process in started:
        process.terminate()
        process.wait(10)


def test_the_local_page_server_sends_cloudfronts_headers_for_the_same_origins(page_server):
    template = json.loads(template_json(build_template(StackConfig())))
    expected = cloudfront_headers(template, REGION)
    # The origins CloudFront's policy admits, as a local config.json would name them.
    url = page_server({"region": REGION, "apiUrl": f"https://*.execute-api.{REGION}.amazonaws.com",
                       "cognitoEndpoint": f"https://cognito-idp.{REGION}.amazonaws.com/"})
    for name in ("", *PAGE_FILES):
        with urllib.request.urlopen(url + name, timeout=10) as response:
            sent = {key: response.headers[key] for key in expected if key in response.headers}
        assert sent == expected, name


def test_the_local_page_servers_csp_names_the_local_gateway_and_idp(page_server):
    url = page_server({"region": REGION, "apiUrl": "http://127.0.0.1:8001", "cognitoEndpoint": "http://127.0.0.1:8002/"})
    with urllib.request.urlopen(url, timeout=10) as response:
        csp = response.headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:8001 http://127.0.0.1:8002;" in csp


def test_the_emulator_serves_the_files_a_release_publishes():
    """ecsapi_local/page is package data; in a checkout it is web/ itself, so the two cannot drift."""
    for name in PAGE_FILES:
        assert (PAGE / name).read_bytes() == (WEB / name).read_bytes()
    assert PAGE.resolve() == WEB.resolve()


def test_the_page_server_loads_no_template_machinery():
    """It shares generator.model.page with the template, a standard-library module: no troposphere."""
    probe = ("import sys, ecsapi_local.site\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('troposphere', 'awacs', 'boto3')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
