"""The README and the docs pages show what the code does: their Python examples run, the README's
TOML and Python stacks are the same stack, the error sample is what the CLI prints, the install
commands name the distribution setup.cfg builds, and the README stays a first screen."""

from __future__ import annotations

import configparser
import contextlib
import io
import json
import re

import pytest

from generator.model.config_file import load_config
from generator.tooling.cli import main
from tests.support.processes import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PAGES = {"README.md": README} | {
    page.relative_to(REPO).as_posix(): page.read_text(encoding="utf-8") for page in sorted((REPO / "docs").glob("*.md"))
}
PYTHON_EXAMPLES = [(name, example) for name, text in PAGES.items()
                   for example in re.findall(r"```python\n(.*?)```", text, re.S)]


def run_example(name: str, example: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, name, "exec"), {})
    return out.getvalue()


@pytest.mark.parametrize(("name", "example"), PYTHON_EXAMPLES, ids=[name for name, _ in PYTHON_EXAMPLES])
def test_every_python_example_runs(name, example):
    run_example(name, example)


def test_the_readme_builds_one_stack_in_toml_and_in_python(tmp_path):
    (toml,) = re.findall(r"```toml\n(.*?)```", README, re.S)
    (python,) = re.findall(r"```python\n(.*?)```", README, re.S)
    from_python = json.loads(run_example("README.md", python))
    (tmp_path / "shop.toml").write_text(toml)
    assert load_config(tmp_path / "shop.toml") == load_config_from_python(python)
    assert {"OrdersService", "FoodstoreService"} <= set(from_python["Resources"])
    assert "NatGateway2" not in from_python["Resources"]  # nat_mode single


def load_config_from_python(example: str):
    namespace: dict = {}
    exec(compile(example.split("print(")[0], "README.md", "exec"), namespace)
    return namespace["config"]


@pytest.mark.parametrize("name", ["README.md", "docs/configuration.md"])
def test_the_error_sample_is_what_the_cli_prints(name, tmp_path, capsys, monkeypatch):
    sample = re.search(r"\$ ecsapi --config stack.toml\n(ecsapi: .*)\n", PAGES[name]).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stack.toml").write_text('[[services]]\nname = "food"\npath = "/food/{id}"\ncpu = 256\nmemory = 4096\n')
    assert main(["--config", "stack.toml"]) == 2
    assert capsys.readouterr().err.strip() == sample


def test_the_install_page_names_the_distribution_setup_cfg_builds():
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    name = setup["metadata"]["name"]
    assert name != "ecsapi"  # someone else's project on PyPI
    install = PAGES["docs/install.md"]
    assert f"'{name} @ git+" in install and f"'{name}[local] @ git+" in install
    assert "pip install .  " in install and "pip install '.[local]'" in install and "pip install '.[aws]'" in install
    assert {"local", "aws"} <= set(setup["options.extras_require"])  # the extras the page installs exist


def test_the_readme_is_a_first_screen_whose_links_resolve():
    assert len(README.splitlines()) <= 200
    assert "make template" in README and "make test" in README and "<!-- launch-stack:start -->" in README
    targets = re.findall(r"\]\(((?!https?:)[^)#]+)(?:#[^)]*)?\)", README)
    assert targets and [t for t in targets if not (REPO / t).exists()] == []


def test_every_public_name_is_documented_on_the_library_page():
    import generator

    library = PAGES["docs/library.md"]
    documented = set(re.findall(r"^\| `(\w+)", library, re.M))
    assert documented == set(generator.__all__) == set(generator._PUBLIC)
