"""The restore drill, on PostgreSQL and on SQLite, with the real commands:
book, note, send what is due, back up, drop the database, restore; the
records and the outbox are back and nothing is sent twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def run(env: dict, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, input=stdin
    )
    if check:
        assert result.returncode == 0, f"{args}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


def drill_env(tmp_path: Path, database_url: str) -> dict:
    mail = tmp_path / "mail"
    mail.mkdir()
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DEBUG": "true",
        "DATABASE_URL": database_url,
        "EMAIL_HOST": "",
        "EMAIL_FILE_PATH": str(mail),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "memory://",
        "REMINDER_NUDGE": "false",
        "LOG_LEVEL": "WARNING",
    }


def drill(env: dict, backup: Path, drop) -> None:
    run(env, "manage.py", "migrate", "--no-input", "-v", "0")
    made = json.loads(run(env, "-m", "clinic.tests.drill", "make").stdout.splitlines()[-1])
    assert made["sent"] >= 1 and made["mails"] == made["sent"]
    assert made["state"]["notes"] and made["state"]["outbox"]
    out = run(env, "manage.py", "backup", "--output", str(backup)).stdout
    assert "Backed up" in out and backup.stat().st_size > 0

    drop()
    gone = run(env, "-m", "clinic.tests.drill", "check", made["now"], made["later"], check=False)
    assert gone.returncode != 0  # the database really is gone

    refused = run(env, "manage.py", "restore", "--input", str(backup), check=False, stdin="no\n")
    assert refused.returncode != 0 and "nothing was changed" in refused.stderr
    run(env, "manage.py", "restore", "--input", str(backup), "--no-input")
    after = json.loads(
        run(env, "-m", "clinic.tests.drill", "check", made["now"], made["later"]).stdout.splitlines()[-1]
    )
    assert after["state"] == made["state"]
    assert after["sent"] == 0
    assert after["mails"] == made["mails"]  # nothing sent twice
    assert after["due_later"] >= 1 and after["again"] == 0  # still-pending rows go out, once


def test_restore_drill_on_sqlite(tmp_path):
    database = tmp_path / "clinic.sqlite3"
    env = drill_env(tmp_path, f"sqlite:///{database}")

    def drop():
        for path in tmp_path.glob("clinic.sqlite3*"):
            path.unlink()

    drill(env, tmp_path / "backups" / "phoresis.sqlite3", drop)


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    env = drill_env(tmp_path, f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    junk = tmp_path / "junk.dump"
    junk.write_text("not a backup")
    result = run(env, "manage.py", "restore", "--input", str(junk), "--no-input", check=False)
    assert result.returncode != 0 and "is not a Phoresis backup" in result.stderr


@pytest.mark.postgres
def test_restore_drill_on_postgresql(tmp_path):
    import psycopg

    db = connection.settings_dict
    name = f"phoresis_drill_{uuid.uuid4().hex[:8]}"
    auth = f"{db['USER']}:{db['PASSWORD']}@" if db.get("PASSWORD") else f"{db['USER']}@"
    server = f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"

    def admin(sql: str) -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f'CREATE DATABASE "{name}"')
    env = drill_env(tmp_path, f"{server}/{name}")
    try:
        drill(
            env, tmp_path / "backups" / "phoresis.dump", lambda: admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        )
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
