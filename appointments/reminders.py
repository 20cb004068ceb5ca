"""Patient emails (R13): reminder rows planned with each appointment change.

Filled in by the reminders feature; until then nothing is planned.
"""

from __future__ import annotations

import datetime as dt

from appointments.models import Appointment


def plan_for_booking(appointment: Appointment) -> None:
    return None


def plan_for_reschedule(appointment: Appointment, *, old_start: dt.datetime) -> None:
    return None


def plan_for_cancellation(appointment: Appointment) -> None:
    return None
