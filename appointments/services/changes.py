"""Changes to a booked visit: reschedule, cancel (R12), confirm, check in,
no-show, complete — each allowed only from the statuses listed in
TRANSITIONS (the appointment state machine)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appointments import hooks
from appointments.availability import Schedule
from appointments.locks import lock_appointment, lock_visit
from appointments.models import Appointment, Room, Therapist
from appointments.services.booking import _clean_start, _insert, _record, raise_for
from clinic.exceptions import IllegalTransition
from clinic.localtime import local_date
from clinic.models import ClinicRules
from treatments.models import TreatmentPlan

Status = Appointment.Status


# Which statuses each action may start from (the appointment state machine).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "cancel": (Status.SCHEDULED, Status.CONFIRMED, Status.CHECKED_IN),
    "reschedule": (Status.SCHEDULED, Status.CONFIRMED),
    "confirm": (Status.SCHEDULED, Status.CONFIRMED),
    "check_in": (Status.SCHEDULED, Status.CONFIRMED),
    "no_show": (Status.SCHEDULED, Status.CONFIRMED),
    # Signing the note completes the visit, even if nobody checked the patient in.
    "complete": (Status.SCHEDULED, Status.CONFIRMED, Status.CHECKED_IN),
}
ACTION_WORDS = {
    "cancel": "cancelled",
    "reschedule": "rescheduled",
    "confirm": "confirmed",
    "check_in": "checked in",
    "no_show": "marked as a no-show",
    "complete": "completed",
}


def _require(appointment: Appointment, action: str) -> None:
    if appointment.status not in TRANSITIONS[action]:
        raise IllegalTransition(
            {
                "status": (
                    f"A {appointment.get_status_display().lower()} visit cannot be {ACTION_WORDS[action]}."
                )
            }
        )


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    start: dt.datetime,
    therapist: Therapist | None = None,
    room: Room | None = None,
    user=None,
) -> Appointment:
    """Move a visit; the old slot is kept in its history. The therapist stays
    unless another is given; room and device stay when still free."""
    appointment, plan = lock_visit(appointment.pk)
    _require(appointment, "reschedule")
    start = _clean_start(start)
    if start < timezone.now():
        raise ValidationError({"start": "This time has already passed."})
    end = start + (appointment.end - appointment.start)
    day = local_date(start)
    schedule = Schedule(plan=plan, date_from=day, date_to=day, exclude_appointment_id=appointment.pk)
    therapist = therapist or appointment.therapist
    wanted_room = room or appointment.room
    if room is None and schedule.room_problems(wanted_room, start, end):
        wanted_room = None  # the old room is taken then: any suitable free room will do
    device = appointment.device
    if device is not None and schedule.device_problems(device, start, end):
        device = None
    problems, new_room, new_device = schedule.slot_problems(
        start, end, therapist=therapist, room=wanted_room, device=device
    )
    raise_for(problems)
    old = Appointment(
        start=appointment.start,
        end=appointment.end,
        therapist_id=appointment.therapist_id,
        room_id=appointment.room_id,
        status=appointment.status,
    )
    appointment.start, appointment.end = start, end
    appointment.therapist, appointment.room, appointment.device = therapist, new_room, new_device
    appointment.status = Status.SCHEDULED
    appointment.confirmed_at = None
    appointment.sequence += 1
    _insert(appointment)
    _record(appointment, "rescheduled", user, old=old)
    hooks.after_rescheduled(appointment, old_start=old.start)
    return appointment


@transaction.atomic
def appointment_cancel(
    *,
    appointment: Appointment,
    reason: str,
    user=None,
    now: dt.datetime | None = None,
    by_clinic: bool = False,
) -> Appointment:
    """Cancel with a reason. Less than the clinic's notice (24 h) before the
    start is a late cancellation (R12), counted per patient — unless the
    clinic cancelled (`by_clinic`)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the visit is cancelled."})
    appointment = lock_appointment(appointment.pk)
    _require(appointment, "cancel")
    now = now or timezone.now()
    notice = dt.timedelta(hours=ClinicRules.current().late_cancel_hours)
    old_status = appointment.status
    appointment.status = Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason[:200]
    appointment.late_cancellation = not by_clinic and appointment.start - now < notice
    appointment.sequence += 1
    appointment.save()
    _record(appointment, "cancelled", user, old=Appointment(status=old_status), note=reason)
    hooks.after_cancelled(appointment)
    hooks.visit_voided(appointment, user=user)
    return appointment


@transaction.atomic
def appointments_cancel_upcoming(*, plan: TreatmentPlan, reason: str, user=None) -> list[Appointment]:
    """Cancel a plan's future visits (the plan was completed or cancelled)."""
    upcoming = plan.appointments.filter(status__in=Appointment.UPCOMING_STATUSES, start__gt=timezone.now())
    return [
        appointment_cancel(appointment=appointment, reason=reason, user=user, by_clinic=True)
        for appointment in upcoming.order_by("start")
    ]


def _transition(appointment: Appointment, action: str, user, **changes) -> Appointment:
    old_status = appointment.status
    for name, value in changes.items():
        setattr(appointment, name, value)
    appointment.save()
    _record(appointment, action, user, old=Appointment(status=old_status))
    return appointment


@transaction.atomic
def appointment_confirm(
    *, appointment: Appointment, user=None, now: dt.datetime | None = None
) -> Appointment:
    appointment = lock_appointment(appointment.pk)
    _require(appointment, "confirm")
    if appointment.status == Status.CONFIRMED:
        return appointment  # idempotent: a patient may click the link twice
    return _transition(
        appointment, "confirmed", user, status=Status.CONFIRMED, confirmed_at=now or timezone.now()
    )


@transaction.atomic
def appointment_check_in(
    *, appointment: Appointment, user=None, now: dt.datetime | None = None
) -> Appointment:
    appointment = lock_appointment(appointment.pk)
    _require(appointment, "check_in")
    now = now or timezone.now()
    if local_date(appointment.start) != local_date(now):
        raise IllegalTransition({"status": "A patient can be checked in only on the day of the visit."})
    return _transition(appointment, "checked_in", user, status=Status.CHECKED_IN, checked_in_at=now)


@transaction.atomic
def appointment_no_show(
    *, appointment: Appointment, user=None, now: dt.datetime | None = None
) -> Appointment:
    appointment = lock_appointment(appointment.pk)
    _require(appointment, "no_show")
    now = now or timezone.now()
    if now < appointment.start:
        raise IllegalTransition({"status": "A visit can be marked as a no-show only after its start time."})
    appointment = _transition(appointment, "no_show", user, status=Status.NO_SHOW, no_show_at=now)
    hooks.visit_voided(appointment, user=user)
    return appointment


@transaction.atomic
def appointment_complete(
    *, appointment: Appointment, user=None, now: dt.datetime | None = None
) -> Appointment:
    """Completed when the session note is signed (notes.services calls this)."""
    appointment = lock_appointment(appointment.pk)
    _require(appointment, "complete")
    now = now or timezone.now()
    if local_date(appointment.start) > local_date(now):
        raise IllegalTransition({"status": "A visit cannot be completed before its day."})
    return _transition(
        appointment, "completed", user, status=Status.COMPLETED, completed_at=now or timezone.now()
    )
