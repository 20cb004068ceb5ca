"""Side effects of appointment changes, run after the change commits.

The patient emails (R13) hang off these three moments; each function is
called inside the service's transaction and defers its work with on_commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from appointments.models import Appointment

# Layers above scheduling (supplies) react to a visit that will not happen:
# registered from their AppConfig.ready(), run inside the same transaction.
_ON_VOIDED: list[Callable[..., None]] = []


def on_visit_voided(hook: Callable[..., None]) -> Callable[..., None]:
    """Register `hook(appointment=, user=)`, run when a visit is cancelled or marked a no-show."""
    if hook not in _ON_VOIDED:
        _ON_VOIDED.append(hook)
    return hook


def visit_voided(appointment: Appointment, *, user=None) -> None:
    for hook in _ON_VOIDED:
        hook(appointment=appointment, user=user)


def after_booked(appointment: Appointment) -> None:
    from appointments import reminders

    reminders.plan_for_booking(appointment)


def after_rescheduled(appointment: Appointment, *, old_start: dt.datetime) -> None:
    from appointments import reminders

    reminders.plan_for_reschedule(appointment, old_start=old_start)


def after_cancelled(appointment: Appointment) -> None:
    from appointments import reminders

    reminders.plan_for_cancellation(appointment)
