"""The test tree's imports, read statically: shared helpers come from tests.support (a pytest
plugin), never from a conftest or another test module, and tests.support needs nothing from scripts/.

A conftest imported as a module runs a second time under another name (its fixtures registered
twice, its globals split in two); a test module imported by another runs its module-level code and
registers its tests' fixtures where they were not meant to be. Neither shows until it breaks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SUPPORT = TESTS / "support"


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import in ``source``, at any depth; a relative import keeps its dots."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            if node.module is None:  # `from . import conftest`: the names are the modules
                found += [(node.lineno, base + alias.name) for alias in node.names]
            else:
                found.append((node.lineno, base))
    return found


def forbidden(module: str) -> str | None:
    """Why a test file may not import ``module``, or None."""
    if module.startswith("."):
        return "a relative import (a conftest or a sibling test module): import the helper from tests.support"
    parts = module.split(".")
    if "conftest" in parts:
        return "a conftest imported as a module: move what it shares to tests.support"
    if parts[0] == "tests" and any(part.startswith("test_") for part in parts):
        return "another test module: move what it shares to tests.support"
    return None


def violations(root: Path) -> list[str]:
    """Every forbidden import under ``root``, as path:line: module: why."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for line, module in imported_modules(path.read_text(encoding="utf-8")):
            why = forbidden(module)
            if why:
                found.append(f"{path.relative_to(root)}:{line}: {module}: {why}")
    return found


def test_no_test_file_imports_a_conftest_or_another_test_module():
    assert violations(TESTS) == []


def test_the_support_plugin_imports_nothing_from_scripts():
    uses = [f"{path.relative_to(TESTS)}:{line}: {module}"
            for path in sorted(SUPPORT.rglob("*.py"))
            for line, module in imported_modules(path.read_text(encoding="utf-8"))
            if module.split(".")[0] == "scripts"]
    assert uses == []


@pytest.mark.parametrize("source, line, module", [
    ("from .conftest import REPO\n", 1, ".conftest"),
    ("from . import conftest\n", 1, ".conftest"),
    ("from .test_names import schema\n", 1, ".test_names"),
    ("def f():\n    from .test_progress import BUILD_LOG\n", 2, ".test_progress"),
    ("import tests.local_stack.conftest\n", 1, "tests.local_stack.conftest"),
    ("from tests.tooling.test_changes import RELEASE\n", 1, "tests.tooling.test_changes"),
])
def test_the_check_finds_each_way_of_importing_a_conftest_or_a_test_module(tmp_path, source, line, module):
    (tmp_path / "test_example.py").write_text(source)
    [found] = violations(tmp_path)
    assert found.startswith(f"test_example.py:{line}: {module}: ")


@pytest.mark.parametrize("source", [
    "from tests.support.templates import resources\n",
    "import pytest\nfrom generator.tooling import changes\n",
    "from itemstore.contract import HEALTH_PATH\n",
])
def test_the_check_lets_support_and_project_imports_through(tmp_path, source):
    (tmp_path / "test_example.py").write_text(source)
    assert violations(tmp_path) == []
