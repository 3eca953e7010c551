"""The assertion-rewritten bytecode of the test modules, written once before the xdist workers start.

pytest rewrites the asserts of each test module, conftest and plugin module it imports, and caches
the result in ``__pycache__/<name>.<tag>-pytest-<version>.pyc``. On a fresh clone (every CI run)
there is no cache yet, and the workers, which start together and each import every test module,
would each rewrite all of them: about 4 s of CPU per worker here for the 124 modules. The controller
writes the cache first, in two processes (the machine's two cores), with pytest's own rewriting
and cache writing, so the workers read what they would have written. A module whose cached file is
valid is left alone; a module pytest would not rewrite is not touched.

These are pytest internals (``_pytest.assertion.rewrite``, pytest pinned in setup.cfg);
tests/test_rewritten_bytecode.py checks that what is written here is what pytest then reads.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

from _pytest.assertion import rewrite
from _pytest.assertion.rewrite import assertstate_key

_CONFIG = None  # the controller's config, inherited by the forked writers


def module_name(path: Path, root: Path) -> str:
    """The dotted name ``path`` is imported under from ``root`` (tests/a/test_b.py -> tests.a.test_b)."""
    return ".".join(path.relative_to(root).with_suffix("").parts)


def stale_modules(config, folder: Path, root: Path) -> list[Path]:
    """The modules under ``folder`` that pytest would rewrite and whose cached rewrite is missing or stale."""
    state = config.stash[assertstate_key]
    hook = state.hook
    stale = []
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts or not hook._should_rewrite(module_name(path, root), str(path), state):
            continue
        if rewrite._read_pyc(path, cached_path(path)) is None:
            stale.append(path)
    return stale


def cached_path(path: Path) -> Path:
    """Where pytest keeps the rewritten bytecode of ``path``."""
    return rewrite.get_cache_dir(path) / (path.name[:-3] + rewrite.PYC_TAIL)


def _write(path: Path) -> None:
    state = _CONFIG.stash[assertstate_key]
    source_stat, code = rewrite._rewrite_test(path, _CONFIG)
    if rewrite.try_makedirs(rewrite.get_cache_dir(path)):
        rewrite._write_pyc(state, code, source_stat, cached_path(path))


def write_rewritten_bytecode(config, folder: Path, root: Path, processes: int = 2) -> int:
    """Rewrite and cache every stale module under ``folder``; returns how many were written.

    Nothing is written where pytest would write nothing: bytecode turned off, or asserts not rewritten.
    """
    global _CONFIG
    if sys.dont_write_bytecode or config.getoption("assertmode") != "rewrite":
        return 0
    stale = stale_modules(config, folder, root)
    if not stale:
        return 0
    _CONFIG = config
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(_write, stale, chunksize=4)
    finally:
        _CONFIG = None
    return len(stale)
