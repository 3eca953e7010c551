"""The CLI: writes both files, checks for drift, and reports bad configuration without a traceback."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from generator.tooling.cli import main
from generator.version import VERSION
from tests.support.processes import REPO


def run_cli(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_template_writes_the_versioned_template_and_openapi_but_no_launch_page(tmp_path, release):
    # Launch buttons would point at a release this render did not publish: only `make publish` writes them.
    assert main(["template", "--config", str(REPO / "stacks" / "three-services.toml"), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [release.template_file(), f"ecsapi-v{release.version}.openapi.json"]
    )


def test_check_passes_on_a_fresh_render_and_fails_with_a_diff_after_an_edit(tmp_path, release, capsys):
    main(["--out", str(tmp_path)])
    assert main(["--check", "--out", str(tmp_path)]) == 0
    path = tmp_path / release.template_file()
    path.write_text(path.read_text().replace('"RetentionInDays": 30', '"RetentionInDays": 7', 1))
    assert main(["--check", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert '-        "RetentionInDays": 7' in out and '+        "RetentionInDays": 30' in out


@pytest.mark.integration
def test_committed_templates_are_current():
    result = run_cli("--check", "--out", "templates")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration
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


def test_openapi_command_writes_only_the_openapi_document(tmp_path, release):
    assert main(["openapi", "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [f"ecsapi-v{release.version}.openapi.json"]


@pytest.mark.integration
def test_help_names_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("template", "openapi", "describe", "--config"):
        assert command in result.stdout


# --- the command and its options -------------------------------------------------------------


@pytest.mark.integration
def test_an_unknown_command_is_named_and_the_commands_are_listed():
    result = run_cli("destroy")
    assert result.returncode == 2
    first_line = result.stderr.splitlines()[0]
    assert first_line.startswith("ecsapi: 'destroy' is not a command")
    listed = first_line.split("the commands are ", 1)[1].split(" (default: template)")[0].split(", ")
    assert listed == ["template", "openapi", "describe", "preflight", "diff", "deploy", "init"]


def test_options_before_the_command_give_the_same_output_as_after_it(tmp_path, capsys):
    config = str(REPO / "stacks" / "small.toml")
    assert main(["--config", config, "describe"]) == 0
    before = capsys.readouterr()
    assert main(["describe", "--config", config]) == 0
    assert capsys.readouterr() == before
    assert before.out.count("\n") > 5 and before.err == ""

    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["--config", config, "--format", "yaml", "--out", str(first), "template"]) == 0
    assert main(["template", "--out", str(second), "--format", "yaml", "--config", config]) == 0
    written = capsys.readouterr().out
    assert written.count("wrote ") == 4
    assert {p.name: p.read_bytes() for p in first.iterdir()} == {p.name: p.read_bytes() for p in second.iterdir()}


def test_an_option_the_command_does_not_take_is_refused_in_one_line(capsys):
    assert main(["describe", "--out", "build"]) == 2
    assert capsys.readouterr().err == "ecsapi: describe does not take --out; template and openapi do\n"
    assert main(["--format", "yaml", "openapi"]) == 2
    assert capsys.readouterr().err == "ecsapi: openapi does not take --format; template does\n"


# --- output folders a user gets wrong -----------------------------------------------------------


def out_error(capsys, *args: str) -> str:
    """Run the CLI in-process, expect exit 2 and one line on stderr; return that line."""
    assert main(list(args)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ecsapi: "), captured.err
    return lines[0]


def test_out_naming_a_file_says_it_is_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("mine\n")
    out = tmp_path / "file"
    assert out_error(capsys, "--out", str(out)) == (
        f"ecsapi: cannot write to --out {out}: {out} is a file, not a folder; give --out a folder you can write to"
    )
    assert out.read_text() == "mine\n"


def test_out_below_a_file_names_the_file_in_the_way(tmp_path, capsys):
    (tmp_path / "file").write_text("mine\n")
    out = tmp_path / "file" / "sub" / "dir"
    message = out_error(capsys, "--out", str(out))
    assert message == (
        f"ecsapi: cannot write to --out {out}: {tmp_path / 'file'} is a file, not a folder; "
        "give --out a folder you can write to"
    )


def test_out_naming_a_broken_symbolic_link_says_so(tmp_path, capsys):
    out = tmp_path / "link"
    out.symlink_to(tmp_path / "gone")  # mkdir fails with EEXIST: the name is taken
    assert out_error(capsys, "--out", str(out)) == (
        f"ecsapi: cannot write to --out {out}: {out} is a symbolic link to nothing ({tmp_path / 'gone'}), "
        "not a folder; give --out a folder you can write to"
    )


def test_out_with_a_name_too_long_for_the_file_system(tmp_path, capsys):
    out = tmp_path / ("x" * 300)
    assert "File name too long" in out_error(capsys, "--out", str(out))
    assert list(tmp_path.iterdir()) == []


def test_a_folder_where_an_output_file_goes_is_named_and_nothing_changes(tmp_path, release, capsys):
    (tmp_path / f"ecsapi-v{release.version}.openapi.json").mkdir()
    message = out_error(capsys, "--out", str(tmp_path))
    assert f"{tmp_path / f'ecsapi-v{release.version}.openapi.json'} is a folder, not a file" in message
    assert [p.name for p in tmp_path.iterdir()] == [f"ecsapi-v{release.version}.openapi.json"]


def test_check_against_a_file_says_it_cannot_read_the_folder(tmp_path, capsys):
    (tmp_path / "file").write_text("mine\n")
    out = tmp_path / "file"
    assert out_error(capsys, "--check", "--out", str(out)) == (
        f"ecsapi: cannot read --out {out}: {out} is a file, not a folder; "
        "give --out the folder that holds the files to check"
    )


def test_check_reports_a_file_that_is_not_utf8_as_stale(tmp_path, release, capsys):
    main(["--out", str(tmp_path)])
    capsys.readouterr()
    (tmp_path / f"ecsapi-v{release.version}.openapi.json").write_bytes(b"\xff\xfe not text\n")
    assert main(["--check", "--out", str(tmp_path)]) == 1
    assert '+  "openapi": ' in capsys.readouterr().out


# Run as an unprivileged user even when the tests run as root, whom permissions do not stop. The
# interpreter, the stdlib and the generator are loaded (one render) before privileges are dropped:
# the stdlib may live where the unprivileged user cannot read.
UNPRIVILEGED = """
import contextlib, io, os, sys, tempfile
from generator.tooling.cli import main
with (tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()),
      contextlib.redirect_stderr(io.StringIO())):
    main(["--out", scratch]) ; main(["--check", "--out", scratch])
if os.geteuid() == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534)  # nobody
sys.exit(main(sys.argv[1:]))
"""


def run_unprivileged(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", UNPRIVILEGED, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def read_only_folder():
    """A folder nobody but root may write into, below a folder everyone may enter."""
    base = Path(tempfile.mkdtemp(prefix="ecsapi-readonly-"))
    base.chmod(0o755)
    locked = base / "locked"
    locked.mkdir(mode=0o755)
    (locked / "old.txt").write_text("previous\n")
    locked.chmod(0o555)
    yield locked
    locked.chmod(0o755)
    shutil.rmtree(base)


@pytest.mark.integration
def test_out_in_a_folder_without_write_permission_is_one_line_and_exit_2(read_only_folder):
    for out in (read_only_folder, read_only_folder / "new"):
        result = run_unprivileged("--out", str(out))
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"ecsapi: cannot write to --out {out}: Permission denied (")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert [p.name for p in read_only_folder.iterdir()] == ["old.txt"]


@pytest.mark.integration
def test_check_of_an_unreadable_file_is_one_line_and_exit_2(read_only_folder, release):
    read_only_folder.chmod(0o755)
    unreadable = read_only_folder / f"ecsapi-v{release.version}.openapi.json"
    unreadable.write_text("{}\n")
    unreadable.chmod(0o600)
    result = run_unprivileged("openapi", "--check", "--out", str(read_only_folder))
    assert result.returncode == 2
    assert result.stderr == (
        f"ecsapi: cannot read --out {read_only_folder}: Permission denied ({unreadable}); "
        "give --out the folder that holds the files to check\n"
    )


@pytest.mark.integration
def test_a_full_standard_output_is_one_line_and_exit_2():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "generator", "describe"], cwd=REPO, stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == "ecsapi: cannot write to standard output: No space left on device\n"


@pytest.mark.integration
def test_a_reader_that_stops_early_ends_the_run_quietly():
    with subprocess.Popen([sys.executable, "-m", "generator", "describe"], cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        process.stdout.close()  # like `ecsapi describe | head -0`: nobody reads what follows
        stderr = process.stderr.read()
        assert process.wait(timeout=60) == 141
    assert stderr == ""


# --- the README and the docs ----------------------------------------------------------------------


def test_the_docs_run_the_module_with_the_project_venv():
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    assert ".venv/bin/python -m generator" in text
    assert re.findall(r".{0,40}(?<!\.venv/bin/)python -m generator", text) == []


@pytest.mark.integration
def test_a_template_too_large_to_send_inline_gets_one_warning_line_naming_the_s3_route(tmp_path):
    result = run_cli("template", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = tmp_path / f"ecsapi-v{VERSION}.json"
    size = len(written.read_bytes())
    assert size > 51_200
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"ecsapi: warning: {written} is {size:,} bytes, over the 51,200")
    assert "--s3-bucket" in result.stderr and "--template-url" in result.stderr
    assert "warning" not in result.stdout


def test_the_inline_limit_is_cloudformations_template_body_limit():
    from generator.model.limits import MAX_TEMPLATE_BYTES_INLINE, inline_size_warning

    assert MAX_TEMPLATE_BYTES_INLINE == 51_200
    assert inline_size_warning("t.json", 51_200) is None
    assert inline_size_warning("t.json", 51_201).startswith("t.json is 51,201 bytes")


@pytest.mark.integration
def test_check_and_the_other_commands_do_not_warn_about_size(tmp_path):
    assert run_cli("template", "--out", str(tmp_path)).returncode == 0
    for args in (("template", "--check", "--out", str(tmp_path)), ("openapi", "--out", str(tmp_path))):
        result = run_cli(*args)
        assert result.returncode == 0 and result.stderr == "", (args, result.stderr)
