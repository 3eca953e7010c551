"""write_atomically writes a whole set of files or none: a failure at any step leaves every previous
file byte-identical, no temporary or kept copy behind, and no folder it created."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from generator.tooling.render import write_atomically

NAMES = ("ecsapi-v1.0.0.json", "launch-stack.md", "ecsapi-v1.0.0.openapi.json")


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file (with its bytes) and folder under ``root``, hidden ones included."""
    return {
        str(path.relative_to(root)): "folder" if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


def new_set(out: Path) -> dict[Path, str]:
    return {out / name: f"new {name}\n" for name in NAMES}


@pytest.fixture
def previous(tmp_path) -> Path:
    """An output folder holding a previous render of every file in the set."""
    out = tmp_path / "out"
    out.mkdir()
    for name in NAMES:
        (out / name).write_text(f"previous {name}\n")
    return out


def failing_on_call(number: int, real, error=errno.ENOSPC):
    """``real``, except that call ``number`` (1-based) raises OSError(error)."""
    calls = 0

    def wrapper(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == number:
            raise OSError(error, "injected failure")
        return real(*args, **kwargs)

    return wrapper


# Every step of the set that can fail, at each file of the set: creating the temporary, writing it,
# setting its mode, keeping the previous version, renaming the temporary into place.
STAGES = [
    pytest.param(module, name, call, id=f"{name}-{call}")
    for module, name in ((os, "open"), (os, "chmod"), (os, "link"), (os, "replace"))
    for call in (1, 2, 3)
]


@pytest.mark.parametrize(("module", "name", "call"), STAGES)
def test_a_failure_at_any_stage_leaves_every_previous_file_untouched(previous, monkeypatch, module, name, call):
    before = snapshot(previous)
    monkeypatch.setattr(module, name, failing_on_call(call, getattr(module, name)))
    with pytest.raises(OSError, match="injected failure") as raised:
        write_atomically(new_set(previous))
    assert snapshot(previous) == before
    assert Path(raised.value.filename).parent == previous  # names the file, not a temporary
    assert not Path(raised.value.filename).name.startswith(".")


@pytest.mark.parametrize("broken", range(len(NAMES)))
def test_text_that_cannot_be_written_leaves_every_previous_file_untouched(previous, broken):
    before = snapshot(previous)
    files = new_set(previous)
    files[previous / NAMES[broken]] = "half \ud800 a lone surrogate has no UTF-8 encoding\n"
    with pytest.raises(UnicodeEncodeError):
        write_atomically(files)
    assert snapshot(previous) == before


def test_a_folder_in_place_of_the_last_file_restores_the_files_already_replaced(previous):
    (previous / NAMES[-1]).unlink()
    (previous / NAMES[-1]).mkdir()
    before = snapshot(previous)
    with pytest.raises(IsADirectoryError):
        write_atomically(new_set(previous))  # the first two renames succeed, the third cannot
    assert snapshot(previous) == before


@pytest.mark.parametrize("call", (1, 2, 3))
def test_a_failed_set_in_a_new_folder_removes_what_it_created(tmp_path, monkeypatch, call):
    monkeypatch.setattr(os, "replace", failing_on_call(call, os.replace))
    with pytest.raises(OSError, match="injected failure"):
        write_atomically(new_set(tmp_path / "new" / "out"))
    assert snapshot(tmp_path) == {}


def test_a_failure_creating_a_nested_folder_removes_the_folders_already_created(tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "mkdir", failing_on_call(2, Path.mkdir))
    with pytest.raises(OSError, match="injected failure"):
        write_atomically(new_set(tmp_path / "new" / "out"))
    assert snapshot(tmp_path) == {}


def test_a_successful_set_replaces_every_file_and_leaves_nothing_else(previous):
    write_atomically(new_set(previous))
    assert snapshot(previous) == {name: f"new {name}\n".encode() for name in NAMES}
    for name in NAMES:
        assert stat.S_IMODE((previous / name).stat().st_mode) == 0o644


def test_without_hard_links_a_copy_of_each_previous_file_is_kept_and_restored(previous, monkeypatch):
    before = snapshot(previous)
    monkeypatch.setattr(os, "link", failing_on_call(1, os.link, errno.EPERM))  # the first file: copied
    monkeypatch.setattr(os, "replace", failing_on_call(3, os.replace))
    with pytest.raises(OSError, match="injected failure"):
        write_atomically(new_set(previous))
    assert snapshot(previous) == before


def test_a_previous_file_that_cannot_be_put_back_is_kept_not_deleted(previous, monkeypatch):
    real_replace = os.replace
    calls = 0

    def replace_only_once(source, target):
        # The first file's rename succeeds; the second file's rename fails, and so does putting
        # the first file's previous version back.
        nonlocal calls
        calls += 1
        if calls > 1:
            raise OSError(errno.EIO, "injected failure")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_only_once)
    with pytest.raises(OSError, match="injected failure"):
        write_atomically(new_set(previous))
    kept = [path for path in previous.iterdir() if path.name.endswith(".previous")]
    assert [path.read_text() for path in kept] == [f"previous {NAMES[0]}\n"]
    assert (previous / NAMES[0]).read_text() == f"new {NAMES[0]}\n"
    assert [(previous / name).read_text() for name in NAMES[1:]] == [f"previous {name}\n" for name in NAMES[1:]]


def test_a_temporary_name_already_taken_is_skipped_and_left_alone(previous, monkeypatch):
    # Names come from os.urandom, as tempfile's do from random: the first one drawn here is taken
    # by a file and the second by a link to a file outside; both are passed over untouched.
    draws = iter([b"\x00" * 6, b"\x01" * 6, b"\x02" * 6, b"\x03" * 6, b"\x04" * 6, b"\x05" * 6])
    monkeypatch.setattr(os, "urandom", lambda size: next(draws))
    outside = previous.parent / "outside.txt"
    outside.write_text("outside\n")
    taken = previous / f".{NAMES[0]}.{'00' * 6}.tmp"
    taken.write_text("someone else's\n")
    (previous / f".{NAMES[0]}.{'01' * 6}.tmp").symlink_to(outside)
    files = new_set(previous)
    write_atomically(files)
    assert (taken.read_text(), outside.read_text()) == ("someone else's\n", "outside\n")
    assert {path.name: path.read_text() for path in files} == {path.name: text for path, text in files.items()}
