"""The command line: ``python -m generator`` or ``ecsapi``. The only place that prints or writes."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from .config import StackConfig
from .errors import ConfigError
from .release import ReleaseSettings
from .render import LAUNCH_STACK_FILE, launch_stack_markdown, template_json, write_atomically
from .stack import build_template


def render_files(out: Path, config: StackConfig, release: ReleaseSettings) -> dict[Path, str]:
    """Every file ``template`` writes, rendered in memory (nothing is written if this fails)."""
    return {
        out / release.template_file: template_json(build_template(config, release)),
        out / LAUNCH_STACK_FILE: launch_stack_markdown(release),
    }


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
                    f"{path} (committed)", f"{path} (fresh render)",
                )
            )
    if stale:
        print(f"{stale} file(s) differ from a fresh render; run `make template` and commit them.", file=sys.stderr)
    return 1 if stale else 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="ecsapi",
        description="Generate the ecsapi CloudFormation template and its Launch Stack page.",
    )
    root.add_argument("command", nargs="?", default="template", choices=["template"],
                      help="what to generate (default: template)")
    root.add_argument("--out", type=Path, default=Path("templates"), help="output folder (default: templates)")
    root.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 with a diff if the files in --out differ from a fresh render")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        release = ReleaseSettings.from_setup_cfg()
        config = StackConfig()
        files = render_files(args.out, config, release)
    except ConfigError as error:
        print(f"ecsapi: configuration error: {error}", file=sys.stderr)
        return 2
    if args.check:
        return check(files)
    write_atomically(files)
    for path in files:
        print(f"wrote {path}")
    return 0
