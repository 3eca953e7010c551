"""ecsapi works installed from its wheel, not only from a checkout: a fresh virtualenv outside the
repository renders the default stack byte-identical to the committed golden file, and with the
``local`` extra runs the emulator's default stack (dynalite installed on first use, the page served
from the package's own copy of web/)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

import pytest

from generator.model.page import PAGE_FILES
from generator.tooling.release import ReleaseSettings

REPO = Path(__file__).resolve().parents[1]
DISTRIBUTION = "ecsapi-stack"
pytestmark = [pytest.mark.integration, pytest.mark.long]  # long: a wheel built, a fresh virtualenv installed (then its extra), the emulator run
READY_LINE = "Ctrl-C stops everything."
START_SECONDS = 300  # a first run installs dynalite with npm, and moto's import is slow on a busy machine


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The checkout built into a wheel, as a release builds it."""
    root = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "--wheel-dir", str(root), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )
    # Our distribution name (setup.cfg): `ecsapi` on PyPI is someone else's project.
    [built] = root.glob(f"{DISTRIBUTION.replace('-', '_')}-*.whl")
    return built


def install(bin_dir: Path, requirement: str) -> None:
    """``requirement`` (and its dependencies) installed into the virtualenv of ``bin_dir``.

    By uv, the installer the Makefile fills the development virtualenvs with (the wheel itself is
    built by pip, as a release builds it): installing a wheel is unpacking it as the wheel format
    says (PEP 427), from the same metadata whichever installer reads it, and measured here uv took
    1 s of CPU for the two installs against pip's 12. The virtualenv needs no installer of its own,
    and nothing is compiled: the tests import a few hundred of the thousands of modules installed.
    """
    subprocess.run(
        [str(Path(sys.executable).with_name("uv")), "pip", "install", "--quiet", "--python", str(bin_dir / "python"),
         requirement],
        check=True, capture_output=True, timeout=900,
    )


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv outside the repository with only the wheel (and its declared dependencies)
    installed; its bin folder."""
    root = tmp_path_factory.mktemp("wheel") / "venv"
    venv.create(root, with_pip=False)
    install(root / "bin", str(wheel))
    return root / "bin"


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


@pytest.fixture(scope="module")
def installed_local(wheel, installed) -> Path:
    """The same virtualenv with the wheel's ``local`` extra added; its bin folder.

    Added to ``installed`` rather than a second fresh virtualenv (the base dependencies would be
    installed twice): the tests of the plain install come first in this file, so they run before
    the extra is added.
    """
    install(installed, f"{wheel}[local]")
    return installed


def signed_in_token(config: dict) -> str:
    """A new user of the page's pool, signed up, confirmed and signed in: its access token."""
    from tests.support.moto import PASSWORD
    from tests.support.processes import boto_client

    idp = boto_client("cognito-idp", config["cognitoEndpoint"].rstrip("/"), read_timeout=10, connect_timeout=2)
    idp.sign_up(ClientId=config["clientId"], Username="wheel@example.com", Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "wheel@example.com"}])
    idp.admin_confirm_sign_up(UserPoolId=config["userPoolId"], Username="wheel@example.com")
    return idp.initiate_auth(ClientId=config["clientId"], AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "wheel@example.com", "PASSWORD": PASSWORD},
                             )["AuthenticationResult"]["AccessToken"]


def authorized(url: str, token: str, method: str = "GET", body: dict | None = None):
    """The API's answer to ``method`` on ``url`` with ``token`` as the bearer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=15)


def test_the_installed_emulator_runs_the_default_stack_from_outside_the_checkout(installed_local, tmp_path):
    from tests.support.processes import free_port, free_run

    ports = {"page": free_port(), "api": free_port(), "cognito": free_port(), "dynamodb": free_port(),
             "containers": free_run(2)}
    # Nothing of the checkout: no PYTHONPATH, no ECSAPI_LOCAL_* settings, a cache folder of its own
    # (so dynalite is installed on first use), and the run's folder outside the repository.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "CONFIG", "VIRTUAL_ENV") and not k.startswith("ECSAPI_LOCAL_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    argv = [str(installed_local / "python"), "-m", "ecsapi_local", "--work", str(tmp_path / "work"),
            *(f"--{name}-port={port}" for name, port in ports.items())]
    process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(raw.decode(errors="replace").rstrip("\n")
                                                          for raw in process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not any(line.endswith(READY_LINE) for line in lines):
            assert process.poll() is None, "\n".join(lines)
            assert time.monotonic() < deadline, "not ready:\n" + "\n".join(lines)
            time.sleep(0.2)
        output = "\n".join(lines)
        assert "installing dynalite" in output and str(tmp_path / "cache") in output
        assert str(REPO) not in output

        # The gateway answers a GET through to a task: the container's own 404 for an unknown item.
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"http://127.0.0.1:{ports['api']}/foodstore/foods/nothing-here", timeout=15)
        assert answer.value.code == 404
        assert json.loads(answer.value.read())["error"]["code"] == "item_not_found"

        # The page: the package's files, which are web/'s, and the config.json naming the local API.
        page = f"http://127.0.0.1:{ports['page']}/"
        for name in PAGE_FILES:
            with urllib.request.urlopen(page + name, timeout=10) as response:
                assert response.read() == (REPO / "web" / name).read_bytes(), name
        with urllib.request.urlopen(page + "config.json", timeout=10) as response:
            config = json.loads(response.read())
        assert config["apiUrl"] == f"http://127.0.0.1:{ports['api']}"

        # Cognito as the installed extra serves it (moto's cognitoidp extra, not moto[server]): a
        # user signed up and signed in, whose access token stores an item and reads it back.
        access_token = signed_in_token(config)
        item = {"name": "pie"}
        stored = authorized(f"{config['apiUrl']}/foodstore/foods/wheel-1", access_token, "PUT", item)
        assert stored.status in (200, 201)
        assert json.loads(authorized(f"{config['apiUrl']}/foodstore/foods/wheel-1", access_token).read()) == {
            "foodId": "wheel-1", **item}
        # The page server read the installed package's copy of the page, not the checkout's.
        assert re.search(r"serving \S+/site-packages/ecsapi_local/page and config\.json", output), output
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        reader.join(5)
    assert process.returncode == 0, "\n".join(lines)
