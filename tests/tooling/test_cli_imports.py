"""A cold CLI run imports YAML support only when it writes YAML (see generator/tooling/lazy_imports.py), and
what only other commands need (package_data.py, assets.py, cli.py) only when they run."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

import pytest

from generator.tooling import cli
from tests.support.processes import REPO

pytestmark = pytest.mark.integration  # the CLI as a subprocess

# cfn_flip's own code and everything it brings; ``cfn_flip`` itself is imported (lazily) by troposphere.
YAML_SUPPORT = ("yaml", "cfn_tools", "cfn_clean", "cfn_flip.")
# Each a few ms of a ~150 ms cold start that rendering the default stack does not use: package data
# is read without importlib.resources, the release archive (tarfile) and digests (hashlib) are built
# by make template's assets step and make publish, TOML is read only with --config, and urllib.request
# (http.client, email, ssl: ~40 ms) only by the item store's proxy check at its own start. The custom
# domain's builder, with troposphere's Route 53 and ACM modules, only a stack with a domain imports. The
# item store's settings module checks a service's extra environment, which the default stack has none of.
# shutil (with zlib, bz2 and lzma) only copies a file where hard links fail, and argparse would import it
# for the terminal's width (generator/tooling/cli.py, terminal_columns).
DEFERRED = {"importlib.resources", "tarfile", "hashlib", "tomli", "urllib.request", "generator.template.domain",
            "troposphere.route53", "troposphere.certificatemanager", "itemstore.settings", "shutil", "bz2", "lzma"}


def imported_modules(*args: str) -> set[str]:
    """The modules a new ``python -m generator ARGS`` process imports, from ``-X importtime``."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "generator", *args], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def yaml_support(modules: set[str]) -> set[str]:
    return {name for name in modules if name.split(".")[0] in YAML_SUPPORT or name.startswith(YAML_SUPPORT)}


def test_a_json_template_run_does_not_import_yaml_support(tmp_path):
    modules = imported_modules("template", "--out", str(tmp_path))
    assert "troposphere" in modules and "cfn_flip" in modules  # troposphere's `import cfn_flip` ran
    assert yaml_support(modules) == set()


def test_a_yaml_template_run_loads_yaml_support_when_it_renders(tmp_path):
    modules = imported_modules("template", "--format", "yaml", "--out", str(tmp_path))
    assert {"yaml", "cfn_tools", "cfn_flip.yaml_dumper"} <= yaml_support(modules)
    assert list(tmp_path.glob("ecsapi-v*.yaml"))


def test_describe_and_openapi_do_not_import_yaml_support(tmp_path):
    assert yaml_support(imported_modules("describe")) == set()
    assert yaml_support(imported_modules("openapi", "--out", str(tmp_path))) == set()


def test_a_default_template_run_imports_nothing_only_other_runs_need(tmp_path):
    assert imported_modules("template", "--out", str(tmp_path)) & DEFERRED == set()


def test_a_configuration_file_loads_the_toml_reader(tmp_path):
    modules = imported_modules("template", "--config", str(REPO / "stacks" / "small.toml"), "--out", str(tmp_path))
    assert "tomli" in modules  # TOML 1.1 (generator/model/config_file.py)


def test_a_stack_with_a_custom_domain_loads_the_domain_builder(tmp_path):
    modules = imported_modules("template", "--config", str(REPO / "stacks" / "domain.toml"), "--out", str(tmp_path))
    assert {"generator.template.domain", "troposphere.route53", "troposphere.certificatemanager"} <= modules


def test_a_default_stack_compiles_no_pattern_for_settings_it_lacks():
    # generator/model/patterns.py: a pattern is compiled by the run that uses it. A new process,
    # as the CLI's, renders the default stack; the ARN, domain and Cognito-identifier checks it
    # never makes stay uncompiled.
    script = (
        "from generator.model import auth, domain, secrets\n"
        "from generator import StackConfig, build_template\n"
        "build_template(StackConfig()).to_dict()\n"
        "unused = {'SECRETS_MANAGER_ARN': secrets.SECRETS_MANAGER_ARN, 'SSM_PARAMETER_ARN': secrets.SSM_PARAMETER_ARN,\n"
        "          'KMS_KEY_ARN': secrets.KMS_KEY_ARN, 'CERTIFICATE_ARN': domain.CERTIFICATE_ARN,\n"
        "          'HOSTED_ZONE_ID': domain.HOSTED_ZONE_ID, 'COGNITO_IDENTIFIER': auth.COGNITO_IDENTIFIER}\n"
        "print(sorted(name for name, pattern in unused.items() if pattern._compiled is not None))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("columns", [None, "120", "45", "0", "-3", "wide", ""])
def test_the_help_is_as_wide_as_argparse_makes_it(monkeypatch, columns):
    # cli.terminal_columns stands in for shutil.get_terminal_size().columns, which argparse's formatter
    # calls by default: the width, and so every wrapped line of --help, must be the same.
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert cli.terminal_columns() == shutil.get_terminal_size().columns
    ours = cli.parser()
    theirs = cli.parser()
    theirs.formatter_class = argparse.RawDescriptionHelpFormatter
    assert ours.format_help() == theirs.format_help()
    assert ours.format_usage() == theirs.format_usage()


def no_terminal(fd):
    raise OSError(25, "Inappropriate ioctl for device")


@pytest.mark.parametrize("terminal", [(66, 20), (0, 0), no_terminal], ids=["66 columns", "zero size", "no terminal"])
def test_without_columns_the_help_takes_the_terminals_width_as_argparse_does(monkeypatch, terminal):
    monkeypatch.delenv("COLUMNS", raising=False)
    size = terminal if callable(terminal) else lambda fd: cli.os.terminal_size(terminal)
    monkeypatch.setattr(cli.os, "get_terminal_size", size)  # the os module shutil asks too
    assert cli.terminal_columns() == shutil.get_terminal_size().columns == (66 if terminal == (66, 20) else 80)
    theirs = cli.parser()
    theirs.formatter_class = argparse.RawDescriptionHelpFormatter
    assert cli.parser().format_help() == theirs.format_help()
