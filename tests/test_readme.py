"""The README's examples run and its error sample is what the CLI prints, so the docs cannot rot."""

from __future__ import annotations

import contextlib
import io
import json
import re

from generator.tooling.cli import main
from tests.support.processes import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_python_example_builds_a_template():
    (example,) = re.findall(r"```python\n(.*?)```", README, re.S)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "README.md", "exec"), {})
    template = json.loads(out.getvalue())
    assert {"OrdersService", "FoodstoreService"} <= set(template["Resources"])
    assert "NatGateway2" not in template["Resources"]


def test_the_error_sample_is_what_the_cli_prints(tmp_path, capsys, monkeypatch):
    sample = re.search(r"\$ ecsapi --config stack.toml\n(ecsapi: .*)\n", README).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stack.toml").write_text('[[services]]\nname = "food"\npath = "/food/{id}"\ncpu = 256\nmemory = 4096\n')
    assert main(["--config", "stack.toml"]) == 2
    assert capsys.readouterr().err.strip() == sample


def test_the_install_section_names_the_distribution_setup_cfg_builds():
    import configparser

    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    name = setup["metadata"]["name"]
    assert name != "ecsapi"  # someone else's project on PyPI
    install = README[README.index("## Install"):README.index("## Your own stack, in Python")]
    assert f"'{name} @ git+" in install and f"'{name}[local] @ git+" in install
    assert "pip install .  " in install and "pip install '.[local]'" in install
    assert "local" in setup["options.extras_require"]  # the extra the section installs exists
