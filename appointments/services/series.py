"""Series booking: every remaining session of a plan placed in one step
(spread over the week, R5), previewed without writing, booked all-or-nothing."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

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
            if someone_works and not any(p.code == RuleCode.R5_WEEK for p in schedule.plan_problems(start)):
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
            {
                "therapist": ValidationError(
                    f"{therapist} does not give {plan.get_modality_display().lower()}.",
                    code=RuleCode.R3_THERAPIST,
                )
            }
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
