"""Modules a dependency imports eagerly but only one command uses, loaded at their first use instead.

troposphere's package imports cfn_flip at import time for a single method, ``Template.to_yaml``.
cfn_flip brings PyYAML, cfn_clean, six and logging: about 28 ms of the ~125 ms a cold
``template`` run took (``python -X importtime -m generator template``), paid by every command
although only ``template --format yaml`` needs it.

``defer("cfn_flip")`` puts a finder first on ``sys.meta_path``. When ``cfn_flip`` is first imported
it returns the spec the other finders return, with the loader wrapped in
``importlib.util.LazyLoader``: ``import cfn_flip`` in troposphere binds the module, and the module's
code runs at the first attribute access, which is ``cfn_flip.to_yaml`` inside ``Template.to_yaml``.
Nothing in troposphere is patched. If troposphere starts using cfn_flip at import time, the module
simply loads at that point, output stays the same, and
tests/tooling/test_cli_imports.py fails to show that the saving is gone.

Why a finder rather than the importlib docs' recipe, which puts a lazy module in ``sys.modules``
beforehand: on the Python versions we support, ``import x`` of a module that is already in
``sys.modules`` reads ``x.__spec__``, and that attribute access loads a lazy module immediately
(CPython issue 127036). The finder makes troposphere's own ``import cfn_flip`` the import that
creates the lazy module, so nothing reads ``__spec__`` before real use.
"""

from __future__ import annotations

import importlib.util
import sys


class _DeferredFinder:
    """A ``sys.meta_path`` finder: the usual spec for ``names``, made lazy; ``None`` for the rest."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(self, name, path, target=None):
        if name not in self.names:
            return None
        spec = None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is not self and find_spec is not None:
                spec = find_spec(name, path, target)
                if spec is not None:
                    break
        # LazyLoader needs a loader with exec_module; anything else (or nothing) imports as usual.
        if spec is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


def defer(*names: str) -> None:
    """Load each top-level module in ``names`` at its first attribute access, not at its import.

    Has no effect on a module that is already imported. Calling it again adds no second finder.
    """
    pending = frozenset(name for name in names if name not in sys.modules)
    if not pending:
        return
    for finder in sys.meta_path:
        if isinstance(finder, _DeferredFinder):
            finder.names |= pending
            return
    sys.meta_path.insert(0, _DeferredFinder(pending))
