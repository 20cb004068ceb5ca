"""clinic/db.py: PostgreSQL timestamps read by the fast loader are exactly
what Django's own loader gives (the slot finder, the calendar and every list
read their times through it)."""

import datetime as dt

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import DataError, connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.adapt import PyFormat

from clinic import db

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

VALUES = [
    "2026-12-07 14:30:00+00",
    "2026-12-07 14:30:00.5+00",
    "2026-12-07 14:30:00.123456+00",
    "2026-03-08 06:59:59.999999+00",  # the minute before the US spring change, in UTC
    "2026-11-01 05:30:00-04",  # an offset other than the connection's
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def _read(sql_values):
    with connection.cursor() as cursor:
        cursor.execute("SELECT v::timestamptz FROM unnest(%s::text[]) AS v", [sql_values])
        return [row[0] for row in cursor.fetchall()]


def test_every_new_connection_reads_timestamps_with_the_fast_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(
        psycopg.adapters.types["timestamptz"].oid, PyFormat.as_pq(PyFormat.TEXT)
    )
    assert loader is db.loader_for(connection.timezone)
    assert loader.timezone == connection.timezone == dt.UTC


def test_the_fast_loader_reads_what_djangos_reads():
    fast = _read(VALUES)
    register_tzloader(connection.timezone, connection.connection)  # Django's own, for this connection
    try:
        django = _read(VALUES)
    finally:
        db.use_fast_timestamptz(None, connection)
    assert fast == django
    assert [v.tzinfo for v in fast] == [dt.UTC] * len(VALUES)
    assert fast[1].microsecond == 500000 and fast[4] == dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)


def test_what_python_cannot_read_is_refused_as_psycopg_refuses_it():
    with pytest.raises(DataError, match="before year 1"), connection.cursor() as cursor:
        cursor.execute("SELECT '0044-03-15 12:00:00+00 BC'::timestamptz")
        cursor.fetchall()


def test_a_model_reads_back_its_time_to_the_microsecond():
    moment = dt.datetime(2026, 12, 7, 9, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    user = get_user_model().objects.create(username="clock", last_login=moment)
    again = get_user_model().objects.get(pk=user.pk)
    assert again.last_login == moment and again.last_login.tzinfo is dt.UTC


def test_fetch_rows_reads_what_the_queryset_reads_with_utc_times(django_assert_num_queries):
    """The slot finder's bookings come through fetch_rows (psycopg's compiled
    loader): the same tuples as the queryset's own, times in UTC."""
    User = get_user_model()
    moments = [
        dt.datetime(2026, 12, 7, 9, 30, 0, 123456, tzinfo=dt.UTC),
        dt.datetime(2027, 3, 14, 6, 59, tzinfo=dt.UTC),
    ]
    for i, moment in enumerate(moments):
        User.objects.create(username=f"u{i}", last_login=moment, date_joined=moment)
    queryset = (
        User.objects.filter(username__startswith="u")
        .order_by("pk")
        .values_list("pk", "last_login", "username")
    )
    with django_assert_num_queries(1):  # counted like any query (query budgets see it)
        rows = db.fetch_rows(queryset)
    assert rows == list(queryset) and [r[1] for r in rows] == moments
    assert rows[0][2] == "u0" and isinstance(rows[0][0], int)
    assert {r[1].tzinfo for r in rows} == {dt.UTC}
