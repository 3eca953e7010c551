"""tests.support.bytecode: the controller's cache of rewritten test modules is the one pytest reads."""

from __future__ import annotations

import sys

import pytest
from _pytest.assertion import rewrite

from tests.support.bytecode import cached_path, stale_modules, write_rewritten_bytecode

pytestmark = pytest.mark.integration  # forks the two writers


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    (tmp_path / "test_sample.py").write_text("def test_it():\n    value = 1\n    assert value == 2\n")
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    return tmp_path


def test_a_test_module_is_written_rewritten_where_pytest_reads_it(pytestconfig, folder):
    assert write_rewritten_bytecode(pytestconfig, folder, folder) == 1
    code = rewrite._read_pyc(folder / "test_sample.py", cached_path(folder / "test_sample.py"))
    assert code is not None
    namespace: dict = {}
    exec(code, namespace)
    with pytest.raises(AssertionError) as failed:
        namespace["test_it"]()
    assert "1 == 2" in str(failed.value)  # pytest's explanation: the asserts were rewritten


def test_a_module_pytest_would_not_rewrite_is_left_alone(pytestconfig, folder):
    write_rewritten_bytecode(pytestconfig, folder, folder)
    assert not cached_path(folder / "helper.py").exists()


def test_a_valid_cache_is_kept_and_a_changed_source_is_written_again(pytestconfig, folder):
    write_rewritten_bytecode(pytestconfig, folder, folder)
    assert stale_modules(pytestconfig, folder, folder) == []
    assert write_rewritten_bytecode(pytestconfig, folder, folder) == 0
    (folder / "test_sample.py").write_text("def test_it():\n    assert 2 == 2\n\n\n")
    assert stale_modules(pytestconfig, folder, folder) == [folder / "test_sample.py"]
    assert write_rewritten_bytecode(pytestconfig, folder, folder) == 1
