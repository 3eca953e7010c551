"""The generated template as the tests read it: every shipped variant, renders as the CLI writes
them (the ``release``, ``render`` and ``default_template`` fixtures), lookups by resource type, and
cfn-lint on a written file.

A plugin (``pytest_plugins`` in tests.support.plugin), so each layer's tests (tests/model,
tests/template, tests/tooling, tests/runs_in_aws) get the fixtures without a conftest of their own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from generator import ReleaseSettings, StackConfig, build_template
from generator.model.config_file import load_config
from generator.tooling.render import template_json
from tests.support.processes import REPO

# Every template variant the project ships (stacks/*.toml): each must lint and scan clean.
VARIANTS: dict[str, StackConfig] = {path.stem: load_config(path) for path in sorted((REPO / "stacks").glob("*.toml"))}


@pytest.fixture(scope="session")
def release() -> ReleaseSettings:
    """The default release settings (where a release is published, its pinned digests)."""
    return ReleaseSettings()


@pytest.fixture(scope="session")
def render(release):
    """``render(config)`` -> the template as parsed JSON, exactly as the CLI would write it."""

    def _render(config: StackConfig | None = None) -> dict:
        return json.loads(template_json(build_template(config or StackConfig(), release)))

    return _render


@pytest.fixture(scope="session")
def default_template(render) -> dict:
    """The default stack's template, rendered once per session (per xdist worker)."""
    return render()


def template_of(config: StackConfig) -> dict:
    """The generated template as the CLI writes it (JSON), read back; for code outside a fixture."""
    return json.loads(build_template(config).to_json())


def resources(template: dict, resource_type: str) -> dict[str, dict]:
    """Logical id -> resource, for every resource of ``resource_type``."""
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    """cfn-lint with informational rules included; the floor is zero findings."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--include-checks", "I", "--", str(path)],
        capture_output=True, text=True, timeout=300,
    )


def resolve_sub(value: dict, values: dict[str, str]) -> str:
    """What CloudFormation makes of a plain ``Fn::Sub`` string, for the given variable values (by
    the emulator's one intrinsic resolver: "AWS::Region", "Logical.Attribute" or a logical id)."""
    from ecsapi_local.intrinsics import Resolver  # the emulator's, imported only where a test resolves

    assert isinstance(value["Fn::Sub"], str), value
    return Resolver({}, values, {}).value("test", "Fn::Sub", value)
