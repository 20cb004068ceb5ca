"""Reads of plans used by several pages and the API."""

from collections.abc import Callable

from django.db.models import BooleanField, Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce

from clinic.models import ClinicRules
from treatments.models import TreatmentPlan

OPEN_PLAN_STATUSES = (TreatmentPlan.Status.ACTIVE, TreatmentPlan.Status.ON_HOLD)

# Which visits count as booked and as completed is scheduling's to say (a
# layer above): it registers the annotation from AppointmentsConfig.ready(),
# so R4 (booking) and R14 (these counters) count with one definition.
SessionCounter = Callable[[QuerySet[TreatmentPlan]], QuerySet[TreatmentPlan]]
_session_counter: list[SessionCounter] = []


def register_session_counter(counter: SessionCounter) -> None:
    """`counter(queryset)` annotates `scheduled_count` and `completed_count`."""
    _session_counter[:] = [counter]


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
        _session_counter[0](queryset.select_related("patient", "medication"))
        .annotate(
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
