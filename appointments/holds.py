"""R16: a plan on hold treats nobody. One definition of "this visit is held",
read by check-in (here), the note's save and signature (notes.services),
the reminder sweep (reminders.sending) and the front desk's pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from clinic.rule_codes import Problem, RuleCode
from treatments.models import TreatmentPlan

HOLD_MESSAGE = (
    "This plan is on hold: its visits cannot be checked in, documented or signed. "
    "Ask the therapist to review and resume the plan (R16)."
)
# What the day sheet, calendar and dashboard show on a held visit.
HOLD_FLAG = "Plan on hold — ask the therapist"


def hold_problem(*, appointment, plan: TreatmentPlan | None) -> Problem | None:
    """A held plan's visit, unless it started before the hold: the session
    where a burn happened was given before it and can still be documented
    and signed."""
    if plan is None or plan.status != TreatmentPlan.Status.ON_HOLD:
        return None
    held_since = plan.status_changed_at
    if held_since is not None and appointment.start < held_since:
        return None
    return Problem(RuleCode.R16_HOLD, "plan", HOLD_MESSAGE)


def refuse_on_hold(*, appointment, plan: TreatmentPlan | None) -> None:
    problem = hold_problem(appointment=appointment, plan=plan)
    if problem is not None:
        raise ValidationError({problem.field: problem.error()})
