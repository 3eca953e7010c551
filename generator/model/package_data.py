"""Files shipped inside a package (Lambda sources, the build script, the release manifest)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_file(package: str, *parts: str) -> Path:
    """``parts`` below ``package``'s folder, in a regular (unzipped) install such as pip makes.

    Not ``importlib.resources``: importing it costs about 6 ms of a ~150 ms cold CLI run, and the
    files it would find are plain files in the package's folder (tests/test_wheel.py renders from
    an installed wheel). ``importlib.util`` is loaded at start anyway (generator/tooling/lazy_imports.py).
    In the model layer because the builders and the model's own manifest reader both need it.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not an installed package")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
