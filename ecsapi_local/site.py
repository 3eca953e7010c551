"""The test page on loopback: web/'s page files and a config.json, under the headers the stack's
CloudFront distribution sends (generator/template/site.py), with the CSP's connect-src naming the local
gateway and the local IdP instead of the regional AWS hosts.

    python -m ecsapi_local.site --web web --config build/local/config.json --bind 127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from generator.tooling.assets import WEB, WEB_FILES

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json"}
CONFIG_FILE = "config.json"


def _origin(url: str) -> str:
    match = re.match(r"^(https?://[^/?#\s]+)", url)
    if not match:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return match.group(1)


def content_security_policy(config: dict) -> str:
    """generator.template.site.CONTENT_SECURITY_POLICY with the local API and IdP origins in connect-src."""
    origins = " ".join(dict.fromkeys(_origin(config[key]) for key in ("apiUrl", "cognitoEndpoint")))
    return "; ".join((
        "default-src 'none'", "script-src 'self'", "style-src 'self'", f"connect-src 'self' {origins}",
        "img-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
    ))


def handler(files: dict[str, bytes], csp: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ecsapi-local-page"

        def do_GET(self) -> None:  # noqa: N802 (http.server's API)
            name = self.path.split("?", 1)[0].lstrip("/") or "index.html"
            headers = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
                       "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
            if name in files:
                return self._reply(200, files[name], {**headers, "Content-Type": CONTENT_TYPES[Path(name).suffix]})
            if name == "favicon.ico":
                return self._reply(204, b"", headers)
            return self._reply(404, b"not found\n", {**headers, "Content-Type": "text/plain"})

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, fmt: str, *args) -> None:
            sys.stdout.write(f"{self.address_string()} {fmt % args}\n")
            sys.stdout.flush()

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecsapi_local.site", description=__doc__.split("\n\n")[0])
    parser.add_argument("--web", type=Path, default=WEB, help="the page's folder (default: web/)")
    parser.add_argument("--config", type=Path, required=True, help="the config.json to serve")
    parser.add_argument("--bind", required=True, help="127.0.0.1:PORT")
    args = parser.parse_args(argv)
    host, _, port = args.bind.rpartition(":")
    config = args.config.read_bytes()
    files = {name: (args.web / name).read_bytes() for name in WEB_FILES}
    files[CONFIG_FILE] = config
    server = ThreadingHTTPServer((host, int(port)), handler(files, content_security_policy(json.loads(config))))
    server.daemon_threads = True
    print(f"serving {args.web} and {args.config.name} at http://{host}:{port}/", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    import signal

    # SIGTERM ends serve_forever through KeyboardInterrupt's path: a quiet exit, status 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main())
