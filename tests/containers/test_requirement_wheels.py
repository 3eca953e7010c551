"""Every wheel requirements.txt pins downloads, for every platform an image is built for, and
matches a hash pinned for it; every pinned hash belongs to one of those files.

The images install requirements.txt with `pip install --require-hashes --only-binary=:all:` on
x86_64 and, for cpu_architecture = "ARM64", on aarch64 (CodeBuild's ARM_CONTAINER): a missing or
wrong aarch64 hash would only show as a failed build in the deploying account. This downloads the
real files from the package index (pip's own client and configuration) and hashes them here.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REQUIREMENTS = Path(__file__).resolve().parents[2] / "containers" / "requirements.txt"
# The containers' Python (containers/*/Dockerfile: python:3.11.x-slim-bookworm, a glibc image);
# musllinux is pinned too, for a build on an Alpine-based image.
PYTHON_VERSION = "3.11"
PLATFORMS = ("manylinux2014_x86_64", "musllinux_1_2_x86_64", "manylinux2014_aarch64", "musllinux_1_2_aarch64")


def pinned() -> dict[str, set[str]]:
    """Normalized project name -> the sha256 hashes its line pins."""
    text = REQUIREMENTS.read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            name = re.sub(r"[-_.]+", "-", words[0].split("==")[0]).lower()
            pins[name] = {word.removeprefix("--hash=sha256:") for word in words[1:]}
    return pins


def wheel_project(path: Path) -> str:
    return re.sub(r"[-_.]+", "-", path.name.split("-")[0]).lower()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> dict[str, list[Path]]:
    """Platform -> the wheels pip downloads for requirements.txt there, hash-checked by pip too."""
    found = {}
    for platform in PLATFORMS:
        target = tmp_path_factory.mktemp(platform)
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--only-binary=:all:", "--require-hashes", "--platform", platform, "--python-version", PYTHON_VERSION,
             "--implementation", "cp", "--abi", f"cp{PYTHON_VERSION.replace('.', '')}",
             "--dest", str(target), "--requirement", str(REQUIREMENTS)],
            capture_output=True, text=True, timeout=600,
        )
        assert result.returncode == 0, f"{platform}: {result.stderr[-2000:]}"
        found[platform] = sorted(target.glob("*.whl"))
    return found


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_pinned_project_downloads_one_wheel_per_platform_matching_a_pinned_hash(downloads, platform):
    pins = pinned()
    wheels = downloads[platform]
    assert sorted(wheel_project(w) for w in wheels) == sorted(pins), platform
    for wheel in wheels:
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert digest in pins[wheel_project(wheel)], f"{platform}: {wheel.name} has sha256 {digest}, not pinned"


def test_aarch64_gets_its_own_compiled_wheels(downloads):
    # The hashes differ by architecture only where there is C code (MarkupSafe): make sure the
    # aarch64 files really are aarch64 builds, not the pure-Python ones counted twice.
    for platform in ("manylinux2014_aarch64", "musllinux_1_2_aarch64"):
        compiled = [w.name for w in downloads[platform] if not w.name.endswith("-none-any.whl")]
        assert compiled and all("aarch64" in name for name in compiled), compiled


def test_every_pinned_hash_belongs_to_a_file_of_some_platform(downloads):
    seen = {hashlib.sha256(w.read_bytes()).hexdigest() for wheels in downloads.values() for w in wheels}
    stale = {name: hashes - seen for name, hashes in pinned().items() if hashes - seen}
    assert not stale, f"hashes no platform's download has: {stale}"
