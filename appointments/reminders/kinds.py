"""Messages that layers above scheduling put in the outbox.

The outbox (Reminder rows), the sweep and the mail backend live here, but
some messages are about things this layer cannot see: the home program
(`homecare`, which sits above notes) sends its patients their logging link
and recalls when they go quiet. That app registers, from its AppConfig's
`ready()`, how to re-check such a row before it goes out and what its
templates need; the sweep and `content` only call the registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from appointments.models import Reminder

# kind → check(reminder, now) returning why the row must not go out (it is
# voided with that reason), or "" to send it.
_CHECKS: dict[str, Callable[[Reminder, dt.datetime], str]] = {}
# Each adds to the template context of every message (most return nothing):
# e.g. the intake link in the confirmation of a patient's first visit.
_CONTEXT: list[Callable[[Reminder, dict], None]] = []
# Each reads, once for a sweep's batch, what its context adds to many of the
# batch's messages (setting it on the rows), instead of once per message.
_BATCH: list[Callable[[Sequence[Reminder]], None]] = []


def register_kind(kind: str, check: Callable[[Reminder, dt.datetime], str]) -> None:
    _CHECKS[kind] = check


def register_context(extend: Callable[[Reminder, dict], None]) -> None:
    if extend not in _CONTEXT:
        _CONTEXT.append(extend)


def register_batch(prepare: Callable[[Sequence[Reminder]], None]) -> None:
    if prepare not in _BATCH:
        _BATCH.append(prepare)


def prepare_batch(reminders: Sequence[Reminder]) -> None:
    for prepare in _BATCH:
        prepare(reminders)


def why_not(reminder: Reminder, *, now: dt.datetime) -> str:
    check = _CHECKS.get(reminder.kind)
    return check(reminder, now) if check else ""


def extend_context(reminder: Reminder, context: dict) -> None:
    for extend in _CONTEXT:
        extend(reminder, context)
