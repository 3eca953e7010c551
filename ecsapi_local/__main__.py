"""``python -m ecsapi_local``: the whole API on 127.0.0.1 (see ecsapi_local.run)."""

import sys

from ecsapi_local.run import main

sys.exit(main())
