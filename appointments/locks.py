"""Row locks, and the one order every write takes them in.

    note → appointment → plan

(then the appointment's reminder rows, which only its own writes touch).
A write that needs several of these rows locks them in this order and never
reaches back up the list: saving a burn note locks the note, then the plan
(R16: on hold at once); signing locks the note, then its visit (to complete
it); check-in and reschedule lock the visit, then its plan (R4 and R5 are checked against the plan's other
visits). Two writes that meet on the same rows then wait for each other
instead of deadlocking. notes/tests/test_lock_order.py holds every path to
it. SQLite serialises all writers, so the locks are PostgreSQL's concern.
"""

from __future__ import annotations

from appointments.models import Appointment
from treatments.models import TreatmentPlan


def lock_plan(plan_id: int) -> TreatmentPlan:
    # Two bookings of one plan cannot both pass the R4 count and R5 spacing checks.
    return TreatmentPlan.objects.select_related("patient").select_for_update(of=("self",)).get(pk=plan_id)


def lock_appointment(appointment_id: int) -> Appointment:
    # A cancel racing a check-in (or two reschedules) sees the other's result.
    return Appointment.objects.select_for_update().get(pk=appointment_id)


def lock_visit(appointment_id: int) -> tuple[Appointment, TreatmentPlan | None]:
    """The appointment, then its plan: the order above."""
    appointment = lock_appointment(appointment_id)
    plan = lock_plan(appointment.plan_id) if appointment.plan_id else None
    return appointment, plan
