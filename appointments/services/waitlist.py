"""The waitlist: patients waiting for a slot to free up.

A match is a slot the entry's plan could really be booked into: every
booking rule (R1–R5, R22 through the same `Schedule` as booking; R4's count)
and no other visit of the patient that day. One entry per active plan; an
entry leaves the list when its plan is fully booked, completed or
cancelled, or the patient is booked into a slot the entry wanted."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.availability import Schedule
from appointments.locks import lock_plan
from appointments.models import Appointment, Therapist, WaitlistEntry
from appointments.selectors import entry_fits, slots_free
from appointments.services.booking import _choose_slot, check_plan_bookable
from clinic.localtime import local_date, local_day_bounds
from clinic.rule_codes import Problem
from treatments.models import TreatmentPlan

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


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
    # The plan row lock serialises two adds for the same plan (one entry per plan).
    plan = lock_plan(plan.pk)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(
            {"plan": "Only an active plan can wait for a slot: a draft is activated first."}
        )
    existing = WaitlistEntry.objects.filter(plan=plan, is_active=True).first()
    if existing is not None:
        raise ValidationError(
            {
                "plan": f"This plan is already on the waitlist (since {existing.created_at:%d %b %Y}): "
                f"remove that entry first to change it."
            }
        )
    try:
        remaining = check_plan_bookable(plan)
    except ValidationError as exc:
        raise ValidationError({"plan": exc.messages}) from exc
    if remaining <= 0:
        raise ValidationError({"plan": "Every session of this plan is booked."})
    try:
        with transaction.atomic():
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
    except IntegrityError as exc:  # the unique index: a concurrent add won
        raise ValidationError({"plan": "This plan is already on the waitlist."}) from exc


@transaction.atomic
def waitlist_remove(*, entry: WaitlistEntry) -> WaitlistEntry:
    entry.is_active = False
    entry.save(update_fields=["is_active", "updated_at"])
    return entry


def match_problems(
    entry: WaitlistEntry,
    start: dt.datetime,
    *,
    therapist: Therapist | None = None,
    schedule: Schedule | None = None,
) -> list[Problem] | list[str]:
    """Why the entry's plan could not be booked at `start` (empty: it can),
    with the same checks as booking. Reads only; locks nothing."""
    plan = entry.plan
    try:
        check_plan_bookable(plan)
    except ValidationError as exc:
        return list(exc.messages)
    day = local_date(start)
    day_start, day_end = local_day_bounds(day)
    same_day = Appointment.objects.filter(patient_id=plan.patient_id, start__gte=day_start, start__lt=day_end)
    if same_day.exclude(status=Appointment.Status.CANCELLED).exists():
        return ["The patient already has a visit that day."]
    end = start + dt.timedelta(minutes=plan.session_minutes)
    schedule = schedule or Schedule(plan=plan, date_from=day, date_to=day)
    problems, *_ = _choose_slot(
        schedule,
        start,
        end,
        therapist=therapist,
        room=None,
        device=None,
        fixed_therapist=therapist is not None,
    )
    return problems


def entry_bookable(entry: WaitlistEntry, start: dt.datetime, *, therapist: Therapist | None = None) -> bool:
    return not match_problems(entry, start, therapist=therapist)


def waitlist_after_booked(appointment: Appointment, *, schedule=None) -> None:
    """An entry leaves the list once its plan is fully booked or the patient
    was booked into a slot the entry asked for. Called in the booking's
    transaction; `schedule`, when given, was read under the plan's lock,
    which waitlist_add takes too, so its entries are the plan's active ones."""
    if appointment.plan_id is None:
        return  # an evaluation: no plan, no entry
    if schedule is not None and schedule.plan is not None and schedule.plan.id == appointment.plan_id:
        entries = schedule.waitlist_entries
    else:
        entries = list(
            WaitlistEntry.objects.filter(plan_id=appointment.plan_id, is_active=True).select_related("plan")
        )
    if not entries:
        return
    try:
        remaining = check_plan_bookable(appointment.plan)
    except ValidationError:
        remaining = 0
    for entry in entries:
        if remaining <= 0 or entry_fits(entry, appointment.start, appointment.end, entry.plan.modality):
            waitlist_remove(entry=entry)


def waitlist_close_for_plan(*, plan: TreatmentPlan, **_: object) -> None:
    """A completed or cancelled plan waits for nothing (treatments.hooks)."""
    WaitlistEntry.objects.filter(plan=plan, is_active=True).update(is_active=False)


def waitlist_entry_matches(entry: WaitlistEntry, *, days: int = 14, limit: int = 50, now=None) -> list:
    """Free slots the entry's plan could be booked into: the slot finder's
    (R1–R5, R22 through `Schedule`), inside the entry's days and window, on
    days the patient has no other visit, while R4 leaves a session to book."""
    now = now or timezone.now()
    plan = entry.plan
    try:
        check_plan_bookable(plan)
    except ValidationError:
        return []
    first = max(local_date(now), entry.earliest_date or local_date(now))
    last = first + dt.timedelta(days=days)
    if entry.latest_date:
        last = min(last, entry.latest_date)
    if last < first:
        return []
    busy_days = {
        local_date(start)
        for start in Appointment.objects.filter(
            patient_id=plan.patient_id,
            start__gte=local_day_bounds(first)[0],
            start__lt=local_day_bounds(last)[1],
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .values_list("start", flat=True)
    }
    found = []
    for slot in slots_free(plan=plan, date_from=first, date_to=last, limit=None, now=now):
        if local_date(slot.start) in busy_days or not entry_fits(entry, slot.start, slot.end, plan.modality):
            continue
        found.append(slot)
        if len(found) >= limit:
            break
    return found


@transaction.atomic
def waitlist_offer(*, entry: WaitlistEntry, start: dt.datetime, therapist: Therapist | None = None):
    """Email the waiting patient a freed slot with a signed link to take it.
    Offered only if the plan could be booked there now (the same checks as
    a match); sent at most once per entry and slot (the outbox's key)."""
    from appointments.reminders.planning import offer_waitlist_slot

    if not entry.is_active:
        raise ValidationError({"entry": "This patient is no longer on the waitlist."})
    problems = match_problems(entry, start, therapist=therapist)
    if problems:
        reasons = " ".join(p.message if isinstance(p, Problem) else str(p) for p in problems)
        raise ValidationError({"start": f"This slot cannot be offered to this patient: {reasons}"})
    end = start + dt.timedelta(minutes=entry.plan.session_minutes)
    return offer_waitlist_slot(entry=entry, start=start, end=end, therapist=therapist)


class SlotTaken(ValidationError):
    """The offered slot went to someone else (or no longer fits the plan)."""


def waitlist_claim(*, offer) -> Appointment:
    """The patient's link books the offered slot: the first claim wins. Two
    patients claiming at once race on the therapist's no-overlap constraint
    (PostgreSQL; SQLite serialises writers): the loser gets SlotTaken and
    nothing is written for them."""
    from appointments.services.booking import appointment_book

    entry = offer.waitlist_entry
    if not entry.is_active:
        raise SlotTaken("This offer is closed: the patient is no longer on the waitlist.")
    if offer.slot_start <= timezone.now():
        raise SlotTaken("The offered time has passed.")
    try:
        with transaction.atomic():
            appointment = appointment_book(
                plan=entry.plan, start=offer.slot_start, therapist=offer.offer_therapist
            )
            waitlist_remove(entry=entry)
    except ValidationError as exc:  # SchedulingConflict (R1) is one too
        raise SlotTaken("Sorry, this time has already been taken.") from exc
    return appointment
