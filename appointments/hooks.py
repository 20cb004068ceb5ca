"""Side effects of appointment changes, run after the change commits.

The patient emails (R13) hang off these three moments; each function is
called inside the service's transaction and defers its work with on_commit.
"""

from __future__ import annotations

import datetime as dt

from appointments.models import Appointment


def after_booked(appointment: Appointment) -> None:
    from appointments import reminders

    reminders.plan_for_booking(appointment)
    for hook in _AFTER_BOOKED:
        hook(appointment)  # the waitlist: an entry leaves the list once it got its slot


# Filled from AppointmentsConfig.ready() (services import this module).
_AFTER_BOOKED: list = []


def on_booked(hook) -> None:
    if hook not in _AFTER_BOOKED:
        _AFTER_BOOKED.append(hook)


def after_rescheduled(appointment: Appointment, *, old_start: dt.datetime) -> None:
    from appointments import reminders

    reminders.plan_for_reschedule(appointment, old_start=old_start)


def after_cancelled(appointment: Appointment) -> None:
    from appointments import reminders

    reminders.plan_for_cancellation(appointment)
