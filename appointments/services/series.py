"""Series booking: every remaining session of a plan placed in one step
(spread over the week, R5), previewed without writing, booked all-or-nothing."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appointments import hooks
from appointments.availability import Schedule
from appointments.locks import lock_plan
from appointments.models import Appointment, Device, Room, Therapist
from appointments.services.booking import (
    _choose_slot,
    _clean_start,
    _create,
    _preferred_therapist,
    check_plan_bookable,
)
from clinic.exceptions import SchedulingConflict
from clinic.localtime import clinic_tz, local_date, local_datetime
from clinic.rule_codes import Problem, RuleCode
from treatments.models import TreatmentPlan


@dataclass
class Occurrence:
    number: int  # session number within the plan ("k of N")
    start: dt.datetime
    end: dt.datetime
    therapist: Therapist | None = None
    room: Room | None = None
    device: Device | None = None
    problems: list[Problem] = field(default_factory=list)
    # Why this session is not where the requested pattern put it (empty when it is).
    moved: str = ""
    # Why this session is with another therapist than the series' own.
    therapist_note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        return " ".join(p.message for p in self.problems)

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(p.code for p in self.problems))


@dataclass
class SeriesPreview:
    plan: TreatmentPlan
    occurrences: list[Occurrence]
    total: int
    # Prescribed sessions beyond the authorized count: not placed, never booked.
    beyond_authorization: int = 0
    therapist: Therapist | None = None  # the series' therapist (most of its sessions)
    fixed_therapist: bool = False

    @property
    def notes(self) -> list[str]:
        """What the front desk should know before booking, in words."""
        notes = []
        if self.beyond_authorization:
            plan = self.plan
            notes.append(
                f"{self.beyond_authorization} of {plan.sessions_prescribed} prescribed sessions lie beyond "
                f"the authorization ({plan.sessions_authorized} authorized): they are not booked until a new "
                "authorization is recorded."
            )
        changes = sum(1 for o in self.occurrences if o.therapist_note)
        if self.therapist and not changes and self.ok:
            notes.append(f"Every session is with {self.therapist}.")
        elif changes:
            notes.append(
                f"{changes} session(s) with another therapist: "
                f"{self.therapist} is not free for every session."
            )
        return notes

    @property
    def ok(self) -> bool:
        return bool(self.occurrences) and all(o.ok for o in self.occurrences)

    @property
    def failures(self) -> list[Occurrence]:
        return [o for o in self.occurrences if not o.ok]


def _why_not(plan: TreatmentPlan, schedule: Schedule, day: dt.date, at: dt.time) -> str:
    """Why the series cannot use this day (empty when it can)."""
    if day in schedule.closed_days:
        return f"the clinic is closed on {day:%a %d %b} ({schedule.closed_days[day]})"
    start = local_datetime(day, at)
    end = start + dt.timedelta(minutes=plan.session_minutes)
    if not any(
        any(w_start <= start and end <= w_end for w_start, w_end in schedule.available_windows(t, day))
        for t in schedule.therapists
    ):
        until = end.astimezone(clinic_tz())
        return f"no therapist giving {schedule.what} works {at:%H:%M}–{until:%H:%M} on {day:%a %d %b}"
    week = [p for p in schedule.plan_problems(start) if p.code == RuleCode.R5_WEEK]
    if week:
        return week[0].message[0].lower() + week[0].message[1:].rstrip(".")
    return ""


def _series_dates(plan: TreatmentPlan, schedule: Schedule, first: dt.date, at: dt.time, count: int):
    """Yield (local date, why it moved) for each session of the series:
    spread evenly over the week (frequency_per_week), never closer than the
    plan's minimum interval, and moved forward past days when the clinic is
    closed, no one works at that time, or the week is full. Wall-clock time
    stays the same across DST changes."""
    min_days = math.ceil(plan.min_interval_hours / 24)
    previous: dt.date | None = None
    for i in range(count):
        ideal = first + dt.timedelta(days=math.floor(i * 7 / plan.frequency_per_week + 0.5))
        day = ideal
        reasons = []
        if previous is not None and previous + dt.timedelta(days=min_days) > ideal:
            day = previous + dt.timedelta(days=min_days)
            reasons.append(f"sessions are at least {plan.min_interval_hours} h apart")
        for _ in range(14):
            why = _why_not(plan, schedule, day, at)
            if not why:
                break
            if why not in reasons:
                reasons.append(why)
            day += dt.timedelta(days=1)
        previous = day
        moved = ""
        if day != ideal:
            moved = f"Moved from {ideal:%a %d %b} to {day:%a %d %b}: " + "; ".join(reasons) + "."
        yield day, moved


def _assign_therapists(
    schedule: Schedule, slots: list[tuple[dt.datetime, dt.datetime]], preferred: Therapist | None
) -> list[Therapist | None]:
    """One therapist for the whole series when one is free for every session
    (the plan's usual therapist first); otherwise the fewest changes: from
    each session on, take the therapist free for the longest run (greedy
    longest run is optimal for the number of changes)."""
    order = sorted(
        schedule.therapists.values(), key=lambda t: (preferred is None or t.id != preferred.id, str(t))
    )
    free = {
        t.id: [
            not schedule.slot_problems(start, end, therapist=t, room=None, device=None)[0]
            for start, end in slots
        ]
        for t in order
    }
    for t in order:
        if all(free[t.id]):
            return [t] * len(slots)
    assigned: list[Therapist | None] = []
    i = 0
    while i < len(slots):
        best, best_run = None, 0
        for t in order:
            run = 0
            while i + run < len(slots) and free[t.id][i + run]:
                run += 1
            if run > best_run:
                best, best_run = t, run
        if best is None:
            assigned.append(None)
            i += 1
            continue
        assigned.extend([best] * best_run)
        i += best_run
    return assigned


def series_preview(
    *, plan: TreatmentPlan, start: dt.datetime, therapist: Therapist | None = None
) -> SeriesPreview:
    """Place every remaining session of the plan, without writing anything.
    A named therapist is binding: a session they cannot take fails (and the
    booking answers 409 naming it). Without one, the series keeps one
    therapist wherever one is free for all sessions, then the fewest changes."""
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
            {
                "therapist": ValidationError(
                    f"{therapist} does not give {plan.get_modality_display().lower()}.",
                    code=RuleCode.R3_THERAPIST,
                )
            }
        )
    fixed = therapist is not None
    # Place the dates first (counting each in the plan's week, R5), then the therapists.
    times = []
    for day, moved in _series_dates(plan, schedule, local_start.date(), local_start.time(), remaining):
        times.append((local_datetime(day, local_start.time()), moved))
        schedule.plan_sessions.append((times[-1][0], -1))
        schedule.plan_sessions.sort()
    schedule.plan_sessions = [s for s in schedule.plan_sessions if s[1] != -1]
    slots = [(occ_start, occ_start + dt.timedelta(minutes=plan.session_minutes)) for occ_start, _ in times]
    if fixed:
        assigned: list[Therapist | None] = [therapist] * len(slots)
    else:
        assigned = _assign_therapists(schedule, slots, _preferred_therapist(plan, schedule))
    counts: dict[int, int] = {}
    for t in assigned:
        if t is not None:
            counts[t.id] = counts.get(t.id, 0) + 1
    main = therapist if fixed else (schedule.therapists[max(counts, key=counts.get)] if counts else None)
    occurrences = []
    for i, ((occ_start, occ_end), (_, moved)) in enumerate(zip(slots, times, strict=True)):
        wanted = assigned[i]
        problems, chosen, room, device = _choose_slot(
            schedule, occ_start, occ_end, therapist=wanted, room=None, device=None, fixed_therapist=fixed
        )
        occurrence = Occurrence(done + i + 1, occ_start, occ_end, chosen, room, device, problems, moved)
        if occurrence.ok:
            schedule.hold(occ_start, occ_end, therapist=chosen, room=room, device=device)
            if main is not None and chosen.id != main.id:
                occurrence.therapist_note = f"With {chosen}: {main} is not free then."
        occurrences.append(occurrence)
    beyond = 0
    if plan.sessions_authorized is not None and plan.sessions_prescribed > plan.sessions_authorized:
        beyond = plan.sessions_prescribed - plan.sessions_authorized
    return SeriesPreview(
        plan=plan,
        occurrences=occurrences,
        total=plan.session_limit,
        beyond_authorization=beyond,
        therapist=main,
        fixed_therapist=fixed,
    )


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
    plan = lock_plan(plan.pk)
    preview = series_preview(plan=plan, start=start, therapist=therapist)
    if preview.failures and not allow_partial:
        conflicts = [
            {
                "session_number": o.number,
                "date": local_date(o.start).isoformat(),
                "start": o.start.isoformat(),
                "end": o.end.isoformat(),
                "reason": o.reason,
                "codes": o.codes,
                "therapist": therapist.pk if therapist is not None else None,
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
                confirmation=False,
                note="series",
                therapist=occurrence.therapist,
                room=occurrence.room,
                device=occurrence.device,
                start=occurrence.start,
                end=occurrence.end,
            )
        )
    hooks.after_series_booked(booked)
    return booked
