"""`make bench` / `python -m bench`: every benchmark, one table.

For PostgreSQL (a database of its own, dropped and made afresh each run) and
SQLite (a file under var/bench/), a `bench.stage` process migrates, grows
the dataset 10k → 100k → 1M with seed_bench (SQLite stops at 100k), and
times each benchmark at each size. On PostgreSQL each size is also measured
over HTTP: gunicorn with the production settings and the compose config,
a logged-in session, every page against /healthz and its raw SQL in the
same run (bench/http_pages.py); at the largest size come the reminder
sweep and the HTTP load test (50 and 100 users). The tables are printed and
saved to bench/results/latest.md and latest.json.

Environment:
  BENCH_QUICK=1         smaller sizes (2,000, 10,000), 10 repetitions, 15 s of load;
                        results go to var/bench/ instead of bench/results/
  BENCH_DATABASE_URL    default postgres://postgres@127.0.0.1:5432/phoresis_bench
                        (its name must contain "bench": it is dropped and re-created)
  BENCH_REUSE=1         keep the PostgreSQL database and only top it up to the sizes
                        (a 1M dataset seeded once; every size must be ≥ what it holds)
  BENCH_DATABASES       default "postgresql,sqlite"
  BENCH_SIZES           e.g. "10000,100000,1000000"
  BENCH_SQLITE_MAX      the largest size run on SQLite (default 100000)
  BENCH_REPS            repetitions per measure (default 30; 40 over HTTP)
  BENCH_LOAD_LEVELS     users:p95-goal-ms pairs, default "50:300,100:600"
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from urllib.parse import urlparse

from bench import deps, harness, report

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/phoresis_bench")
WORK = harness.ROOT / "var" / "bench"
SQLITE_PATH = WORK / ("quick.sqlite3" if harness.QUICK else "bench.sqlite3")
DEFAULT_SIZES = "2000,10000" if harness.QUICK else "10000,100000,1000000"
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", DEFAULT_SIZES).split(",")]
SQLITE_MAX = int(os.environ.get("BENCH_SQLITE_MAX", "100000"))
REUSE = os.environ.get("BENCH_REUSE", "").lower() in {"1", "true", "yes"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def recreate_postgres(url: str) -> str | None:
    """Drop and create the benchmark database (with BENCH_REUSE, create it only if
    missing); None when PostgreSQL does not answer."""
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: the benchmark database's name must contain 'bench'.")
    admin = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not (REUSE and exists):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            else:
                log(f"BENCH_REUSE: keeping {name} and topping it up")
            return conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.OperationalError as exc:
        log(f"PostgreSQL at {parts.hostname}:{parts.port} is unreachable ({exc}); skipping it.")
        return None


def recreate_sqlite() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (SQLITE_PATH.parent / (SQLITE_PATH.name + suffix)).unlink(missing_ok=True)


def run_stage(name: str, url: str, extra: list[str], sizes: list[int]) -> list[dict]:
    out = WORK / f"{name}.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    command = [sys.executable, "-m", "bench.stage", "--sizes", ",".join(map(str, sizes)), "--out", str(out)]
    completed = subprocess.run(command + extra, cwd=harness.ROOT, env=env, check=False)
    if completed.returncode != 0 or not out.exists():
        return [
            harness.result(f"{name} stage", name, None, error=f"exit code {completed.returncode}", met=False)
        ]
    return json.loads(out.read_text())


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=harness.ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    if problem := deps.check_bench():
        log(problem)
        return 2
    began = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    for stale in harness.RESULTS.glob("profile-*.txt"):
        stale.unlink()
    wanted = os.environ.get("BENCH_DATABASES", "postgresql,sqlite").split(",")
    results: list[dict] = []
    versions = [f"Python {platform.python_version()}"]
    if "postgresql" in wanted:
        version = recreate_postgres(PG_URL)
        if version:
            versions.append(f"PostgreSQL {version.split()[0]}")
            results += run_stage("postgresql", PG_URL, ["--load", "--reminders", "--http"], SIZES)
        else:
            results.append(
                harness.result(
                    "All benchmarks", "PostgreSQL", None, unavailable="PostgreSQL unreachable: skipped"
                )
            )
    if "sqlite" in wanted:
        recreate_sqlite()
        versions.append(f"SQLite {sqlite3.sqlite_version}")
        results += run_stage(
            "sqlite", f"sqlite:///{SQLITE_PATH}", [], [n for n in SIZES if n <= SQLITE_MAX] or SIZES[:1]
        )
    meta = {
        "generated": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        "mode": "quick (BENCH_QUICK=1)" if harness.QUICK else "full",
        "commit": commit(),
        "machine": f"{os.cpu_count()} CPUs, {', '.join(versions)}",
        "seconds": time.perf_counter() - began,
        "reps": harness.REPS,
    }
    text = report.markdown(results, meta)
    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    (harness.RESULTS / ("quick.md" if harness.QUICK else "latest.md")).write_text(text)
    (harness.RESULTS / ("quick.json" if harness.QUICK else "latest.json")).write_text(
        json.dumps({"meta": meta, "results": results}, indent=1, default=str) + "\n"
    )
    print(text)
    return 1 if any("error" in row for row in results) else 0


if __name__ == "__main__":
    sys.exit(main())
