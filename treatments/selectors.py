"""Reads of plans used by several pages and the API."""

from django.db.models import BooleanField, Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from clinic.models import ClinicRules
from treatments.models import TreatmentPlan

# Appointment statuses by their stored values (treatments must not import
# appointments): booked sessions still to happen, and delivered ones.
BOOKED_STATUSES = ("scheduled", "confirmed", "checked_in")
COMPLETED_STATUS = "completed"
OPEN_PLAN_STATUSES = (TreatmentPlan.Status.ACTIVE, TreatmentPlan.Status.ON_HOLD)


def plans_with_counts(
    queryset: QuerySet[TreatmentPlan] | None = None, *, rules: ClinicRules | None = None
) -> QuerySet[TreatmentPlan]:
    """R14 for any number of plans in one query: `scheduled_count`,
    `completed_count`, `limit_count` (authorized, else prescribed),
    `remaining` and `authorization_alert` (an open plan with
    `rules.authorization_alert_remaining` or fewer sessions left)."""
    queryset = TreatmentPlan.objects.all() if queryset is None else queryset
    if not queryset.query.order_by:
        # Meta.ordering is dropped from GROUP BY queries: keep it explicitly.
        queryset = queryset.order_by(*TreatmentPlan._meta.ordering)
    threshold = (rules or ClinicRules.current()).authorization_alert_remaining
    return (
        queryset.select_related("patient", "medication")
        .annotate(
            scheduled_count=Count("appointments", filter=Q(appointments__status__in=BOOKED_STATUSES)),
            completed_count=Count("appointments", filter=Q(appointments__status=COMPLETED_STATUS)),
            limit_count=Coalesce("sessions_authorized", "sessions_prescribed", output_field=IntegerField()),
        )
        .annotate(
            remaining=F("limit_count") - F("scheduled_count") - F("completed_count"),
        )
        .annotate(
            authorization_alert=Case(
                When(status__in=OPEN_PLAN_STATUSES, remaining__lte=threshold, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def plan_counts(plan: TreatmentPlan) -> dict[str, int | None]:
    """The R14 counters of one annotated plan, as the API and pages show them."""
    return {
        "prescribed": plan.sessions_prescribed,
        "authorized": plan.sessions_authorized,
        "scheduled": plan.scheduled_count,
        "completed": plan.completed_count,
        "remaining": plan.remaining,
    }
