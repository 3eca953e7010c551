"""ecsapi works installed from its wheel, not only from a checkout: a fresh virtualenv outside the
repository renders the default stack byte-identical to the committed golden file."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from generator.tooling.release import ReleaseSettings

REPO = Path(__file__).resolve().parents[1]
DISTRIBUTION = "ecsapi-stack"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtualenv with only the wheel (and its declared dependencies) installed; its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "--wheel-dir", str(root / "dist"), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )
    # Our distribution name (setup.cfg): `ecsapi` on PyPI is someone else's project.
    [wheel] = (root / "dist").glob(f"{DISTRIBUTION.replace('-', '_')}-*.whl")
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    return bin_dir


def test_the_installed_cli_renders_the_golden_template_from_outside_the_checkout(installed, tmp_path):
    release = ReleaseSettings()
    result = subprocess.run(
        [str(installed / "ecsapi"), "template", "--out", str(tmp_path / "out")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for name in (release.template_file(), f"ecsapi-v{release.version}.openapi.json"):
        assert (tmp_path / "out" / name).read_bytes() == (REPO / "templates" / name).read_bytes(), name


def test_the_installed_library_builds_the_template_and_imports_nothing_from_the_checkout(installed, tmp_path):
    script = (
        "import json, generator, itemstore.contract\n"
        "from generator import StackConfig, build_template\n"
        "from generator.tooling.render import template_json\n"
        "print(json.dumps([generator.__file__, itemstore.contract.__file__]))\n"
        "print(template_json(build_template(StackConfig())), end='')\n"
    )
    result = subprocess.run([str(installed / "python"), "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    paths, template = result.stdout.split("\n", 1)
    assert str(REPO) not in paths and "site-packages" in paths
    assert template == (REPO / "templates" / ReleaseSettings().template_file()).read_text()


def test_the_wheel_installs_under_our_name_with_the_ecsapi_command_and_the_generator_package(installed, tmp_path):
    script = (
        "import importlib.metadata as m, json\n"
        f"d = m.distribution({DISTRIBUTION!r})\n"
        "print(json.dumps([d.metadata['Name'], [e.name + '=' + e.value for e in d.entry_points],"
        " sorted({f.parts[0] for f in d.files if f.suffix == '.py'})]))\n"
    )
    result = subprocess.run([str(installed / "python"), "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    name, entry_points, packages = json.loads(result.stdout)
    assert name == DISTRIBUTION
    assert entry_points == ["ecsapi=generator.tooling.entry:main"]
    assert {"generator", "ecsapi_local", "itemstore"} <= set(packages)

