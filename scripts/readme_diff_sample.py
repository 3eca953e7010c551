"""The README's sample of `ecsapi diff` for an AZ-count change, generated, never hand-written.

Renders the default configuration to today.json and a configuration with ``az_count = 2`` in a
scratch folder, runs ``ecsapi diff today.json --config two-azs.toml`` there and prints the block;
with ``--write`` it replaces the block between the README's diff-sample markers.
tests/test_readme_diff_sample.py fails when the README's block is stale.

    .venv/bin/python scripts/readme_diff_sample.py --write
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- diff-sample:start -->", "<!-- diff-sample:end -->"
COMMAND = "ecsapi diff today.json --config two-azs.toml"


def sample() -> str:
    from generator.tooling.cli import main

    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                main(["template", "--out", "."])
            (rendered,) = [p for p in Path(".").glob("ecsapi-v*.json") if not p.name.endswith(".openapi.json")]
            rendered.rename("today.json")
            Path("two-azs.toml").write_text("az_count = 2\n")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                status = main(COMMAND.split()[1:])
        finally:
            os.chdir(here)
    return f"{START}\n```console\n$ {COMMAND}\n{out.getvalue()}$ echo $?\n{status}\n```\n{END}"


def main() -> int:
    block = sample()
    if "--write" not in sys.argv[1:]:
        print(block)
        return 0
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    readme.write_text(before + block + after, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
