"""The layers import one way: generator.model (with generator.version and generator.runs_in_aws) ->
generator.template -> generator.tooling -> ecsapi_local. Static: every import statement of every
module, those inside functions too, so no import can dodge the rule by running late."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Lowest first. A module may import its own layer and those below it, never one above.
LAYERS = (
    ("generator.version", "generator.model", "generator.runs_in_aws"),
    ("generator.template",),
    ("generator.tooling", "generator.__main__", "generator"),  # the package itself is the façade on top
    ("ecsapi_local",),
)
# The façade (generator/__init__.py) names every layer's public objects; it imports none at import time.
FACADE = "generator"


def layer_of(module: str) -> int | None:
    """The layer index of ``module``, or None for a module outside the layers (stdlib, third party, itemstore)."""
    best: tuple[int, int] | None = None  # (length of the matched prefix, layer)
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.Module, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``tree``, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module
            # `from generator.model import config` imports generator.model.config: name each submodule.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def upward_imports(root: Path, packages: tuple[str, ...] = ("generator", "ecsapi_local")) -> list[str]:
    """``path:line: importer (layer) imports target (layer)`` for each import that runs upward."""
    problems = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            if module == FACADE:
                continue
            own = layer_of(module)
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for line, target in imported(tree, module, path.name == "__init__.py"):
                theirs = layer_of(target)
                if own is not None and theirs is not None and theirs > own:
                    problems.append(f"{path.relative_to(root)}:{line}: {module} (layer {own}) imports {target} "
                                    f"(layer {theirs})")
    return problems


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports(REPO) == []


def test_the_builders_import_nothing_of_the_tooling_even_inside_a_function():
    builders = [path for path in (REPO / "generator" / "template").rglob("*.py")]
    assert builders
    for path in builders:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [target for _, target in imported(tree, module_name(path, REPO), path.name == "__init__.py")]
        assert [n for n in names if n.startswith(("generator.tooling", "ecsapi_local"))] == [], path


def test_an_upward_import_is_reported_with_its_place(tmp_path):
    for folder in ("generator/model", "generator/template", "generator/tooling", "ecsapi_local"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "generator" / "__init__.py").write_text("from generator.tooling import cli\n")  # the façade may
    (tmp_path / "generator" / "tooling" / "cli.py").write_text("from generator.template import stack\n")  # down: fine
    (tmp_path / "generator" / "template" / "stack.py").write_text(
        "import json\n\ndef late():\n    from ..tooling.release import ReleaseSettings\n")
    (tmp_path / "generator" / "model" / "config.py").write_text("import ecsapi_local.run\nfrom generator import x\n")
    assert upward_imports(tmp_path) == [
        "generator/model/config.py:1: generator.model.config (layer 0) imports ecsapi_local.run (layer 3)",
        "generator/model/config.py:2: generator.model.config (layer 0) imports generator.x (layer 2)",
        "generator/template/stack.py:4: generator.template.stack (layer 1) imports "
        "generator.tooling.release.ReleaseSettings (layer 2)",
    ]
