"""The CLI: writes both files, checks for drift, and reports bad configuration without a traceback."""

from __future__ import annotations

import subprocess
import sys

from generator.cli import main

from .conftest import REPO


def run_cli(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_template_writes_the_versioned_template_and_launch_page(tmp_path, release):
    assert main(["template", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [release.template_file(), f"ecsapi-v{release.version}.openapi.json", "launch-stack.md"]
    )
    page = (tmp_path / "launch-stack.md").read_text()
    for region in release.regions:
        assert f"region={region}#/stacks/quickcreate?templateURL=" in page
    assert release.template_url(release.template_file()).replace(":", "%3A").replace("/", "%2F") in page


def test_check_passes_on_a_fresh_render_and_fails_with_a_diff_after_an_edit(tmp_path, release, capsys):
    main(["--out", str(tmp_path)])
    assert main(["--check", "--out", str(tmp_path)]) == 0
    path = tmp_path / release.template_file()
    path.write_text(path.read_text().replace('"RetentionInDays": 30', '"RetentionInDays": 7', 1))
    assert main(["--check", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert '-        "RetentionInDays": 7' in out and '+        "RetentionInDays": 30' in out


def test_committed_templates_are_current():
    result = run_cli("--check", "--out", "templates")
    assert result.returncode == 0, result.stdout + result.stderr
