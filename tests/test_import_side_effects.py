"""Importing the library changes nothing in the importer's process (STYLE 22): no import hook, no
template machinery until a public name is used. The CLI's start-up tweak stays in its entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.processes import REPO

pytestmark = pytest.mark.integration  # a fresh interpreter as a subprocess

PROBE = """
import json, sys
before = list(sys.meta_path)
import generator
after_import = [type(f).__module__ + "." + type(f).__qualname__ for f in sys.meta_path if f not in before]
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("troposphere", "awacs", "cfn_flip"))
generator.StackConfig  # first use of a public name loads the configuration model, still no hook
after_use = [type(f).__module__ for f in sys.meta_path if f not in before]
print(json.dumps({"after_import": after_import, "loaded": loaded, "after_use": after_use}))
"""


def probe() -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_generator_installs_no_import_hook_and_loads_no_troposphere():
    seen = probe()
    assert seen["after_import"] == []
    assert seen["loaded"] == []
    assert seen["after_use"] == []


def test_public_names_resolve_to_their_defining_modules():
    import generator
    from generator.model.config import StackConfig
    from generator.template.stack import build_template

    assert generator.StackConfig is StackConfig
    assert generator.build_template is build_template
    assert set(generator.__all__) <= set(dir(generator))


def test_an_unknown_name_is_an_attribute_error():
    import generator

    try:
        generator.NoSuchThing  # noqa: B018
    except AttributeError as error:
        assert "NoSuchThing" in str(error)
    else:
        raise AssertionError("generator.NoSuchThing resolved")
