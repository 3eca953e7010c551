"""The command line: ``python -m generator`` or ``ecsapi``. The only place that prints or writes.

Every mistake a user can make ends in one line on stderr that starts with ``ecsapi:`` and exit
status 2: an unknown command, an option the command does not take, bad configuration, or an
output folder that cannot be written (or read, for ``--check``). The one exception is a reader
that closes the pipe early (``ecsapi describe | head``): the output was not wanted, so the
process exits quietly with 141, the status a shell reports for a process ended by SIGPIPE.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

from generator.model.config import StackConfig
from generator.model.errors import ConfigError
from generator.model.limits import fit_of, inline_size_warning
from generator.tooling.release import ReleaseSettings, add_release_arguments, given_release_options, release_options
from generator.tooling.render import (
    FORMATS,
    openapi_file,
    render_files,
    render_openapi,
    render_template,
    usage_of,
    write_atomically,
)

COMMANDS = ("template", "openapi", "describe", "preflight")
# Commands with their own parser (positional files, AWS options): name -> "module:function".
OWN_PARSER = {"diff": "generator.tooling.diff_command:main", "deploy": "generator.tooling.deploy:main",
              "init": "generator.tooling.init_command:main"}
DEFAULT_COMMAND = "template"
DEFAULT_OUT = Path("templates")
# Where the release is published (--release-bucket ...) shows in what template, openapi and describe write.
RELEASE_OPTIONS = tuple(release_options())
# Which command takes which option; everything else is refused with a one-line error.
OPTIONS_OF = {
    "template": ("--config", "--out", "--check", "--format", *RELEASE_OPTIONS),
    "openapi": ("--config", "--out", "--check", *RELEASE_OPTIONS),
    "describe": ("--config", *RELEASE_OPTIONS),
    "preflight": ("--config", "--region"),
}
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a process ended by SIGPIPE
EXAMPLES = """\
commands:
  template    (the default) write ecsapi-v<version>.json (or .yaml) and
              ecsapi-v<version>.openapi.json into --out
  openapi     write only the OpenAPI document into --out
  describe    print what the configuration creates: services, routes, resources, quotas, idle cost
  preflight   check, with your AWS credentials and read-only calls, that the account has room in
              its quotas to launch the stack in --region; exit 0 room, 1 a quota is short,
              2 usage error, 3 something could not be checked
  diff        what an update replaces and loses: ecsapi diff OLD [NEW | --config F | --stack S]
  deploy      render, upload, show the change set, execute with live progress: ecsapi deploy --help
  init        write a starter stack file for your own container API: ecsapi init --help

Options may come before or after the command.

examples:
  ecsapi                                   write templates/ (template and OpenAPI document)
  ecsapi --config stacks/small.toml --out build
  ecsapi template --format yaml --out build
  ecsapi template --check                  exit 1 with a diff if templates/ is stale
  ecsapi describe --config stacks/three-services.toml
  ecsapi openapi --out build
  ecsapi preflight --region eu-west-1 --config stacks/small.toml
  ecsapi --release-bucket my-releases      a fork's release location (or a [release] table in --config)
  ecsapi init stack.toml --name orders --image repo/orders:1.0 --route "GET /orders"
"""


class UsageError(Exception):
    """A command line ecsapi cannot run; the message says what to type instead."""


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS if it is a positive number, else the width of
    the terminal standard output is, else 80.

    Written out because argparse's formatter asks for the width each time an argument is added
    (to check it), and asking through shutil imports shutil and, with it, zlib, bz2 and lzma:
    ~6 million instructions (1.2%) of a cold ``ecsapi template``, which prints no help (callgrind).
    tests/tooling/test_cli_imports.py compares the two."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (AttributeError, ValueError, OSError):  # no stdout, closed, detached, or not a terminal
        columns = 0
    return columns or 80


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's ``RawDescriptionHelpFormatter`` as wide as argparse makes it by default (the
    terminal's width less 2), measured by :func:`terminal_columns`."""

    def __init__(self, prog: str, **options) -> None:
        if options.get("width") is None:
            options["width"] = terminal_columns() - 2
        super().__init__(prog, **options)


def parser() -> argparse.ArgumentParser:
    """One flat parser: options and the command may come in any order."""
    root = argparse.ArgumentParser(
        prog="ecsapi",
        description="Generate the CloudFormation template of a container API on ECS Fargate behind an\n"
        "API Gateway HTTP API (Cloud Map, Cognito JWT, DynamoDB), its Launch Stack page and its\n"
        "OpenAPI document.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
        # Abbreviations (--conf) would become ambiguous as options are added; spell options out.
        allow_abbrev=False,
    )
    root.add_argument("command", nargs="?", metavar="COMMAND",
                      help=f"{', '.join(COMMANDS)} (default: {DEFAULT_COMMAND})")
    root.add_argument("--config", type=Path, metavar="FILE",
                      help="stack configuration in TOML (default: the built-in default, stacks/default.toml)")
    root.add_argument("--out", type=Path, metavar="DIR",
                      help=f"output folder, created if missing (default: {DEFAULT_OUT}); template and openapi")
    root.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 and print a diff if the files in --out differ from a fresh "
                      "render; template and openapi")
    root.add_argument("--format", choices=FORMATS,
                      help="template format (default: json); template only")
    root.add_argument("--region", metavar="REGION",
                      help="the AWS Region to check (default: your AWS configuration's); preflight only")
    add_release_arguments(root)
    return root


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The parsed command line with defaults filled in; raises UsageError for a command ecsapi
    does not have or an option the command does not take (argparse itself exits 2 on the rest)."""
    args = parser().parse_args(argv)
    if args.command is None:
        args.command = DEFAULT_COMMAND
    if args.command not in COMMANDS:
        raise UsageError(
            f"{args.command!r} is not a command; the commands are {', '.join((*COMMANDS, *OWN_PARSER))} "
            f"(default: {DEFAULT_COMMAND}); see ecsapi --help"
        )
    given = {"--config": args.config is not None, "--out": args.out is not None,
             "--check": args.check, "--format": args.format is not None, "--region": args.region is not None,
             **{option: getattr(args, f"release_{name}") is not None for option, name in release_options().items()}}
    for option, present in given.items():
        if present and option not in OPTIONS_OF[args.command]:
            takers = [command for command in COMMANDS if option in OPTIONS_OF[command]]
            raise UsageError(f"{args.command} does not take {option}; {' and '.join(takers)} "
                             f"{'do' if len(takers) > 1 else 'does'}")
    args.out = args.out or DEFAULT_OUT
    args.format = args.format or "json"
    return args


def stale_diffs(files: dict[Path, str]) -> list[list[str]]:
    """A unified diff for each file on disk that differs from its fresh render (missing = empty)."""
    import difflib  # only --check compares: the other runs skip its import (and heapq's)

    diffs = []
    for path, text in files.items():
        try:
            # Not UTF-8 (someone else's file)? Then it differs: show it, do not fail on it.
            current = path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            current = ""
        if current != text:
            diffs.append(list(difflib.unified_diff(
                current.splitlines(keepends=True), text.splitlines(keepends=True),
                f"{path} (on disk)", f"{path} (fresh render)",
            )))
    return diffs


def _own_parser_command(argv: list[str]) -> tuple[str, list[str]] | None:
    """("diff", the rest) when the command word, wherever it stands, is one of OWN_PARSER."""
    takes_value = {"--config", "--out", "--format"}
    skip = False
    for i, word in enumerate(argv):
        if skip or word.startswith("-"):
            skip = not skip and word in takes_value
            continue
        return (word, argv[:i] + argv[i + 1:]) if word in OWN_PARSER else None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    own = _own_parser_command(argv)
    if own is not None:
        import importlib

        module, function = OWN_PARSER[own[0]].split(":")
        return getattr(importlib.import_module(module), function)(own[1])
    try:
        args = parse_arguments(argv)
    except UsageError as error:
        print(f"ecsapi: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        release_file: dict[str, object] = {}
        if args.config:
            from generator.model.config_file import (
                load_config_file,  # here: tomllib costs ~3 ms of a cold start without --config
            )

            config, release_file = load_config_file(args.config)
        else:
            config = StackConfig()
        release = ReleaseSettings.resolve(release_file, given_release_options(args))
        if args.command == "describe":
            return _output(lambda: _describe(config, release))
        if args.command == "preflight":
            from generator.tooling.preflight import run_command

            return _output(lambda: run_command(config, args.region))
        if args.command == "openapi":
            files = {openapi_file(args.out, release): render_openapi(config, release)}
        else:
            files = render_files(args.out, config, release, args.format)
    except ConfigError as error:
        source = f" in {args.config}" if args.config else ""
        print(f"ecsapi: configuration error{source}: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.check:
            diffs = stale_diffs(files)
        else:
            write_atomically(files)
    except OSError as error:
        problem = "cannot read" if args.check else "cannot write to"
        fix = "the folder that holds the files to check" if args.check else "a folder you can write to"
        print(f"ecsapi: {problem} --out {args.out}: {_reason(error)}; give --out {fix}", file=sys.stderr)
        return EXIT_USAGE
    if args.check:
        return _output(lambda: _report_stale(diffs))
    status = _output(lambda: print("".join(f"wrote {path}\n" for path in files), end=""))
    if args.command == "template":
        template_path = args.out / release.template_file(args.format)
        warning = inline_size_warning(str(template_path), len(files[template_path].encode("utf-8")))
        if warning is not None:
            print(f"ecsapi: warning: {warning}", file=sys.stderr)
        if config.domain is not None and config.domain.validation_wait:
            print(f"ecsapi: note: {config.domain.validation_wait}", file=sys.stderr)
    return status


def _report_stale(diffs: list[list[str]]) -> int:
    """Print each diff; 1 if there is any (the files on disk are stale), else 0."""
    for diff in diffs:
        sys.stdout.writelines(diff)
    if diffs:
        print(f"ecsapi: {len(diffs)} file(s) differ from a fresh render; run `make template` and commit them",
              file=sys.stderr)
    return 1 if diffs else 0


def _output(action) -> int:
    """Run ``action`` (which prints) and flush, turning a failed standard output into an exit
    status: a full disk (``> /dev/full``) is one line and 2; a closed pipe is quiet (see above)."""
    try:
        status = action()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"ecsapi: cannot write to standard output: {_reason(error)}", file=sys.stderr)
        return EXIT_USAGE
    return status or 0


def _reason(error: OSError) -> str:
    """What went wrong, in the user's terms: the file that is in the way rather than ENOTDIR."""
    name = error.filename
    if error.errno in (errno.ENOTDIR, errno.EEXIST) and name is not None:
        blocker = _file_in_the_way(Path(name))
        if blocker is not None and blocker.is_symlink() and not blocker.exists():
            return f"{blocker} is a symbolic link to nothing ({os.readlink(blocker)}), not a folder"
        if blocker is not None:
            return f"{blocker} is a file, not a folder"
    if error.errno == errno.EISDIR and name is not None:
        return f"{name} is a folder, not a file"
    reason = error.strerror or str(error)
    return f"{reason} ({name})" if name is not None else reason


def _file_in_the_way(path: Path) -> Path | None:
    """The first of ``path`` and its parents that is there (perhaps as a broken symbolic link) and
    is not a folder, if any."""
    for candidate in (path, *path.parents):
        try:
            if not candidate.is_dir() and os.path.lexists(candidate):
                return candidate
        except OSError:
            continue
    return None


def _describe(config: StackConfig, release: ReleaseSettings) -> int:
    from generator.tooling.describe import describe

    _, template, usage = render_template(config, release)
    fit = fit_of(config, lambda other: usage_of(other, release))
    sys.stdout.write(describe(config, release, template, usage, fit))
    return 0
