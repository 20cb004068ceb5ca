"""Is a service the tests need reachable?  `python -m scripts.services postgres`

Exit 0 when it answers; 1 when it does not (tests needing it skip); 2 when it
does not and CI=true (in CI an unreachable service is a failure, never a skip).
"""

import os
import socket
import sys
from urllib.parse import urlparse

DEFAULTS = {
    "postgres": os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/phoresis"),
    "redis": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
}
PORTS = {"postgres": 5432, "redis": 6379}


def reachable(name: str, timeout: float = 1.0) -> bool:
    url = urlparse(DEFAULTS[name])
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or PORTS[name]), timeout):
            return True
    except OSError:
        return False


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def main(names: list[str]) -> int:
    status = 0
    for name in names:
        if reachable(name):
            continue
        where = DEFAULTS[name]
        if in_ci():
            print(f"CI: {name} at {where} is unreachable; it must run in CI.", file=sys.stderr)
            status = 2
        else:
            print(f"{name} at {where} is unreachable: its tests will be skipped.", file=sys.stderr)
            status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(DEFAULTS)))
