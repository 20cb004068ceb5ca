"""Every write to appointments, with the scheduling rules (DOMAIN.md R1–R5,
R12). Views and the API call these; nothing else changes an appointment."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import hooks
from appointments.availability import Problem, Schedule
from appointments.models import Appointment, AppointmentChange, Device, Room, Therapist, WaitlistEntry
from clinic.exceptions import IllegalTransition, SchedulingConflict
from clinic.localtime import clinic_tz, local_date, local_datetime, span
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


# -- helpers ---------------------------------------------------------------
def raise_for(problems: Iterable[Problem]) -> None:
    """Turn problems into one error: 409 (SchedulingConflict) when a resource
    is taken (R1), else 400 (ValidationError) with field keys."""
    problems = list(problems)
    if not problems:
        return
    errors: dict[str, list[str]] = defaultdict(list)
    for problem in problems:
        if problem.message not in errors[problem.field]:
            errors[problem.field].append(problem.message)
    conflicts = [p.conflict for p in problems if p.conflict]
    if conflicts:
        raise SchedulingConflict(dict(errors), conflicts=conflicts)
    raise ValidationError(dict(errors))


def _lock_plan(plan_id: int) -> TreatmentPlan:
    # Row lock on the plan: two bookings of one plan cannot both pass the R4
    # count and R5 spacing checks (SQLite serialises all writers instead).
    return TreatmentPlan.objects.select_related("patient").select_for_update(of=("self",)).get(pk=plan_id)


def _lock_appointment(appointment_id: int) -> Appointment:
    # Row lock: a cancel racing a check-in (or two reschedules) sees the other's result.
    return Appointment.objects.select_for_update().get(pk=appointment_id)


def _require(appointment: Appointment, action: str) -> None:
    if appointment.status not in TRANSITIONS[action]:
        raise IllegalTransition(
            {
                "status": (
                    f"A {appointment.get_status_display().lower()} visit cannot be {ACTION_WORDS[action]}."
                )
            }
        )


def _record(
    appointment: Appointment, action: str, user, *, old: Appointment | None = None, note: str = ""
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
    )


def check_plan_bookable(plan: TreatmentPlan, *, adding: int = 1) -> int:
    """R4: only active plans, and within the authorized (or prescribed) count.
    Returns how many sessions may still be booked."""
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(
            {"plan": f"This plan is {plan.get_status_display().lower()}: only active plans can be booked."}
        )
    used = plan.appointments.filter(status__in=Appointment.ACTIVE_STATUSES).count()
    remaining = plan.session_limit - used
    if adding > remaining:
        what = "authorized" if plan.sessions_authorized is not None else "prescribed"
        raise ValidationError(
            {
                "plan": (
                    f"This plan has {plan.session_limit} {what} sessions and {used} are booked or done; "
                    f"{max(remaining, 0)} left. A new authorization is needed for more."
                )
            }
        )
    return remaining


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
        **times,
    }
    return SchedulingConflict(
        {resource if resource != "patient" else "start": [message]}, conflicts=[conflict]
    )


def _preferred_therapist(plan: TreatmentPlan, schedule: Schedule) -> Therapist | None:
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
            [Problem("therapist", f"No therapist gives {schedule.plan.get_modality_display().lower()}.")],
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


# -- booking ---------------------------------------------------------------
@transaction.atomic
def appointment_book(
    *,
    plan: TreatmentPlan,
    start: dt.datetime,
    therapist: Therapist | None = None,
    room: Room | None = None,
    device: Device | None = None,
    user=None,
) -> Appointment:
    """Book one session of a plan (R1–R5). Without a therapist, room or
    device, the first free suitable one is chosen."""
    plan = _lock_plan(plan.pk)
    check_plan_bookable(plan)
    start = _clean_start(start)
    if start < timezone.now():
        raise ValidationError({"start": "This time has already passed."})
    end = start + dt.timedelta(minutes=plan.session_minutes)
    day = local_date(start)
    schedule = Schedule(plan=plan, date_from=day, date_to=day)
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
    return _create(plan, user, therapist=therapist, room=room, device=device, start=start, end=end)


def _create(plan: TreatmentPlan, user, *, note: str = "", **slot) -> Appointment:
    """Insert a checked slot, record it in the history and plan its emails."""
    appointment = _insert(
        Appointment(
            patient_id=plan.patient_id,
            plan=plan,
            created_by=user if user is not None and user.is_authenticated else None,
            **slot,
        )
    )
    _record(appointment, "booked", user, note=note)
    hooks.after_booked(appointment)
    return appointment


@dataclass
class Occurrence:
    number: int  # session number within the plan ("k of N")
    start: dt.datetime
    end: dt.datetime
    therapist: Therapist | None = None
    room: Room | None = None
    device: Device | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        return " ".join(p.message for p in self.problems)


@dataclass
class SeriesPreview:
    plan: TreatmentPlan
    occurrences: list[Occurrence]
    total: int

    @property
    def ok(self) -> bool:
        return bool(self.occurrences) and all(o.ok for o in self.occurrences)

    @property
    def failures(self) -> list[Occurrence]:
        return [o for o in self.occurrences if not o.ok]


def _series_dates(plan: TreatmentPlan, schedule: Schedule, first: dt.date, at: dt.time, count: int):
    """Yield the local dates of the series: spread evenly over the week
    (frequency_per_week), never closer than the plan's minimum interval, and
    moved forward past days when the clinic is closed or no one works at that
    time. Wall-clock time stays the same across DST changes."""
    min_days = math.ceil(plan.min_interval_hours / 24)
    previous: dt.date | None = None
    for i in range(count):
        ideal = first + dt.timedelta(days=math.floor(i * 7 / plan.frequency_per_week + 0.5))
        day = ideal if previous is None else max(ideal, previous + dt.timedelta(days=min_days))
        for _ in range(14):
            start = local_datetime(day, at)
            end = start + dt.timedelta(minutes=plan.session_minutes)
            someone_works = any(
                any(
                    w_start <= start and end <= w_end for w_start, w_end in schedule.available_windows(t, day)
                )
                for t in schedule.therapists
            )
            if someone_works and not [p for p in schedule.plan_problems(start) if "a week" in p.message]:
                break
            day += dt.timedelta(days=1)
        previous = day
        yield day


def series_preview(
    *, plan: TreatmentPlan, start: dt.datetime, therapist: Therapist | None = None
) -> SeriesPreview:
    """Place every remaining session of the plan, without writing anything."""
    remaining = check_plan_bookable(plan, adding=1)
    start = _clean_start(start)
    if start < timezone.now():
        raise ValidationError({"start": "The first session cannot be in the past."})
    local_start = start.astimezone(clinic_tz())
    done = plan.session_limit - remaining
    weeks = math.ceil(remaining / plan.frequency_per_week) + 3
    schedule = Schedule(
        plan=plan, date_from=local_start.date(), date_to=local_start.date() + dt.timedelta(weeks=weeks)
    )
    if therapist is not None and therapist.id not in schedule.therapists:
        raise ValidationError(
            {"therapist": f"{therapist} does not give {plan.get_modality_display().lower()}."}
        )
    therapist = therapist or _preferred_therapist(plan, schedule)
    occurrences = []
    for i, day in enumerate(_series_dates(plan, schedule, local_start.date(), local_start.time(), remaining)):
        occ_start = local_datetime(day, local_start.time())
        occ_end = occ_start + dt.timedelta(minutes=plan.session_minutes)
        problems, chosen, room, device = _choose_slot(
            schedule, occ_start, occ_end, therapist=therapist, room=None, device=None, fixed_therapist=False
        )
        occurrence = Occurrence(done + i + 1, occ_start, occ_end, chosen, room, device, problems)
        if occurrence.ok:
            schedule.hold(occ_start, occ_end, therapist=chosen, room=room, device=device)
            therapist = therapist or chosen  # keep the same therapist where possible
        occurrences.append(occurrence)
    return SeriesPreview(plan=plan, occurrences=occurrences, total=plan.session_limit)


@transaction.atomic
def series_book(
    *,
    plan: TreatmentPlan,
    start: dt.datetime,
    therapist: Therapist | None = None,
    user=None,
    allow_partial: bool = False,
) -> list[Appointment]:
    """Book all remaining sessions of a plan in one step. All-or-nothing by
    default: if an occurrence cannot be placed, nothing is booked and the
    error names each such date and why."""
    plan = _lock_plan(plan.pk)
    preview = series_preview(plan=plan, start=start, therapist=therapist)
    if preview.failures and not allow_partial:
        conflicts = [
            {
                "session_number": o.number,
                "date": local_date(o.start).isoformat(),
                "start": o.start.isoformat(),
                "end": o.end.isoformat(),
                "reason": o.reason,
                "conflicts": [p.conflict for p in o.problems if p.conflict],
            }
            for o in preview.failures
        ]
        messages = [
            f"Session {o.number} on {local_date(o.start):%a %d %b %Y}: {o.reason}" for o in preview.failures
        ]
        raise SchedulingConflict({"start": messages}, conflicts=conflicts)
    booked = []
    for occurrence in preview.occurrences:
        if not occurrence.ok:
            continue
        booked.append(
            _create(
                plan,
                user,
                note="series",
                therapist=occurrence.therapist,
                room=occurrence.room,
                device=occurrence.device,
                start=occurrence.start,
                end=occurrence.end,
            )
        )
    return booked


# -- changes ---------------------------------------------------------------
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
    plan = _lock_plan(appointment.plan_id)
    appointment = _lock_appointment(appointment.pk)
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
    appointment = _lock_appointment(appointment.pk)
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
    appointment = _lock_appointment(appointment.pk)
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
    appointment = _lock_appointment(appointment.pk)
    _require(appointment, "check_in")
    now = now or timezone.now()
    if local_date(appointment.start) != local_date(now):
        raise IllegalTransition({"status": "A patient can be checked in only on the day of the visit."})
    return _transition(appointment, "checked_in", user, status=Status.CHECKED_IN, checked_in_at=now)


@transaction.atomic
def appointment_no_show(
    *, appointment: Appointment, user=None, now: dt.datetime | None = None
) -> Appointment:
    appointment = _lock_appointment(appointment.pk)
    _require(appointment, "no_show")
    now = now or timezone.now()
    if now < appointment.start:
        raise IllegalTransition({"status": "A visit can be marked as a no-show only after its start time."})
    return _transition(appointment, "no_show", user, status=Status.NO_SHOW, no_show_at=now)


@transaction.atomic
def appointment_complete(
    *, appointment: Appointment, user=None, now: dt.datetime | None = None
) -> Appointment:
    """Completed when the session note is signed (treatments.notes calls this)."""
    appointment = _lock_appointment(appointment.pk)
    _require(appointment, "complete")
    now = now or timezone.now()
    if local_date(appointment.start) > local_date(now):
        raise IllegalTransition({"status": "A visit cannot be completed before its day."})
    return _transition(
        appointment, "completed", user, status=Status.COMPLETED, completed_at=now or timezone.now()
    )


# -- waitlist ----------------------------------------------------------------
@transaction.atomic
def waitlist_add(
    *,
    plan: TreatmentPlan,
    preferred_weekdays: list[int] | None = None,
    preferred_time_from: dt.time | None = None,
    preferred_time_to: dt.time | None = None,
    earliest_date: dt.date | None = None,
    latest_date: dt.date | None = None,
    notes: str = "",
) -> WaitlistEntry:
    if preferred_time_from and preferred_time_to and preferred_time_to <= preferred_time_from:
        raise ValidationError({"preferred_time_to": "The end of the window must be after its start."})
    if earliest_date and latest_date and latest_date < earliest_date:
        raise ValidationError({"latest_date": "The latest date must be on or after the earliest date."})
    if plan.status not in (TreatmentPlan.Status.ACTIVE, TreatmentPlan.Status.DRAFT):
        raise ValidationError({"plan": "Only draft or active plans can wait for a slot."})
    return WaitlistEntry.objects.create(
        patient_id=plan.patient_id,
        plan=plan,
        preferred_weekdays=sorted(set(preferred_weekdays or [])),
        preferred_time_from=preferred_time_from,
        preferred_time_to=preferred_time_to,
        earliest_date=earliest_date,
        latest_date=latest_date,
        notes=notes,
    )


@transaction.atomic
def waitlist_remove(*, entry: WaitlistEntry) -> WaitlistEntry:
    entry.is_active = False
    entry.save(update_fields=["is_active", "updated_at"])
    return entry
