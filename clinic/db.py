"""A faster reader for PostgreSQL's `timestamptz` values.

Django reads every `timestamptz` through its own loader, a subclass of
psycopg's pure-Python one that parses each value with a regular expression
(about 3 µs a value). The slot finder reads four weeks of bookings, some
20,000 timestamps, so that alone was a tenth of a search. This loader keeps
Django's contract (the value gets the connection's time zone, UTC here;
none without USE_TZ) and parses with `datetime.fromisoformat` (C), falling
back to psycopg's parser for what that does not read (BC dates, infinity).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.db.backends.signals import connection_created


@cache
def loader_for(timezone: dt.tzinfo | None) -> type:
    """A loader class bound to one time zone, as Django's register_tzloader makes."""
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class FastTzLoader(BaseTzLoader):
        def load(self, data):
            try:
                value = dt.datetime.fromisoformat(bytes(data).decode())
            except ValueError:
                return super().load(data)
            # Django's contract: the connection's zone, whatever the text says
            # (it is the connection's; "+00" already gives this very object).
            return value if value.tzinfo is self.timezone else value.replace(tzinfo=self.timezone)

    FastTzLoader.timezone = timezone
    return FastTzLoader


def use_fast_timestamptz(sender, connection, **kwargs) -> None:
    """On each new PostgreSQL connection (psycopg 3): replace Django's loader.
    Django's cursor() re-registers its own only when the connection's loader
    has another `timezone`; this one has the connection's."""
    if connection.vendor != "postgresql":
        return
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    if is_psycopg3:
        connection.connection.adapters.register_loader("timestamptz", loader_for(connection.timezone))


def install() -> None:
    connection_created.connect(use_fast_timestamptz, dispatch_uid="clinic.db.fast_timestamptz")


def fetch_rows(queryset) -> list[tuple]:
    """A values_list queryset's rows, read on PostgreSQL in the binary
    format by psycopg's compiled loaders: for a read of thousands of
    timestamps (the slot finder's four weeks of bookings) about a third
    faster again than text with the loader above, and in half the time
    Django's takes. It gives what Django's gives only in a UTC session, which
    Django sets (a binary `timestamptz` gets the session's zone);
    otherwise, and on other databases, the queryset is read as usual. For
    plain columns only: the rows skip Django's per-field converters."""
    from django.db import connections

    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(queryset)
    import psycopg

    sql, params = queryset.query.sql_with_params()
    connection.ensure_connection()
    raw = connection.connection
    if (
        connection.timezone is dt.UTC
        and psycopg.pq.__impl__ != "python"
        and raw.info.parameter_status("TimeZone") in ("UTC", "Etc/UTC")
    ):
        # Django's cursors bind on the client, in text; a server-binding
        # cursor on the same connection (and transaction) reads binary,
        # wrapped as Django wraps its own (query logging and counts,
        # execute wrappers, database errors).
        reader = connection._prepare_cursor(_binary_cursor()(raw))
    else:
        reader = connection.cursor()
    with reader:
        reader.execute(sql, params)
        return reader.fetchall()


@cache
def _binary_cursor() -> type:
    import psycopg

    class BinaryCursor(psycopg.Cursor):
        """Results in binary; never a prepared statement (a connection pooler
        in transaction mode would lose it)."""

        def execute(self, query, params=None, **kwargs):
            return super().execute(query, params, prepare=False, binary=True)

    return BinaryCursor
