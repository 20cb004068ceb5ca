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
    from appointments.services.waitlist import waitlist_after_booked

    waitlist_after_booked(appointment)  # the entry leaves the list once it got its slot


def after_rescheduled(appointment: Appointment, *, old_start: dt.datetime) -> None:
    from appointments import reminders

    reminders.plan_for_reschedule(appointment, old_start=old_start)


def after_cancelled(appointment: Appointment) -> None:
    from appointments import reminders

    reminders.plan_for_cancellation(appointment)
