"""Backups of the database DATABASE_URL names: `make backup` / `make restore`.

PostgreSQL: `pg_dump --format=custom` (compressed, restorable table by
table, portable across minor versions) and `pg_restore` in one transaction
(a restore that fails part-way leaves the database as it was). A restore
into a dropped database creates it first.

SQLite (the embedded default): SQLite's online backup API, a consistent
copy taken while the app runs (copying the file under a writer, with its
WAL beside it, is not); a restore copies the pages back the same way.

The reminder outbox is restored with everything else: a row sent before
the backup stays sent (never sent again); a row still pending is sent by
the next sweep. Rows sent *after* the backup was taken are pending in it:
restoring an older backup sends those again (docs/operations.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404 - runs pg_dump/pg_restore/psql with argument lists, never a shell
from pathlib import Path

from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(Exception):
    pass


def _settings(alias: str) -> dict:
    return connections[alias].settings_dict


def vendor(alias: str = "default") -> str:
    return connections[alias].vendor


def _pg_env(db: dict) -> dict:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_args(db: dict, *, name: str | None = None) -> list[str]:
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return [*args, "--dbname", name or db["NAME"]]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def backup(*, output: Path, alias: str = "default") -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    db = _settings(alias)
    partial = output.with_name(output.name + ".partial")
    if vendor(alias) == "postgresql":
        result = subprocess.run(  # nosec B603 - fixed tool, argument list
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(partial),
                *_pg_args(db),
            ],
            env=_pg_env(db),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    elif vendor(alias) == "sqlite":
        connection = connections[alias]
        connection.ensure_connection()
        partial.unlink(missing_ok=True)
        target = sqlite3.connect(partial)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        raise BackupError(f"no backup for {vendor(alias)} databases")
    partial.replace(output)  # a backup file is whole or absent
    return output


def kind_of(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(PG_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path} is not a Phoresis backup (neither pg_dump custom format nor SQLite)")


def _pg_database_exists(db: dict) -> bool:
    # psql quotes the name itself (:'name'), read from stdin where variables apply.
    result = subprocess.run(  # nosec B603 - fixed tool, argument list
        [_tool("psql"), "-At", "-v", f"name={db['NAME']}", *_pg_args(db, name="postgres")],
        input="SELECT 1 FROM pg_database WHERE datname = :'name';\n",
        env=_pg_env(db),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"cannot reach the PostgreSQL server: {result.stderr.strip()}")
    return result.stdout.strip() == "1"


def restore(*, source: Path, alias: str = "default") -> None:
    kind, db = kind_of(source), _settings(alias)
    if kind != vendor(alias):
        raise BackupError(f"{source} is a {kind} backup; DATABASE_URL names a {vendor(alias)} database")
    connections[alias].close()
    if kind == "postgresql":
        if not _pg_database_exists(db):
            created = subprocess.run(  # nosec B603 - fixed tool, argument list
                [_tool("createdb"), *_pg_args(db, name="postgres")[:-2], db["NAME"]],
                env=_pg_env(db),
                capture_output=True,
                text=True,
            )
            if created.returncode != 0:
                raise BackupError(f"createdb failed: {created.stderr.strip()}")
        result = subprocess.run(  # nosec B603 - fixed tool, argument list
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                *_pg_args(db),
                str(source),
            ],
            env=_pg_env(db),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed (nothing was changed): {result.stderr.strip()}")
        return
    connection = connections[alias]
    connection.ensure_connection()
    backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        backup_file.backup(connection.connection)
    finally:
        backup_file.close()
        connection.close()
