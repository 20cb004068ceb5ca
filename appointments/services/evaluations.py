"""An evaluation becomes the start of a plan: the therapist writes the plan
from the visit (treatments calls `evaluation_link_plan` through its
`on_plan_created` hook, inside the plan's transaction)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.locks import lock_appointment
from appointments.models import Appointment
from appointments.services.booking import _record
from clinic.localtime import local_date
from treatments.models import TreatmentPlan

Status = Appointment.Status


def evaluation_link_plan(*, plan: TreatmentPlan, evaluation: int, user=None) -> Appointment:
    """Link the new plan to the evaluation it was written from, and complete
    the visit (it took place: the plan is its outcome). Refused — and the
    plan with it — for another patient's visit, a session, or a visit that
    was cancelled, missed or is still to come on a later day."""
    # Two therapists writing a plan from the same visit: the second sees the first's link.
    visit = Appointment.objects.filter(pk=evaluation).first()
    if visit is None:
        raise ValidationError({"evaluation": "This evaluation visit does not exist."})
    visit = lock_appointment(visit.pk)
    problem = ""
    if not visit.is_evaluation:
        problem = "This visit is a session of a plan, not an evaluation."
    elif visit.patient_id != plan.patient_id:
        problem = "This evaluation is another patient's."
    elif visit.resulting_plan_id:
        problem = "A plan was already written from this evaluation."
    elif visit.status in (Status.CANCELLED, Status.NO_SHOW):
        problem = f"This evaluation is {visit.get_status_display().lower()}: write the plan from the chart."
    elif local_date(visit.start) > local_date(timezone.now()):
        problem = "This evaluation has not taken place yet."
    if problem:
        raise ValidationError({"evaluation": problem})
    old_status = visit.status
    visit.resulting_plan = plan
    if visit.status != Status.COMPLETED:
        visit.status = Status.COMPLETED
        visit.completed_at = timezone.now()
    visit.save(update_fields=["resulting_plan", "status", "completed_at", "updated_at"])
    _record(visit, "plan_written", user, old=Appointment(status=old_status), note=f"plan {plan.pk}")
    return visit
