"""lazy_imports.defer: a deferred module's code runs at its first attribute access, not at import."""

from __future__ import annotations

import importlib
import sys

import pytest

from generator.tooling import lazy_imports


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A fresh top-level module that records in ``sys`` when its code runs; removed afterwards."""
    name = f"ecsapi_probe_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(f"import sys\nsys.{name}_runs = getattr(sys, '{name}_runs', 0) + 1\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    yield name
    sys.modules.pop(name, None)
    if hasattr(sys, f"{name}_runs"):
        delattr(sys, f"{name}_runs")


def runs(name: str) -> int:
    return getattr(sys, f"{name}_runs", 0)


def test_a_deferred_module_runs_at_its_first_attribute_access(probe):
    lazy_imports.defer(probe)
    module = importlib.import_module(probe)
    assert runs(probe) == 0
    assert module.VALUE == 42
    assert runs(probe) == 1


def test_a_module_already_imported_is_left_alone(probe):
    importlib.import_module(probe)
    finders = list(sys.meta_path)
    lazy_imports.defer(probe)
    assert sys.meta_path == finders and runs(probe) == 1


def test_deferring_twice_adds_one_finder(probe):
    lazy_imports.defer(probe)
    lazy_imports.defer(probe, "another_module_that_does_not_exist")
    assert sum(isinstance(finder, lazy_imports._DeferredFinder) for finder in sys.meta_path) == 1
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("another_module_that_does_not_exist")

