"""The slot finder: free times for one session of a plan, or for an
evaluation, grouped by day with a real total, and the reason when there is
none. It asks the same rules the booking does (R4 through
`check_plan_bookable`, R1–R3 and R5 through the `Schedule`), so it never
offers a slot the booking would refuse."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from appointments import selectors
from appointments.availability import Schedule
from appointments.models import Therapist
from appointments.selectors import Slot
from appointments.services.booking import check_plan_active, check_plan_bookable
from clinic.models import ClinicRules
from clinic.rule_codes import codes_of
from patients.models import Patient
from treatments.models import TreatmentPlan


@dataclass
class SlotDay:
    date: dt.date
    count: int  # every free slot that day, shown or not
    slots: list[Slot] = field(default_factory=list)  # those shown (within the limit)


@dataclass
class SlotSearch:
    slots: list[Slot]  # the first `limit`, in time order
    total: int  # every free slot in the range: a count, not a cap
    days: list[SlotDay]
    reason: str = ""  # why there is none (empty when there are slots)
    codes: list[str] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.slots)


def _what(plan: TreatmentPlan | None) -> str:
    return plan.get_modality_display().lower() if plan is not None else "evaluations"


def _therapist_refusal(plan: TreatmentPlan | None, therapist: Therapist) -> str:
    if not therapist.is_active:
        return f"{therapist} is no longer active."
    if plan is not None and plan.modality not in (therapist.modalities or []):
        return f"{therapist} does not give {_what(plan)}."
    return ""


def _window_words(after: dt.time | None, before: dt.time | None) -> str:
    if after and before:
        return f" between {after:%H:%M} and {before:%H:%M}"
    if after:
        return f" starting at or after {after:%H:%M}"
    if before:
        return f" ending by {before:%H:%M}"
    return ""


def slot_search(
    *,
    plan: TreatmentPlan | None = None,
    patient: Patient | None = None,
    date_from: dt.date,
    date_to: dt.date,
    therapist: Therapist | None = None,
    after: dt.time | None = None,
    before: dt.time | None = None,
    limit: int = 200,
    now: dt.datetime | None = None,
) -> SlotSearch:
    """Free slots for a plan's next session (or, with only `patient`, for an
    evaluation), counted per day. Read-only: nothing is written."""
    if plan is None and patient is None:
        raise ValueError("slot_search needs a plan or, for an evaluation, a patient")
    schedule = None
    if plan is not None:
        try:
            check_plan_active(plan)
            # R4 with the sessions the search's own read counted (no query of its own).
            schedule = Schedule(plan=plan, date_from=date_from, date_to=date_to)
            check_plan_bookable(plan, used=schedule.sessions_used)
        except ValidationError as exc:
            return SlotSearch([], 0, [], " ".join(exc.messages), codes_of(exc))
    if therapist is not None:
        refusal = _therapist_refusal(plan, therapist)
        if refusal:
            return SlotSearch([], 0, [], refusal, ["R3.therapist"])
    if after and before and after >= before:
        return SlotSearch([], 0, [], "The “after” time must be earlier than the “before” time.")
    minutes = None if plan is not None else ClinicRules.current().evaluation_minutes
    # Counted per moment (every therapist free then), and a Slot made only
    # for the first `limit`: a four-week search has thousands.
    shown: list[Slot] = []
    days: dict[dt.date, SlotDay] = {}
    total = 0
    for free in selectors.free_moments(
        plan=plan,
        patient=patient,
        minutes=minutes,
        date_from=date_from,
        date_to=date_to,
        therapist=therapist.pk if therapist else None,
        after=after,
        before=before,
        now=now,
        schedule=schedule,
    ):
        if free.day not in days:
            days[free.day] = SlotDay(free.day, 0)
        days[free.day].count += len(free.therapists)
        total += len(free.therapists)
        for candidate in free.therapists[: limit - len(shown)]:
            slot = Slot(free.start, free.end, candidate, free.room, free.device)
            shown.append(slot)
            days[free.day].slots.append(slot)
    reason = ""
    if not total:
        who = f" with {therapist}" if therapist else ""
        reason = (
            f"No free {_what(plan) if plan else 'evaluation'} slot{who} from {date_from:%a %d %b} "
            f"to {date_to:%a %d %b %Y}{_window_words(after, before)}: every therapist who could take it "
            "is off, away or booked then, the clinic is closed, or the patient is already booked."
        )
    return SlotSearch(shown, total, list(days.values()), reason)
