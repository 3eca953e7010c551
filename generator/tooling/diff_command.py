"""``ecsapi diff``: what an update from one template to another replaces, and what that costs.

Exit status as AWS Copilot's ``--diff``: 0 no change, 1 changes, 2 an error (one line on stderr
that starts with ``ecsapi:``). An update that cannot be made in place (a changed VPC or subnet
CIDR) is refused: the report is printed, then the refusal on stderr, and the status is 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_SAME, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
EPILOG = """\
The old template comes from OLD or from a deployed stack (--stack); the new one from NEW or, when
NEW is not given, from rendering --config (default: the built-in default configuration).

examples:
  ecsapi diff templates/ecsapi-v2.0.0.json build/ecsapi-v2.1.0.json
  ecsapi diff templates/ecsapi-v2.0.0.json --config stacks/small.toml
  ecsapi diff --stack my-api --region eu-west-1 --config stacks/default.toml
  ecsapi diff --stack my-api --format json | jq '.warnings'

exit status: 0 no change, 1 changes, 2 error or an update that cannot be made in place
"""


class DiffError(Exception):
    """A diff that cannot be made; the message says why and what to do."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ecsapi diff", allow_abbrev=False, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare two CloudFormation templates: resources added, removed and changed, the "
        "properties that change, which resources are replaced (from the resource schemas' create-only "
        "properties) and what is lost or fails.",
    )
    p.add_argument("files", nargs="*", type=Path, metavar="OLD [NEW]", help="template files (JSON or YAML)")
    p.add_argument("--config", type=Path, metavar="FILE", help="render this configuration as the new template")
    p.add_argument("--stack", metavar="NAME", help="take the old template from this deployed stack")
    p.add_argument("--region", metavar="REGION", help="the stack's region (default: the configured one)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        (old, old_label), (new, new_label) = _templates(args)
        from generator.tooling import changes

        try:
            result = changes.compare(old, new)
        except ImportError:
            raise DiffError("ecsapi diff reads the resource schemas cfn-lint ships: pip install 'ecsapi[aws]'") from None
        render = changes.as_json if args.format == "json" else changes.text
        report = render(result, old_label, new_label)
    except DiffError as error:
        print(f"ecsapi: {error}", file=sys.stderr)
        return EXIT_ERROR
    from generator.tooling.cli import _output

    status = _output(lambda: sys.stdout.write(report) and None)
    if status:
        return status
    if result.refusals:
        print(f"ecsapi: refused: {result.refusals[0]}" + (f" (and {len(result.refusals) - 1} more, above)"
                                                          if len(result.refusals) > 1 else ""), file=sys.stderr)
        return EXIT_ERROR
    return EXIT_CHANGES if result.any else EXIT_SAME


def _templates(args) -> tuple[tuple[dict, str], tuple[dict, str]]:
    files = list(args.files)
    if args.stack:
        if len(files) > 1:
            raise DiffError("with --stack give at most one file (the new template); the stack is the old one")
        old = _stack_template(args.stack, args.region)
    else:
        if not files:
            raise DiffError("give the old template (OLD) or a deployed stack (--stack NAME); see ecsapi diff --help")
        if len(files) > 2:
            raise DiffError(f"give at most two templates, OLD and NEW (got {len(files)})")
        if args.region:
            raise DiffError("--region goes with --stack")
        path = files.pop(0)
        old = (_read(path), str(path))
    if files:
        if args.config:
            raise DiffError("give either NEW or --config, not both: --config renders the new template")
        path = files.pop(0)
        return old, (_read(path), str(path))
    return old, _rendered(args.config)


def _read(path: Path) -> dict:
    from generator.tooling.aws import parse_template

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        from generator.tooling.cli import _reason

        raise DiffError(f"cannot read {path}: {_reason(error) if isinstance(error, OSError) else error}") from None
    try:
        template = parse_template(text)
    except Exception as error:  # JSON and YAML parsers raise their own types
        raise DiffError(f"{path} is not a JSON or YAML template: {str(error).splitlines()[0]}") from None
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise DiffError(f"{path} is not a CloudFormation template: it has no Resources mapping")
    return template


def _rendered(config_path: Path | None) -> tuple[dict, str]:
    from generator.model.config import StackConfig
    from generator.model.errors import ConfigError
    from generator.tooling.release import ReleaseSettings
    from generator.tooling.render import render_template

    try:
        release_file: dict[str, object] = {}
        if config_path:
            from generator.model.config_file import load_config_file

            config, release_file = load_config_file(config_path)
        else:
            config = StackConfig()
        # The file's [release] table too: the same template `ecsapi template --config` writes.
        _, template, _ = render_template(config, ReleaseSettings.resolve(release_file))
    except ConfigError as error:
        source = f" in {config_path}" if config_path else ""
        raise DiffError(f"configuration error{source}: {error}") from None
    label = f"rendered {config_path}" if config_path else "rendered default configuration"
    return json.loads(json.dumps(template)), label


def _stack_template(name: str, region: str | None) -> tuple[dict, str]:
    from generator.tooling.aws import AwsProblem, credentials_problem, deployed_template, session, stack_of

    try:
        aws = session(region)
        cloudformation = aws.client("cloudformation")
        stack = stack_of(cloudformation, name)
        if stack is None:
            raise AwsProblem(f"there is no stack {name!r} in {aws.region_name}; check --stack and --region")
        template = deployed_template(cloudformation, name)
    except AwsProblem as error:
        raise DiffError(str(error)) from None
    except Exception as error:
        problem = credentials_problem(error)
        raise DiffError(str(problem) if problem else f"cannot read stack {name!r}: {error}") from None
    return template, f"stack {name} ({aws.region_name}, {stack['StackStatus']})"
