"""The ``ecsapi`` command's entry point (``python -m generator`` too).

Process-wide start-up tweaks belong here and only here, where the process is our own: a library
import must change nothing in its importer (a user's app, a notebook, pytest).
"""

from __future__ import annotations

import gc


def main(argv: list[str] | None = None) -> int:
    # Importing the command builds the objects that live until exit: troposphere's ~1,800 classes,
    # awacs, our modules. None of it is garbage, yet its allocations set off ~70 collections, and
    # the collection at exit walks all of it again. So the collector is off while it is imported,
    # what exists then is frozen (moved where no collection, the one at exit included, walks it),
    # and the collector is back on for the command's own work. A cold `ecsapi template` runs ~9%
    # fewer instructions (callgrind; scripts/bench_generator.py's notes have the figures).
    collecting = gc.isenabled()
    gc.disable()
    try:
        from generator.tooling import lazy_imports

        # Before anything imports troposphere: it imports cfn_flip (and PyYAML) for Template.to_yaml only.
        lazy_imports.defer("cfn_flip")
        from generator.tooling.cli import main as cli_main
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    return cli_main(argv)
