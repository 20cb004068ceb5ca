"""Container healthchecks: `python -m clinic.healthcheck web|beat`.

web: GET /healthz on this container, with a Host header the site accepts
(the first entry of ALLOWED_HOSTS; 127.0.0.1 is refused once ALLOWED_HOSTS
names only the clinic's domain) and X-Forwarded-Proto https, so neither
host validation nor the TLS redirect stands between the check and the view.
Healthy when it answers 200 with status "ok" (the database answers).

beat: its scheduler (clinic.celery.HeartbeatScheduler) touches a file as it
ticks; healthy while that file is younger than BEAT_HEARTBEAT_MAX_AGE.
(The worker's check is Celery's own: `celery -A clinic inspect ping`.)

Exit 0 healthy, 1 not, with one line saying why. Reads the environment
only: no Django start-up, so the check stays cheap every 15 seconds.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

VAR_DIR = Path(__file__).resolve().parent.parent / "var"


def probe_host(allowed_hosts: str) -> str:
    """A host name that ALLOWED_HOSTS accepts, for the Host header."""
    for entry in (h.strip() for h in allowed_hosts.split(",")):
        if not entry or entry == "*":
            continue
        # ".clinic.example" allows every subdomain: name one of them.
        return f"healthcheck{entry}" if entry.startswith(".") else entry
    return "localhost"


def check_web(env: dict | None = None) -> tuple[bool, str]:
    env = os.environ if env is None else env
    # Inside the compose healthcheck's own 5 s timeout.
    timeout = float(env.get("HEALTHCHECK_TIMEOUT", "4"))
    address = env.get("HEALTHCHECK_ADDRESS", f"127.0.0.1:{env.get('PORT_INTERNAL', '8000')}")
    host = probe_host(env.get("ALLOWED_HOSTS", "localhost,127.0.0.1"))
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL on this container
        f"http://{address}/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310 - our own container
            body = json.loads(response.read() or b"{}")
    except Exception as exc:
        return False, f"web unhealthy: /healthz via {address} (Host {host}): {exc}"
    if body.get("status") != "ok":
        return False, f"web unhealthy: /healthz says {body}"
    return True, f"web ok (database {body.get('database')}, broker {body.get('broker')})"


def check_beat(env: dict | None = None) -> tuple[bool, str]:
    env = os.environ if env is None else env
    path = Path(env.get("CELERY_BEAT_HEARTBEAT_FILE", VAR_DIR / "beat-heartbeat"))
    max_age = float(env.get("BEAT_HEARTBEAT_MAX_AGE", "120"))
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return False, f"beat unhealthy: no heartbeat at {path}"
    if age > max_age:
        return False, f"beat unhealthy: last heartbeat {age:.0f} s ago (limit {max_age:.0f} s)"
    return True, f"beat ok (heartbeat {age:.0f} s ago)"


def main(argv: list[str]) -> int:
    checks = {"web": check_web, "beat": check_beat}
    if len(argv) != 1 or argv[0] not in checks:
        print("usage: python -m clinic.healthcheck web|beat", file=sys.stderr)
        return 2
    healthy, why = checks[argv[0]]()
    print(why)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
