"""The test page on loopback: its files and a config.json, under the security headers every host of
the page sends (generator/model/page.py: CloudFront's policy in AWS), with the CSP's connect-src
naming the local gateway and the local IdP instead of the regional AWS hosts.

    python -m ecsapi_local.site --config build/local/config.json --bind 127.0.0.1:8000

The page's files are package data (``ecsapi_local/page``, which in a checkout is web/ itself): the
files a release publishes are the files the emulator serves, from a checkout or an installed wheel.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from generator.model.page import (
    CONFIG_FILE,
    CONTENT_TYPES,
    INDEX_DOCUMENT,
    PAGE_FILES,
    connect_origins,
    security_headers,
)

PAGE = Path(__file__).resolve().parent / "page"


def page_headers(config: dict) -> dict[str, str]:
    """The security headers for a page whose config.json is ``config`` (its API and IdP origins in
    connect-src), plus no caching: the page and config.json change with every restart."""
    return {**security_headers(connect_origins(config)), "Cache-Control": "no-store"}


def handler(files: dict[str, bytes], headers: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ecsapi-local-page"

        def do_GET(self) -> None:  # noqa: N802 (http.server's API)
            name = self.path.split("?", 1)[0].lstrip("/") or INDEX_DOCUMENT
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
    parser.add_argument("--web", type=Path, default=PAGE,
                        help="the page's folder (default: the package's ecsapi_local/page, web/ in a checkout)")
    parser.add_argument("--config", type=Path, required=True, help="the config.json to serve")
    parser.add_argument("--bind", required=True, help="127.0.0.1:PORT")
    args = parser.parse_args(argv)
    host, _, port = args.bind.rpartition(":")
    config = args.config.read_bytes()
    files = {name: (args.web / name).read_bytes() for name in PAGE_FILES}
    files[CONFIG_FILE] = config
    server = ThreadingHTTPServer((host, int(port)), handler(files, page_headers(json.loads(config))))
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
