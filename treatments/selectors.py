"""Reads of plans used by several pages and the API."""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.models import ClinicRules
from treatments.models import Authorization, TreatmentPlan

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


# R22: which visits use an authorization is scheduling's to say, like the
# session counter above: `counter(queryset)` annotates `visits_used` on
# authorizations (the plan's booked and completed visits dated in its period).
AuthorizationCounter = Callable[[QuerySet[Authorization]], QuerySet[Authorization]]
_authorization_counter: list[AuthorizationCounter] = []


def register_authorization_counter(counter: AuthorizationCounter) -> None:
    _authorization_counter[:] = [counter]


def authorizations_with_use(queryset: QuerySet[Authorization] | None = None) -> QuerySet[Authorization]:
    """`visits_used` and `visits_left` per authorization, in one query."""
    queryset = Authorization.objects.all() if queryset is None else queryset
    return (
        _authorization_counter[0](queryset.select_related("payer"))
        .annotate(visits_left=F("visits_authorized") - F("visits_used"))
        .order_by("plan_id", "valid_from", "id")
    )


@dataclass(frozen=True)
class AuthorizationAlert:
    """R22: staff are alerted at a few visits left or a few days before the
    authorization valid today expires; or when none is valid today."""

    plan_id: int
    authorization: Authorization | None
    message: str


def authorization_alerts(
    plan_ids: Iterable[int], *, today: dt.date | None = None, rules: ClinicRules | None = None
) -> dict[int, list[AuthorizationAlert]]:
    """Alerts per plan for any number of plans, in one query. Plans without
    authorizations get none (R14's count alert covers them)."""
    plan_ids = list(plan_ids)
    if not plan_ids:
        return {}
    rules = rules or ClinicRules.current()
    today = today or timezone.localdate()
    by_plan: dict[int, list[Authorization]] = defaultdict(list)
    for authorization in authorizations_with_use(Authorization.objects.filter(plan_id__any=plan_ids)):
        by_plan[authorization.plan_id].append(authorization)
    alerts: dict[int, list[AuthorizationAlert]] = {}
    for plan_id, authorizations in by_plan.items():
        found = []
        current = next((a for a in authorizations if a.covers(today)), None)
        later = [a for a in authorizations if a.valid_from > today]
        if current is None:
            if not later:
                last = authorizations[-1]
                found.append(
                    AuthorizationAlert(
                        plan_id, last, f"Authorization {last.number} expired on {last.valid_to:%d %b %Y}."
                    )
                )
        else:
            if current.visits_left <= rules.authorization_alert_remaining:
                found.append(
                    AuthorizationAlert(
                        plan_id,
                        current,
                        f"Authorization {current.number}: {max(current.visits_left, 0)} of "
                        f"{current.visits_authorized} visits left.",
                    )
                )
            days = (current.valid_to - today).days
            if days <= rules.authorization_expiry_alert_days and not later:
                when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
                found.append(
                    AuthorizationAlert(
                        plan_id,
                        current,
                        f"Authorization {current.number} expires {when} ({current.valid_to:%d %b %Y}).",
                    )
                )
        if found:
            alerts[plan_id] = found
    return alerts


def plans_with_authorization_alerts(
    *, today: dt.date | None = None, limit: int = 20, rules: ClinicRules | None = None
) -> list[tuple[TreatmentPlan, list[AuthorizationAlert]]]:
    """Open plans whose authorization needs the front desk (dashboards):
    few visits left, expiring soon, or expired lately with no renewal."""
    today = today or timezone.localdate()
    recent = Authorization.objects.filter(
        plan__status__in=OPEN_PLAN_STATUSES, valid_to__gte=today - dt.timedelta(days=30)
    )
    plan_ids = set(recent.values_list("plan_id", flat=True))
    alerts = authorization_alerts(plan_ids, today=today, rules=rules)
    plans = TreatmentPlan.objects.filter(pk__in=list(alerts)).select_related("patient")
    ordered = sorted(plans, key=lambda p: (p.patient.last_name, p.patient.first_name, p.pk))
    return [(plan, alerts[plan.pk]) for plan in ordered[:limit]]
