"""dynalite, the emulator's DynamoDB: which one runs, and its install on first use.

``--dynalite PATH`` (or ``ECSAPI_LOCAL_DYNALITE``) names one; ``make local`` passes the checkout's
``node_modules/.bin/dynalite``. Otherwise the emulator runs its own copy in the cache folder
(``$XDG_CACHE_HOME/ecsapi``, by default ``~/.cache/ecsapi``), installed on first use with ``npm ci``
from the ``package.json`` and ``package-lock.json`` this package ships: the checkout's own files
(``ecsapi_local/npm`` links to them), so an install pins exactly what ``make`` installs, without the
development tools (``--omit=dev``). The folder's name carries the lock file's digest: new pins, a
new install beside the old one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

NPM_FILES = Path(__file__).resolve().parent / "npm"
NPM_INSTALL_SECONDS = 600


class Unavailable(Exception):
    """dynalite cannot run here; the message says what to install or run."""


def pinned_version(npm_files: Path = NPM_FILES) -> str:
    """The dynalite version package.json pins."""
    return json.loads((npm_files / "package.json").read_text())["dependencies"]["dynalite"]


def cache_folder(environ: Mapping[str, str] = os.environ, npm_files: Path = NPM_FILES) -> Path:
    """Where this package's pins of dynalite are (or go) installed."""
    root = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ecsapi"
    digest = hashlib.sha256((npm_files / "package-lock.json").read_bytes()).hexdigest()[:16]
    return root / f"dynalite-{pinned_version(npm_files)}-{digest}"


def executable(folder: Path) -> Path:
    return folder / "node_modules" / ".bin" / "dynalite"


def install_command() -> list[str]:
    return ["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"]


def find(explicit: Path | None, say: Callable[[str], None], environ: Mapping[str, str] = os.environ,
         npm_files: Path = NPM_FILES) -> Path:
    """The dynalite to run: ``explicit``, else the cached install, installed now if missing."""
    if shutil.which("node", path=environ.get("PATH")) is None:
        raise Unavailable("node is missing (dynalite, the local DynamoDB, runs on Node.js): install Node.js and "
                          "npm, e.g. `apt-get install nodejs npm`, then run `make local` again")
    if explicit is not None:
        if not explicit.exists():
            raise Unavailable(f"dynalite is missing ({explicit}): in a checkout, run `make local`, which installs it "
                              "with `npm ci`; or leave out --dynalite to have it installed into the cache folder")
        return explicit
    folder = cache_folder(environ, npm_files)
    if executable(folder).exists():
        return executable(folder)
    return install(folder, say, environ, npm_files)


def install(folder: Path, say: Callable[[str], None], environ: Mapping[str, str] = os.environ,
            npm_files: Path = NPM_FILES) -> Path:
    """``npm ci`` the shipped pins into a fresh folder beside ``folder``, then move it into place
    (a half-done install never looks done; two emulators starting at once both end with one)."""
    command = install_command()
    if shutil.which("npm", path=environ.get("PATH")) is None:
        raise Unavailable(f"npm is missing: dynalite {pinned_version(npm_files)} (the local DynamoDB) is installed "
                          f"on first use with `{' '.join(command)}`; install npm, e.g. `apt-get install npm`, or "
                          "pass --dynalite PATH to a dynalite you installed (`npm install dynalite`)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    say(f"installing dynalite {pinned_version(npm_files)} into {folder} (first use only): {' '.join(command)}")
    staging = Path(tempfile.mkdtemp(prefix=".dynalite-", dir=folder.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(npm_files / name, staging / name)
        try:
            result = subprocess.run(command, cwd=staging, env=dict(environ), capture_output=True, text=True,
                                    timeout=NPM_INSTALL_SECONDS)
        except subprocess.TimeoutExpired:
            raise Unavailable(f"`{' '.join(command)}` did not finish within {NPM_INSTALL_SECONDS} s "
                              f"(in {staging}); check the network to the npm registry") from None
        if result.returncode != 0 or not executable(staging).exists():
            output = (result.stderr or result.stdout).strip()[-2000:]
            raise Unavailable(f"`{' '.join(command)}` failed (status {result.returncode}) installing dynalite into "
                              f"{folder}: {output}")
        try:
            staging.rename(folder)
        except OSError:
            if not executable(folder).exists():  # not another emulator's finished install: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return executable(folder)
