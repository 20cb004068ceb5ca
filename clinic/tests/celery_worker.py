"""Run a real Celery worker process for tests (against a real broker)."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def worker_env(broker_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.test_settings",
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=broker_url,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@contextmanager
def celery_worker(broker_url: str, *, concurrency: int = 1, name: str = "test", **extra: str):
    """Start `celery -A clinic worker` and stop it on exit."""
    cmd = [
        sys.executable, "-m", "celery", "-A", "clinic", "worker",
        "--loglevel", "INFO", "--concurrency", str(concurrency),
        "--hostname", f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=worker_env(broker_url, **extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
