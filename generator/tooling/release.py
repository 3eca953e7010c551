"""The release settings on the command line (``--release-bucket`` ..., for ``ecsapi`` and
``make publish``). The settings themselves are model data: generator/model/release.py."""

from __future__ import annotations

import dataclasses

# Re-exported: the tooling (cli, publish, render, describe) and the emulator name them from here.
from generator.model.release import ENVIRONMENT_PREFIX, LAUNCH_BUTTON_IMAGE, ReleaseSettings

__all__ = [
    "ENVIRONMENT_PREFIX", "LAUNCH_BUTTON_IMAGE", "OPTION_PREFIX", "ReleaseSettings", "add_release_arguments",
    "given_release_options", "release_options",
]

# The command-line spelling of each overridable field: --release-bucket, ... (version is the package's).
OPTION_PREFIX = "--release-"


def release_options() -> dict[str, str]:
    """``--release-<field>`` -> field, for every field a release may override (all but version)."""
    return {OPTION_PREFIX + f.name.replace("_", "-"): f.name for f in dataclasses.fields(ReleaseSettings)
            if f.name != "version"}


def add_release_arguments(parser) -> None:
    """The ``--release-*`` options, on an ``argparse`` parser; read them back with :func:`given_release_options`."""
    for option, name in release_options().items():
        what = "comma-separated regions that get a Launch Stack button" if name == "regions" else f"release {name}"
        parser.add_argument(option, dest=f"release_{name}", metavar=name.upper(),
                            help=f"{what} (overrides [release] {name} and {ENVIRONMENT_PREFIX}{name.upper()})")


def given_release_options(args) -> dict[str, object]:
    """The ``--release-*`` values the command line gave, by field name (regions split at commas)."""
    given: dict[str, object] = {}
    for name in release_options().values():
        value = getattr(args, f"release_{name}", None)
        if value is not None:
            given[name] = tuple(r.strip() for r in value.split(",") if r.strip()) if name == "regions" else value
    return given

