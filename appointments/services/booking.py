"""Booking one session: the checks every booking shares (R1–R5 through a
`Schedule`, R4's count), the insert that turns a lost race into a conflict,
and the history row each change leaves."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import hooks
from appointments.availability import Schedule
from appointments.locks import lock_plan
from appointments.models import Appointment, AppointmentChange, Device, Room, Therapist
from appointments.selectors import sessions_used
from clinic import metrics
from clinic.exceptions import SchedulingConflict
from clinic.localtime import clinic_tz, local_date, local_day_bounds, span
from clinic.models import ClinicRules
from clinic.rule_codes import TAKEN, Problem, RuleCode
from patients.models import Patient
from treatments.models import Modality, TreatmentPlan

Status = Appointment.Status


def raise_for(problems: Iterable[Problem]) -> None:
    """Turn problems into one error: 409 (SchedulingConflict) when a resource
    is taken (R1), else 400 (ValidationError) with field keys. Each message
    keeps its rule's code."""
    problems = list(problems)
    if not problems:
        return
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    for problem in problems:
        if problem.message not in (e.message for e in errors[problem.field]):
            errors[problem.field].append(problem.error())
    taken = [p for p in problems if p.code.rule == "R1"]
    if taken:
        raise SchedulingConflict(dict(errors), conflicts=[p.conflict for p in taken])
    raise ValidationError(dict(errors))


def _record(
    appointment: Appointment,
    action: str,
    user,
    *,
    old: Appointment | None = None,
    note: str = "",
    by_patient: bool = False,
) -> None:
    AppointmentChange.objects.create(
        appointment=appointment,
        changed_by=user if user is not None and user.is_authenticated else None,
        action=action,
        old_start=old.start if old else None,
        old_end=old.end if old else None,
        old_therapist_id=old.therapist_id if old else None,
        old_room_id=old.room_id if old else None,
        old_status=old.status if old else "",
        note=note[:200],
        by_patient=by_patient,
    )


def check_plan_bookable(plan: TreatmentPlan, *, adding: int = 1, used: int | None = None) -> int:
    """R4: only active plans, and within the authorized (or prescribed) count.
    Returns how many sessions may still be booked. `used`: the plan's booked
    and completed sessions when the caller read them under the plan's lock
    (a `Schedule` of the plan counts them); otherwise they are counted here."""
    check_plan_active(plan)
    if used is None:
        used = sessions_used(plan)
    remaining = plan.session_limit - used
    if adding > remaining:
        what = "authorized" if plan.sessions_authorized is not None else "prescribed"
        raise ValidationError(
            {
                "plan": ValidationError(
                    f"This plan has {plan.session_limit} {what} sessions and {used} are booked or done; "
                    f"{max(remaining, 0)} left. A new authorization is needed for more.",
                    code=RuleCode.R4_COUNT,
                )
            }
        )
    return remaining


def missing_related(field: str, pk: object) -> ValidationError:
    """No plan (or therapist) has the id sent as `field`: the API's answer,
    in DRF's words for a related id."""
    message = f'Invalid pk "{pk}" - object does not exist.'
    return ValidationError({field: ValidationError(message, code="does_not_exist")})


def _named_therapist(schedule: Schedule, therapist: Therapist | int | None) -> Therapist | None:
    """The therapist a booking names, as the schedule read it (by id, when
    the caller passed only the id)."""
    if therapist is None:
        return None
    if schedule.named_therapist is None:
        raise missing_related("therapist", therapist)
    return schedule.named_therapist


def check_plan_active(plan: TreatmentPlan) -> None:
    """R4: only active plans are booked."""
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(
            {
                "plan": ValidationError(
                    f"This plan is {plan.get_status_display().lower()}: only active plans can be booked.",
                    code=RuleCode.R4_PLAN_STATUS,
                )
            }
        )


def _clean_start(start: dt.datetime) -> dt.datetime:
    if timezone.is_naive(start):
        start = start.replace(tzinfo=clinic_tz())
    return start.replace(second=0, microsecond=0)


def _insert(appointment: Appointment) -> Appointment:
    """Save; on PostgreSQL the exclusion constraints are the last word on R1
    and a lost race becomes a clean conflict, never a 500."""
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        raise _conflict_from_integrity_error(exc, appointment) from exc
    return appointment


def _conflict_from_integrity_error(exc: IntegrityError, appointment: Appointment) -> Exception:
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    name = getattr(diag, "constraint_name", "") or ""
    if not name.startswith("appointment_no_overlap_"):
        return exc
    resource = name.removeprefix("appointment_no_overlap_")
    key = f"{resource}_id"
    clash = (
        Appointment.objects.exclude(status=Status.CANCELLED)
        .exclude(pk=appointment.pk)
        .filter(**{key: getattr(appointment, key)}, start__lt=appointment.end, end__gt=appointment.start)
        .first()
    )
    label = "The patient" if resource == "patient" else str(getattr(appointment, resource))
    if clash is not None:
        message = f"{label} is booked {span(clash.start, clash.end)}."
        times = {"start": clash.start.isoformat(), "end": clash.end.isoformat(), "appointment": clash.pk}
    else:
        message = f"{label} was booked by someone else at the same moment."
        times = {
            "start": appointment.start.isoformat(),
            "end": appointment.end.isoformat(),
            "appointment": None,
        }
    conflict = {
        "resource": resource,
        "id": getattr(appointment, key),
        "name": label,
        "message": message,
        "code": TAKEN[resource],
        **times,
    }
    return SchedulingConflict(
        {resource if resource != "patient" else "start": [ValidationError(message, code=TAKEN[resource])]},
        conflicts=[conflict],
    )


def _preferred_therapist(plan: TreatmentPlan | None, schedule: Schedule) -> Therapist | None:
    if plan is None:
        return None
    last = (
        plan.appointments.filter(status__in=Appointment.ACTIVE_STATUSES)
        .order_by("-start")
        .values_list("therapist_id", flat=True)
        .first()
    )
    return schedule.therapists.get(last) if last else None


def _choose_slot(
    schedule: Schedule,
    start: dt.datetime,
    end: dt.datetime,
    *,
    therapist: Therapist | None,
    room: Room | None,
    device: Device | None,
    fixed_therapist: bool,
) -> tuple[list[Problem], Therapist | None, Room | None, Device | None]:
    """Try the given (or the plan's usual) therapist, then, unless one was
    asked for, every other qualified therapist. Returns the first fit, or the
    problems of the first choice."""
    preferred = therapist or _preferred_therapist(schedule.plan, schedule)
    candidates = [preferred] if preferred else []
    if not fixed_therapist:
        candidates += [t for t in schedule.therapists.values() if preferred is None or t.id != preferred.id]
    if not candidates:
        return (
            [Problem(RuleCode.R3_THERAPIST, "therapist", f"No therapist gives {schedule.what}.")],
            None,
            None,
            None,
        )
    first_problems: list[Problem] | None = None
    for candidate in candidates:
        problems, chosen_room, chosen_device = schedule.slot_problems(
            start, end, therapist=candidate, room=room, device=device
        )
        if not problems:
            return [], candidate, chosen_room, chosen_device
        if first_problems is None:
            first_problems = problems
    return first_problems or [], None, None, None


@metrics.count_bookings
@transaction.atomic
def appointment_book(
    *,
    plan: TreatmentPlan | int,
    start: dt.datetime,
    therapist: Therapist | int | None = None,
    room: Room | None = None,
    device: Device | None = None,
    user=None,
) -> Appointment:
    """Book one session of a plan (R1–R5). Without a therapist, room or
    device, the first free suitable one is chosen. `therapist` may be its id:
    the schedule reads it with the rest (a missing one is a 400 on `therapist`). `plan` may be its id: it is
    read here once, locked (a missing one is a 400 on `plan`)."""
    plan_id = plan if isinstance(plan, int) else plan.pk
    try:
        plan = lock_plan(plan_id)
    except TreatmentPlan.DoesNotExist:
        raise missing_related("plan", plan_id) from None
    check_plan_active(plan)
    start = _clean_start(start)
    end = start + dt.timedelta(minutes=plan.session_minutes)
    day = local_date(start)
    # Read after the lock: the count and the rules see every booking of the plan.
    schedule = Schedule(plan=plan, date_from=day, date_to=day, therapist=therapist)
    therapist = _named_therapist(schedule, therapist)
    check_plan_bookable(plan, used=schedule.sessions_used)
    if start < timezone.now():
        raise ValidationError({"start": "This time has already passed."})
    problems, therapist, room, device = _choose_slot(
        schedule,
        start,
        end,
        therapist=therapist,
        room=room,
        device=device,
        fixed_therapist=therapist is not None,
    )
    raise_for(problems)
    appointment = _create(
        plan, user, schedule=schedule, therapist=therapist, room=room, device=device, start=start, end=end
    )
    # "k of N" as selectors.with_session_number counts it (the plan's live
    # sessions up to this one), from the rows the rules just read under the
    # plan's lock: the response needs no second read of the new row.
    appointment.session_number = 1 + sum(1 for other, _ in schedule.plan_sessions if other <= start)
    return appointment


def tap_water_problems(
    plan: TreatmentPlan,
    start: dt.datetime,
    *,
    exclude_appointment_id: int | None = None,
    rules: ClinicRules | None = None,
) -> list[Problem]:
    """R19: tap water at most once a day and 5 times a calendar week per
    patient, across the patient's tap-water plans (hands and feet count
    together: one current through the body a day)."""
    if plan is None or plan.modality != Modality.TAP_WATER:
        return []
    rules = rules or ClinicRules.current()
    day = local_date(start)
    monday = day - dt.timedelta(days=day.weekday())
    week_start, _ = local_day_bounds(monday)
    week_end, _ = local_day_bounds(monday + dt.timedelta(days=7))
    day_start, day_end = local_day_bounds(day)
    booked = Appointment.objects.filter(
        patient_id=plan.patient_id,
        plan__modality=Modality.TAP_WATER,
        status__in=Appointment.ACTIVE_STATUSES,
        start__gte=week_start,
        start__lt=week_end,
    ).exclude(pk=exclude_appointment_id)
    starts = list(booked.values_list("start", flat=True))
    problems = []
    if sum(day_start <= s < day_end for s in starts) >= rules.tap_sessions_max_per_day:
        problems.append(
            Problem(
                RuleCode.R19_TAP_DAY,
                "start",
                f"Tap water at most {rules.tap_sessions_max_per_day} a day: the patient already has one on "
                f"{day:%a %d %b}.",
            )
        )
    if len(starts) >= rules.tap_sessions_max_per_week:
        problems.append(
            Problem(
                RuleCode.R19_TAP_WEEK,
                "start",
                f"Tap water at most {rules.tap_sessions_max_per_week} times a calendar week: the week of "
                f"{monday:%d %b} is full.",
            )
        )
    return problems


@transaction.atomic
def evaluation_book(
    *,
    patient: Patient,
    start: dt.datetime,
    therapist: Therapist | int | None = None,
    room: Room | None = None,
    user=None,
) -> Appointment:
    """Book an evaluation: a visit to assess a new patient (or re-assess
    one), without a plan. R1–R3 apply (a free therapist at work, a free
    room, the patient free); R4/R5 do not, and no authorization is used."""
    if not getattr(patient, "is_active", True):  # merged records become inactive (patients/merge)
        raise ValidationError(
            {"patient": ValidationError("This patient record is inactive (merged).", code="inactive")}
        )
    start = _clean_start(start)
    if start < timezone.now():
        raise ValidationError({"start": "This time has already passed."})
    end = start + dt.timedelta(minutes=ClinicRules.current().evaluation_minutes)
    day = local_date(start)
    schedule = Schedule(plan=None, patient=patient, date_from=day, date_to=day, therapist=therapist)
    therapist = _named_therapist(schedule, therapist)
    problems, therapist, room, _ = _choose_slot(
        schedule,
        start,
        end,
        therapist=therapist,
        room=room,
        device=None,
        fixed_therapist=therapist is not None,
    )
    raise_for(problems)
    return _create(
        None,
        user,
        schedule=schedule,
        patient=patient,
        kind=Appointment.Kind.EVALUATION,
        therapist=therapist,
        room=room,
        device=None,
        start=start,
        end=end,
    )


def _create(
    plan: TreatmentPlan | None,
    user,
    *,
    note: str = "",
    patient: Patient | None = None,
    confirmation: bool = True,
    schedule: Schedule | None = None,
    **slot,
) -> Appointment:
    """Insert a checked slot, record it in the history and plan its emails.
    `schedule`: the one this single booking was checked against, read after
    the plan's lock; what it read (the clinic's rules, the plan's waitlist
    entry) serves the steps below instead of reading it again."""
    # Every booking path (one session, series, waitlist) comes through here;
    # the plan row is locked, so two bookings of one plan are serialised.
    rules = schedule.rules if schedule is not None else None
    raise_for(tap_water_problems(plan, slot["start"], rules=rules))
    appointment = _insert(
        Appointment(
            patient_id=plan.patient_id if plan is not None else patient.pk,
            plan=plan,
            created_by=user if user is not None and user.is_authenticated else None,
            **slot,
        )
    )
    _record(appointment, "booked", user, note=note)
    hooks.after_booked(appointment, confirmation=confirmation, schedule=schedule)
    return appointment
