"""What the benchmarks need beyond the runtime requirements, and a clear
message when it is missing (requirements.txt alone has no Faker, locust or
pyinstrument: `make install-dev` adds them)."""

from __future__ import annotations

import importlib.util

# module → the requirements-dev.txt line that provides it, and what needs it.
DEV = {
    "faker": ("Faker", "seed_bench (synthetic names)"),
    "locust": ("locust", "the HTTP load test"),
    "pyinstrument": ("pyinstrument", "profiles of missed targets"),
}
RUNTIME = {"gunicorn": ("gunicorn", "the HTTP measures"), "psycopg": ("psycopg", "PostgreSQL")}


def missing(modules: dict[str, tuple[str, str]]) -> list[str]:
    return [
        f"{package} (for {purpose})"
        for module, (package, purpose) in modules.items()
        if importlib.util.find_spec(module) is None
    ]


def message(what: str, absent: list[str]) -> str:
    return (
        f"{what} needs packages that are not installed: {', '.join(absent)}. "
        "They are in requirements-dev.txt: run `make install-dev` "
        "(or `.venv/bin/pip install -r requirements-dev.txt`) and try again."
    )


def check_bench() -> str | None:
    """None when `make bench` can run, else the message to print."""
    absent = missing(RUNTIME) + missing(DEV)
    return message("make bench", absent) if absent else None


def check_seed() -> str | None:
    absent = missing({"faker": DEV["faker"]})
    return message("seed_bench", absent) if absent else None
