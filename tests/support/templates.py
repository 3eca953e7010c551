"""The generated template as the tests read it: every shipped variant, renders as the CLI writes
them (the ``release``, ``render`` and ``default_template`` fixtures), lookups by resource type, and
cfn-lint on a written file.

A plugin (``pytest_plugins`` in tests.support.plugin), so each layer's tests (tests/model,
tests/template, tests/tooling, tests/runs_in_aws) get the fixtures without a conftest of their own.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import DomainSpec, ReleaseSettings, StackConfig, build_template
from generator.model.config_file import load_config
from generator.tooling.render import template_json
from tests.support.processes import REPO

# Every template variant the project ships (stacks/*.toml): each must lint and scan clean.
VARIANTS: dict[str, StackConfig] = {path.stem: load_config(path) for path in sorted((REPO / "stacks").glob("*.toml"))}
# The examples a user copies (examples/<name>/<file>.toml), by folder name: the same holds for them.
EXAMPLES: dict[str, Path] = {path.parent.name: path for path in sorted((REPO / "examples").glob("*/*.toml"))}
# No variant combines the test page with the stack's own KMS key (hardened turns the page off).
PAGE_WITH_KEY = StackConfig(customer_managed_key=True)

# The API on a domain of its own, in each shape [domain] takes (tests/template/test_domain.py): with
# and without a hosted zone, with and without an existing certificate, and the page on its own name.
DOMAIN_NAME = "api.example.com"
DOMAIN_ZONE = "Z0123456789ABCDEFGHIJ"
API_CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
PAGE_CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000"
DOMAIN_SHAPES: dict[str, DomainSpec] = {
    "zone-new-certificate": DomainSpec(name=DOMAIN_NAME, hosted_zone_id=DOMAIN_ZONE),
    "no-zone-new-certificate": DomainSpec(name=DOMAIN_NAME),
    "zone-existing-certificate": DomainSpec(name=DOMAIN_NAME, hosted_zone_id=DOMAIN_ZONE,
                                            certificate_arn=API_CERTIFICATE),
    "no-zone-existing-certificate": DomainSpec(name=DOMAIN_NAME, certificate_arn=API_CERTIFICATE,
                                               disable_execute_api_endpoint=True),
    "page-on-its-own-name": DomainSpec(name=DOMAIN_NAME, hosted_zone_id=DOMAIN_ZONE, base_path="v1",
                                       page_name="try.example.com", page_certificate_arn=PAGE_CERTIFICATE),
}


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


# What `cfn-lint --include-checks I` is given on the command line (the Makefile's and CI's lint).
CFN_LINT_ARGS = ("--include-checks", "I")


def cfn_lint_command(path: Path, *extra: str) -> subprocess.CompletedProcess:
    """The cfn-lint command on ``path``, informational rules included (``extra``: more arguments)."""
    return subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), *CFN_LINT_ARGS, *extra, "--", str(path)],
                          capture_output=True, text=True, timeout=300)


@functools.cache
def _cfn_lint_runner():
    # cfn-lint's own runner, configured from the command line's arguments, built once per test
    # process: loading its rules and schemas is about 1.5 s of CPU that each command pays again.
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner.cli import Runner

    return Runner(ConfigMixIn(list(CFN_LINT_ARGS)))


def cfn_lint(path: Path) -> list[str]:
    """cfn-lint's findings on the template at ``path``, informational rules included (the floor is
    none), each as "RULE message (file:line)": the command's rules and checks run in this process
    (tests/template/test_lint_runner.py holds the two to the same findings)."""
    from cfnlint.runner.template.runner import run_template_by_file_path

    runner = _cfn_lint_runner()
    matches = run_template_by_file_path(str(path), runner.config, runner.rules, False)
    return [f"{m.rule.id} {m.message} ({m.filename}:{m.linenumber})" for m in matches]


CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"  # its own virtualenv: see the Makefile


def checkov_report(target: Path) -> dict:
    """checkov's JSON report on a template file or on every template in a folder."""
    assert CHECKOV.exists(), "checkov is missing: run `make test`, which installs it"
    scan = subprocess.run(
        [str(CHECKOV), "--directory" if target.is_dir() else "--file", str(target), "--framework", "cloudformation",
         "--output", "json", "--skip-download", "--compact"], capture_output=True, text=True, timeout=600,
        # In one process: checkov forks a worker per CPU by default, which in a suite already running
        # a worker per CPU (xdist) cost a quarter more CPU for the same report (measured on 9 variants).
        env={**os.environ, "CHECKOV_PARALLELIZATION_TYPE": "none"},
    )
    report = json.loads(scan.stdout)
    return report if isinstance(report, dict) else report[0]  # one report, or a list of them


RELEASE_FIXTURES = REPO / "tests" / "tooling" / "fixtures"  # v<version>/<variant>.json.gz: released templates


def diff_from_release(version: str, variant: str, folder: Path) -> tuple[StackConfig, dict, dict]:
    """``ecsapi diff --format json`` from ``variant``'s template of release ``version``
    (RELEASE_FIXTURES/v<version>/<variant>.json.gz, unpacked into ``folder``) to what this checkout
    renders for it: the variant's configuration, diff's report, and the released template."""
    from generator.tooling.cli import main

    old = folder / f"{variant}-{version}.json"
    old.write_bytes(gzip.decompress((RELEASE_FIXTURES / f"v{version}" / f"{variant}.json.gz").read_bytes()))
    argv = ["diff", str(old), "--format", "json"]
    config = StackConfig()
    if variant != "default":
        stack_file = REPO / "stacks" / f"{variant}.toml"
        argv += ["--config", str(stack_file)]
        config = load_config(stack_file)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = main(argv)
    report = json.loads(output.getvalue())
    assert status in (0, 1), report  # 1: there are changes; 2 would be an error
    return config, report, json.loads(old.read_text())


def resolve_sub(value: dict, values: dict[str, str]) -> str:
    """What CloudFormation makes of a plain ``Fn::Sub`` string, for the given variable values (by
    the emulator's one intrinsic resolver: "AWS::Region", "Logical.Attribute" or a logical id)."""
    from ecsapi_local.intrinsics import Resolver  # the emulator's, imported only where a test resolves

    assert isinstance(value["Fn::Sub"], str), value
    return Resolver({}, values, {}).value("test", "Fn::Sub", value)
