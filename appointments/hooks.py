"""Side effects of appointment changes, run after the change commits.

The patient emails (R13) hang off these three moments; each function is
called inside the service's transaction and defers its work with on_commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from appointments.models import Appointment

# Other scheduling services that react to a booking (the waitlist lets an
# entry go once it got its slot). Registered from AppointmentsConfig.ready():
# they import the booking service, so importing them here would be a cycle.
# Called as hook(appointment, schedule=...): see after_booked.
_ON_BOOKED: list[Callable[..., None]] = []


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


def on_booked(hook: Callable[..., None]) -> None:
    if hook not in _ON_BOOKED:
        _ON_BOOKED.append(hook)


def after_booked(appointment: Appointment, *, confirmation: bool = True, schedule=None) -> None:
    """`confirmation=False` for the visits of a series: one email lists them
    all (after_series_booked); each still gets its own reminders. `schedule`:
    the availability.Schedule a single booking was checked against, read
    after the plan's lock (its clinic rules and the plan's waitlist entries
    spare the hooks a read), or None."""
    from appointments import reminders

    # Called right after the insert (booking._create): the visit is new.
    rules = schedule.rules if schedule is not None else None
    reminders.plan_for_booking(appointment, confirmation=confirmation, new=True, rules=rules)
    for hook in _ON_BOOKED:
        hook(appointment, schedule=schedule)


def after_series_booked(appointments: list[Appointment]) -> None:
    from appointments import reminders

    reminders.plan_for_series(appointments)


def after_rescheduled(appointment: Appointment, *, old_start: dt.datetime) -> None:
    from appointments import reminders

    reminders.plan_for_reschedule(appointment, old_start=old_start)


def after_cancelled(appointment: Appointment) -> None:
    from appointments import reminders

    reminders.plan_for_cancellation(appointment)
