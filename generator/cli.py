"""The command line: ``python -m generator`` or ``ecsapi``. The only place that prints or writes."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from .config import StackConfig
from .config_file import load_config
from .errors import ConfigError
from .limits import fit_of
from .release import ReleaseSettings
from .render import FORMATS, openapi_file, render_files, render_openapi, render_template, usage_of, write_atomically

COMMANDS = ("template", "openapi", "describe")
EXAMPLES = """\
examples:
  ecsapi                                   write templates/ (template, launch-stack.md, OpenAPI)
  ecsapi --config stacks/small.toml --out build
  ecsapi template --format yaml --out build
  ecsapi template --check                  exit 1 with a diff if templates/ is stale
  ecsapi describe --config stacks/three-services.toml
  ecsapi openapi --out build
"""


def check(files: dict[Path, str]) -> int:
    """0 when every file on disk equals its fresh render; else print a unified diff and return 1."""
    stale = 0
    for path, text in files.items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            stale += 1
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(keepends=True), text.splitlines(keepends=True),
                    f"{path} (on disk)", f"{path} (fresh render)",
                )
            )
    if stale:
        print(f"ecsapi: {stale} file(s) differ from a fresh render; run `make template` and commit them",
              file=sys.stderr)
    return 1 if stale else 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="ecsapi",
        description="Generate the CloudFormation template of a container API on ECS Fargate behind an\n"
        "API Gateway HTTP API (Cloud Map, Cognito JWT, DynamoDB), its Launch Stack page and its\n"
        "OpenAPI document. With no command, runs `template`.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", type=Path, metavar="FILE",
                        help="stack configuration in TOML (default: the built-in default, stacks/default.toml)")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--out", type=Path, default=Path("templates"), metavar="DIR",
                        help="output folder (default: templates)")
    output.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and print a diff if the files in --out differ from a fresh render")
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    template = commands.add_parser("template", parents=[config, output],
                                   help="write the template, launch-stack.md and the OpenAPI document",
                                   description="Write ecsapi-v<version>.json (or .yaml), launch-stack.md and "
                                   "ecsapi-v<version>.openapi.json into --out.")
    template.add_argument("--format", choices=FORMATS, default="json", help="template format (default: json)")
    commands.add_parser("openapi", parents=[config, output], help="write only the OpenAPI document")
    commands.add_parser("describe", parents=[config],
                        help="print what the configuration creates: services, routes, resources, quotas, idle cost")
    return root


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "template")
    args = parser().parse_args(argv)
    try:
        release = ReleaseSettings.resolve()
        config = load_config(args.config) if args.config else StackConfig()
        if args.command == "describe":
            return _describe(config, release)
        if args.command == "openapi":
            files = {openapi_file(args.out, release): render_openapi(config, release)}
        else:
            files = render_files(args.out, config, release, args.format)
    except ConfigError as error:
        source = f" in {args.config}" if args.config else ""
        print(f"ecsapi: configuration error{source}: {error}", file=sys.stderr)
        return 2
    if args.check:
        return check(files)
    write_atomically(files)
    for path in files:
        print(f"wrote {path}")
    return 0


def _describe(config: StackConfig, release: ReleaseSettings) -> int:
    from .describe import describe

    _, template, usage = render_template(config, release)
    fit = fit_of(config, lambda other: usage_of(other, release))
    sys.stdout.write(describe(config, release, template, usage, fit))
    return 0
