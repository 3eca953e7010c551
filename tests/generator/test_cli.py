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
    assert release.url(release.template_file()).replace(":", "%3A").replace("/", "%2F") in page


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


def test_bad_config_prints_the_field_without_a_traceback_and_writes_nothing(tmp_path):
    config = tmp_path / "stack.toml"
    config.write_text('[[services]]\nname = "food"\npath = "/food/{id}"\ncpu = 256\nmemory = 4096\n')
    out = tmp_path / "out"
    result = run_cli("--config", str(config), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"configuration error in {config}: services[0].memory: 4096 is not valid; with cpu 256" in result.stderr
    assert not out.exists()


def test_a_failed_render_leaves_the_previous_files_untouched(tmp_path, release):
    main(["--out", str(tmp_path)])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    bad = tmp_path / "bad.toml"
    bad.write_text("az_count = 9\n")
    assert main(["--config", str(bad), "--out", str(tmp_path)]) == 2
    bad.unlink()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_yaml_format_writes_a_yaml_template_and_links_it(tmp_path, release):
    assert main(["template", "--format", "yaml", "--out", str(tmp_path)]) == 0
    text = (tmp_path / release.template_file("yaml")).read_text()
    assert text.startswith("AWSTemplateFormatVersion: '2010-09-09'") and "!Ref" in text
    assert release.template_file("yaml") in (tmp_path / "launch-stack.md").read_text()


def test_openapi_command_writes_only_the_openapi_document(tmp_path, release):
    assert main(["openapi", "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [f"ecsapi-v{release.version}.openapi.json"]


def test_help_names_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("template", "openapi", "describe", "--config"):
        assert command in result.stdout
