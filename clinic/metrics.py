"""Prometheus metrics: counters the apps call, and `/metrics` to read them.

Counters (prometheus-client) live in the process that counts: bookings in
the web processes, sweeps and emails in the Celery workers. With several
gunicorn workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory per
host (cleared at start) and every worker's counts are summed; without it,
each process reports its own. What every host shares, the database, is read
at scrape time by collectors the apps register (`register_collector`): the
reminder outbox by status and the age of the oldest due message, which is
what says "reminders are stuck" whichever worker host is down.

`/metrics` answers only with `Authorization: Bearer <METRICS_TOKEN>` (404
while METRICS_TOKEN is unset, 403 for a wrong token). Its values are
counts and seconds: no names, no clinical text.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import DatabaseError
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from clinic.exceptions import SchedulingConflict

BOOKINGS = Counter(
    "phoresis_bookings",
    "Session bookings by outcome (booked, conflict: slot taken, refused: a rule).",
    ["outcome"],
)
SWEEPS = Counter("phoresis_reminder_sweeps", "Reminder sweeps run.")
SWEEP_SECONDS = Histogram(
    "phoresis_reminder_sweep_seconds",
    "How long one reminder sweep took.",
    buckets=(0.1, 0.5, 1, 5, 15, 30, 60),
)
EMAILS = Counter(
    "phoresis_emails",
    "Reminder emails by result (sent, retried, failed, void, skipped, unconfirmed).",
    ["result"],
)
EMAIL_RESULTS = ("sent", "retried", "failed", "void", "skipped", "unconfirmed")

logger = logging.getLogger(__name__)
_collectors: list[Callable[[], Iterable[Metric]]] = []


def register_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """A higher app adds metrics read at scrape time (AppConfig.ready)."""
    if collect not in _collectors:
        _collectors.append(collect)


def count_bookings(book: Callable) -> Callable:
    """Wrap a booking service: counts its outcome by the exception it raises."""

    @functools.wraps(book)
    def counted(*args, **kwargs):
        try:
            result = book(*args, **kwargs)
        except SchedulingConflict:
            BOOKINGS.labels("conflict").inc()
            raise
        except ValidationError:
            BOOKINGS.labels("refused").inc()
            raise
        BOOKINGS.labels("booked").inc()
        return result

    return counted


def sweep_done(*, seconds: float, outcome: dict) -> None:
    SWEEPS.inc()
    SWEEP_SECONDS.observe(seconds)
    emails_done(outcome)


def emails_done(outcome: dict) -> None:
    for result in EMAIL_RESULTS:
        if outcome.get(result):
            EMAILS.labels(result).inc(outcome[result])


class _Registered:
    def collect(self):
        for collect in _collectors:
            try:
                # Materialised here: a database that is down costs these
                # figures, not the process counters (nor a 500).
                yield from list(collect())
            except DatabaseError:
                logger.warning(
                    "metrics: a collector in %s is unavailable (database error)", collect.__module__
                )


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    scrape = CollectorRegistry()
    scrape.register(_Registered())
    return generate_latest(registry) + generate_latest(scrape)


def token_ok(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and bool(given) and secrets.compare_digest(given.strip(), token)
