"""``python -m generator.local``: the whole API on 127.0.0.1 (see generator.local.run)."""

import sys

from .run import main

sys.exit(main())
