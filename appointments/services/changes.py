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
from appointments.holds import refuse_on_hold
from appointments.locks import lock_appointment, lock_visit
from appointments.models import Appointment, Room, Therapist
from appointments.services.booking import _clean_start, _insert, _record, raise_for, tap_water_problems
from clinic.exceptions import IllegalTransition
from clinic.localtime import local_date
from clinic.models import ClinicRules
from clinic.rule_codes import RuleCode
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
    by_patient: bool = False,
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
    # An evaluation (no plan) is judged on R1–R3 only.
    schedule = Schedule(
        plan=plan,
        patient=appointment.patient,
        date_from=day,
        date_to=day,
        exclude_appointment_id=appointment.pk,
    )
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
    raise_for(tap_water_problems(plan, start, exclude_appointment_id=appointment.pk))  # R19
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
    _record(appointment, "rescheduled", user, old=old, by_patient=by_patient)
    hooks.after_rescheduled(appointment, old_start=old.start)
    return appointment


def cancel_would_be_late(appointment: Appointment, *, now: dt.datetime | None = None) -> bool:
    """R12: cancelling a scheduled or confirmed visit less than the clinic's
    notice (24 h) before its start is late. A visit already checked in (the
    patient came) never counts as a late cancellation."""
    if appointment.status not in Appointment.UPCOMING_STATUSES:
        return False
    notice = dt.timedelta(hours=ClinicRules.current().late_cancel_hours)
    return appointment.start - (now or timezone.now()) < notice


@transaction.atomic
def appointment_cancel(
    *,
    appointment: Appointment,
    reason: str,
    user=None,
    now: dt.datetime | None = None,
    by_clinic: bool = False,
    by_patient: bool = False,
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
    late = not by_clinic and cancel_would_be_late(appointment, now=now)
    old_status = appointment.status
    appointment.status = Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason[:200]
    appointment.late_cancellation = late
    appointment.sequence += 1
    appointment.save()
    _record(
        appointment, "cancelled", user, old=Appointment(status=old_status), note=reason, by_patient=by_patient
    )
    hooks.after_cancelled(appointment)
    hooks.visit_voided(appointment, user=user)
    return appointment


@transaction.atomic
def appointment_reschedule_by_patient(
    *,
    appointment: Appointment,
    start: dt.datetime,
    therapist: Therapist | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """The patient moves their own visit from the email link: only while it
    is outside the late-cancellation window (R12), only to a time outside it,
    only on an active plan; every booking rule is the reschedule's."""
    now = now or timezone.now()
    # Lock order appointment → plan (appointments/locks.py); the reschedule
    # below takes the same locks again in the same order.
    appointment = lock_appointment(appointment.pk)
    hours = ClinicRules.current().late_cancel_hours
    window = dt.timedelta(hours=hours)
    if appointment.plan_id is None or appointment.plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(
            {
                "start": ValidationError(
                    "This visit cannot be moved online; please call us.", code=RuleCode.R4_PLAN_STATUS
                )
            }
        )
    if appointment.start - now < window:
        raise ValidationError(
            {
                "start": ValidationError(
                    f"Your appointment is less than {hours} hours away, so it can no longer be moved online; "
                    "please call us.",
                    code=RuleCode.R12_PATIENT_WINDOW,
                )
            }
        )
    if start - now < window:
        raise ValidationError(
            {
                "start": ValidationError(
                    f"Please choose a time at least {hours} hours from now.", code=RuleCode.R12_PATIENT_WINDOW
                )
            }
        )
    return appointment_reschedule(appointment=appointment, start=start, therapist=therapist, by_patient=True)


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
    # The visit, then its plan (lock order): a hold racing the check-in is seen.
    appointment, plan = lock_visit(appointment.pk)
    _require(appointment, "check_in")
    refuse_on_hold(appointment=appointment, plan=plan)  # R16
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
