"""Control a running ``make local`` from another terminal: a rolling deploy or a scale-in of a service.

    python -m ecsapi_local.control deploy foodstore     # make local-deploy SERVICE=foodstore
    python -m ecsapi_local.control deploy foodstore --container-port 8081   # a new revision, new port
    python -m ecsapi_local.control scale-in foodstore   # make local-scale-in SERVICE=foodstore
    python -m ecsapi_local.control tasks                # what runs

The local stack serves these on 127.0.0.1 only (``--control-port``, default 8004), one JSON
answer per request: ``POST /services/<name>/deploy``, ``POST /services/<name>/scale-in``,
``GET /tasks``. A deploy answers once every task is replaced; ``POST /services/<name>/deploy?port=8081``
deploys a new task definition revision whose container port is 8081.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ecsapi_local.tasks import LocalEcs, TaskError

DEFAULT_PORT = 8004
PORT_VARIABLE = "ECSAPI_LOCAL_CONTROL_PORT"


def serve(ecs: LocalEcs, port: int) -> ThreadingHTTPServer:
    """Start the control endpoint on 127.0.0.1:port in a daemon thread; returns the server (shutdown())."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path == "/tasks":
                self._answer(200, ecs.describe())
            else:
                self._answer(404, {"error": f"no {self.path}; GET /tasks"})

        def do_POST(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            parts = url.path.strip("/").split("/")
            if len(parts) != 3 or parts[0] != "services" or parts[2] not in ("deploy", "scale-in"):
                self._answer(404, {"error": f"no {self.path}; POST /services/<name>/deploy or /scale-in"})
                return
            try:
                if parts[2] == "deploy":
                    port = parse_qs(url.query).get("port", [None])[-1]
                    # Not a number: passed on as given, so the port check names the value.
                    replaced = ecs.rolling_replace(parts[1], int(port) if port and port.isdigit() else port)
                    self._answer(200, {"replaced": replaced})
                else:
                    self._answer(200, {"stopped": ecs.scale_in(parts[1])})
            except TaskError as error:
                self._answer(400, {"error": str(error)})
            except Exception as error:  # a task that did not start: say so, keep serving
                self._answer(500, {"error": f"{type(error).__name__}: {error}"})

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
            ecs.say("control: " + format % args)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="control", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecsapi_local.control",
                                     description="Deploy or scale in a service of a running `make local`.")
    parser.add_argument("--port", type=int, default=int(os.environ.get(PORT_VARIABLE) or DEFAULT_PORT),
                        help=f"the local stack's control port (default: ${PORT_VARIABLE}, else {DEFAULT_PORT})")
    parser.add_argument("action", choices=("deploy", "scale-in", "tasks"))
    parser.add_argument("service", nargs="?", help="the service's name, e.g. foodstore (deploy, scale-in)")
    parser.add_argument("--container-port", type=int, metavar="PORT",
                        help="deploy: a new task definition revision with this container port (default: the "
                             "same revision again)")
    args = parser.parse_args(argv)
    if args.action != "tasks" and not args.service:
        parser.error(f"{args.action} needs a service name, e.g. foodstore")
    if args.container_port is not None and args.action != "deploy":
        parser.error("--container-port goes with deploy only")
    url = f"http://127.0.0.1:{args.port}" + ("/tasks" if args.action == "tasks" else
                                             f"/services/{args.service}/{args.action}")
    if args.container_port is not None:
        url += f"?port={args.container_port}"
    request = urllib.request.Request(url, method="GET" if args.action == "tasks" else "POST")
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            print(json.dumps(json.loads(response.read()), indent=2))
            return 0
    except urllib.error.HTTPError as error:
        print(f"control: {json.loads(error.read()).get('error')}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"control: no local stack answers on 127.0.0.1:{args.port} ({error}); start it with `make local`",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
