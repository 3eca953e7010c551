"""The README's `ecsapi diff` sample is what ecsapi prints today (scripts/readme_diff_sample.py
writes it)."""

from __future__ import annotations

import importlib.util

from tests.support.processes import REPO


def test_the_readme_diff_sample_is_generated_and_current():
    spec = importlib.util.spec_from_file_location("readme_diff_sample", REPO / "scripts" / "readme_diff_sample.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert script.sample() in readme, (
        "the README's diff sample is stale: run .venv/bin/python scripts/readme_diff_sample.py --write")
