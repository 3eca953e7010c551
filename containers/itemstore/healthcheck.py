"""Container health check: ``python -m itemstore.healthcheck``.

Exits 0 when ``GET http://127.0.0.1:$PORT/health`` answers 200 within 2 seconds, else 1. It uses
only the standard library and imports nothing of the package but :mod:`itemstore.contract`
(standard library only too), so it is cheap to run every few seconds.
"""

from __future__ import annotations

import http.client
import os
import sys
import time

from itemstore.contract import DEFAULT_PORT, ENV_PORT, HEALTH_PATH

TIMEOUT_SECONDS = 2.0


def check(port: int, timeout: float = TIMEOUT_SECONDS) -> bool:
    """True when HEALTH_PATH on 127.0.0.1:port answers 200 within timeout seconds."""
    deadline = time.monotonic() + timeout
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", HEALTH_PATH)
        # The socket timeout applies per operation; what is left of the budget bounds the wait.
        connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def main() -> int:
    port = int(os.environ.get(ENV_PORT) or DEFAULT_PORT)
    return 0 if check(port) else 1


if __name__ == "__main__":
    sys.exit(main())
