"""The ``ecsapi`` command's entry point (``python -m generator`` too).

Process-wide start-up tweaks belong here and only here, where the process is our own: a library
import must change nothing in its importer (a user's app, a notebook, pytest).
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from generator.tooling import lazy_imports

    # Before anything imports troposphere: it imports cfn_flip (and PyYAML) for Template.to_yaml only.
    lazy_imports.defer("cfn_flip")
    from generator.tooling.cli import main as cli_main

    return cli_main(argv)
