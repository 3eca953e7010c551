"""``ecsapi init``: write a starter stack file for a container API of your own, so nobody starts
from a blank page.

    ecsapi init orders.toml --name orders --image repo/orders:1.0 \\
        --route "GET /orders" --route "POST /orders jwt orders/write" --local-command "python3 -m orders"
    ecsapi init catalog.toml --name catalog --image repo/catalog:2.0 --openapi catalog.openapi.json

The file renders as it is (``ecsapi template --config FILE``): the options are checked by the
same model that reads the file (a bad route, name or image is refused with exit 2, naming the
option, and nothing is written), and an existing file is never overwritten.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from generator.model.config import ServiceSpec, StackConfig
from generator.model.errors import ConfigError
from generator.model.routes import DEFAULT_ROUTE, AuthMode, RouteSpec

EXIT_USAGE = 2


class InitError(Exception):
    """What stops ``ecsapi init``; the message names the option and the fix."""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="ecsapi init", description="Write a starter stack file for your own container API (never overwrites).")
    root.add_argument("file", type=Path, help="the stack file to write, e.g. stack.toml")
    root.add_argument("--name", required=True, help="the service's name: 1-20 lower-case letters and digits")
    root.add_argument("--image", required=True, help="the service's image, repo/name:tag or repo/name@sha256:...")
    root.add_argument("--port", type=int, default=8080, help="the port the container listens on (default 8080)")
    root.add_argument("--route", action="append", default=[], metavar='"METHOD /path [jwt [SCOPE ...]]"',
                      help='a route, repeatable: "GET /orders", "POST /orders jwt orders/write", "$default"')
    root.add_argument("--openapi", type=Path, metavar="FILE",
                      help="take the routes from this OpenAPI 3 document (JSON or YAML) instead of --route")
    root.add_argument("--local-command", metavar='"PROGRAM ARGS"',
                      help="how make local runs the service on your machine (split as a shell would)")
    return root


def parse_route(text: str) -> RouteSpec:
    """``"POST /orders jwt orders/write"`` -> RouteSpec (a ConfigError names what is wrong)."""
    words = text.split()
    if words[:1] == [DEFAULT_ROUTE]:
        key, rest = DEFAULT_ROUTE, words[1:]
    else:
        key, rest = " ".join(words[:2]), words[2:]
    auth = rest[0] if rest else AuthMode.NONE.value
    return RouteSpec(route=key, auth=auth, scopes=tuple(rest[1:]))


def build(args: argparse.Namespace) -> tuple[StackConfig, str]:
    """The configuration the file holds, checked by the model, and the file's text."""
    if bool(args.route) == bool(args.openapi):
        raise InitError("give the routes: one or more --route, or --openapi FILE (not both)")
    try:
        routes = tuple(parse_route(text) for text in args.route)
    except ConfigError as error:
        raise InitError(f"--route: {error}") from None
    local = {"command": tuple(shlex.split(args.local_command))} if args.local_command else None
    openapi = None
    if args.openapi:
        openapi = os.path.relpath(args.openapi.resolve(), args.file.resolve().parent)
    try:
        service = ServiceSpec(name=args.name, image=args.image, port=args.port, routes=routes,
                              openapi=str(args.openapi.resolve()) if args.openapi else None, health_check="none",
                              local=local)
        config = StackConfig(services=(service,))
    except ConfigError as error:
        raise InitError(f"{error}") from None
    return config, text_of(service, routes, openapi)


def _toml(value) -> str:
    """A TOML value: JSON's strings and arrays are TOML's too."""
    return json.dumps(value, ensure_ascii=False)


def text_of(service: ServiceSpec, routes: tuple[RouteSpec, ...], openapi: str | None) -> str:
    lines = [
        "# A stack of your own container API, written by `ecsapi init`. Render it with",
        "#   ecsapi template --config <this file>",
        "# and try it on your machine with `make local CONFIG=<this file>`. Every setting the model takes",
        "# is shown in stacks/default.toml; the docs (\"Try your own API locally\") walk through them.",
        "",
        "# [auth]                          # default: the stack's own Cognito user pool",
        "# machine_client = true           # an app client for the client-credentials grant (needs scopes)",
        "",
        "[[services]]",
        f"name = {_toml(service.name)}",
        f"image = {_toml(service.image)}",
        f"port = {service.port}",
        "min_tasks = 1",
        "max_tasks = 4",
    ]
    if openapi is not None:
        lines.append(f"openapi = {_toml(openapi)}          # the routes: its paths and operations")
    else:
        lines.append("routes = [")
        for route in routes:
            fields = [f"route = {_toml(route.route)}"]
            if route.auth is AuthMode.JWT:
                fields.append('auth = "jwt"')
            if route.scopes:
                fields.append(f"scopes = {_toml(list(route.scopes))}")
            lines.append("  { " + ", ".join(fields) + " },")
        lines.append("]")
    lines += [
        "# How ECS checks a task before it takes traffic; the program must be in the image, e.g.",
        f'# health_check = {{ command = ["CMD-SHELL", "curl -f http://127.0.0.1:{service.port}/health || exit 1"] }}',
        'health_check = "none"             # a task takes traffic as soon as it runs',
        "# secrets = { DB_PASSWORD = \"arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf\" }",
        "",
        "# [[services.tables]]             # a DynamoDB table; the container reads its name from <NAME>_TABLE",
        f"# name = {_toml(service.name)}",
        "# partition_key = \"id\"",
        "",
    ]
    if service.local is not None:
        lines += ["[services.local]                 # how make local runs it: from this file's folder, on $PORT",
                  f"command = {_toml(list(service.local.command))}"]
    else:
        lines += ["# [services.local]               # how make local runs it: from this file's folder, on $PORT",
                  '# command = ["python3", "-m", "myservice"]']
    lines += ["# environment = { LOG_LEVEL = \"debug\" }   # locally only",
              "# secrets = { DB_PASSWORD = \"local-only\" }  # a plain local value for each secret", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from generator.tooling.render import write_atomically

    args = parser().parse_args(argv)
    try:
        if os.path.lexists(args.file):
            raise InitError(f"{args.file} exists; ecsapi init never overwrites a file: give another name")
        _, text = build(args)
        write_atomically({args.file: text})
    except InitError as error:
        print(f"ecsapi: init: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"ecsapi: init: cannot write {args.file}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {args.file}; render it with: ecsapi template --config {args.file}")
    return 0
