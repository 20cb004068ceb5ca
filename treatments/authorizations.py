"""Insurance authorizations (R22): every write, and the plan's
`sessions_authorized` kept as their total so R4's count and R14's counters
read one number.

The front desk records them (it handles insurance), as do therapists and
clinic admins. Booking checks them through appointments.availability: a
visit's date must fall in an authorization with visits left."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from clinic.rule_codes import RuleCode
from patients.models import Payer
from treatments.models import Authorization, TreatmentPlan
from treatments.selectors import authorizations_with_use

AUTHORIZATION_FIELDS = ("payer", "number", "visits_authorized", "valid_from", "valid_to", "notes")
UNKNOWN_PAYER = "Payer not recorded"
LEGACY_NUMBER = "not recorded"
LEGACY_DAYS = 365


def _lock_plan(plan_id: int) -> TreatmentPlan:
    # The plan row serialises authorization changes with bookings, which
    # lock it too (appointments.locks): a visit cannot slip in between the
    # check of an authorization's use and its change.
    return TreatmentPlan.objects.select_for_update(of=("self",)).select_related("patient").get(pk=plan_id)


def _sync_total(plan: TreatmentPlan) -> None:
    total = plan.authorizations.aggregate(n=Sum("visits_authorized"))["n"]
    if total is not None and plan.sessions_authorized != total:
        plan.sessions_authorized = total
        plan.save(update_fields=["sessions_authorized", "updated_at"])


def _check(authorization: Authorization, plan: TreatmentPlan, *, payer_changed: bool) -> None:
    errors: dict[str, list[ValidationError]] = {}

    def add(field: str, message: str, code: str = RuleCode.R22_INVALID) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    try:
        authorization.full_clean(exclude=["plan", "created_by"], validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    if plan.is_closed:
        add("plan", f"This plan is {plan.get_status_display().lower()}: it needs no authorization.")
    if payer_changed and not authorization.payer.is_active:
        add("payer", f"{authorization.payer} is no longer an active payer.")
    if authorization.valid_to < authorization.valid_from:
        add("valid_to", "The authorization must end on or after the day it starts.")
    if errors:
        raise ValidationError(errors)
    others = plan.authorizations.exclude(pk=authorization.pk)
    overlap = others.filter(
        valid_from__lte=authorization.valid_to, valid_to__gte=authorization.valid_from
    ).first()
    if overlap is not None:
        add(
            "valid_from",
            f"The period overlaps authorization {overlap.number} ({overlap.valid_from:%d %b %Y} – "
            f"{overlap.valid_to:%d %b %Y}): a visit date belongs to one authorization. "
            f"Change that one's end date first.",
            RuleCode.R22_OVERLAP,
        )
        raise ValidationError(errors)


def _check_use(authorization: Authorization) -> None:
    """After a change: the visits already booked or done in the period fit."""
    used = authorizations_with_use(Authorization.objects.filter(pk=authorization.pk)).get().visits_used
    if used > authorization.visits_authorized:
        raise ValidationError(
            {
                "visits_authorized": ValidationError(
                    f"{used} visits of this plan are already booked or done between "
                    f"{authorization.valid_from:%d %b %Y} and {authorization.valid_to:%d %b %Y}: "
                    f"authorize at least {used}, or cancel visits first.",
                    code=RuleCode.R22_USED,
                )
            }
        )


@transaction.atomic
def authorization_create(
    *, plan: TreatmentPlan, data: Mapping[str, Any], user: AbstractBaseUser | None = None
) -> Authorization:
    """Record an authorization for a plan; its period may not overlap
    another of the plan's."""
    unknown = set(data) - set(AUTHORIZATION_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    plan = _lock_plan(plan.pk)
    authorization = Authorization(
        plan=plan, created_by=user if user is not None and user.is_authenticated else None, **data
    )
    authorization.number = (authorization.number or "").strip()
    _check(authorization, plan, payer_changed=True)
    authorization.save()
    _check_use(authorization)
    _sync_total(plan)
    return authorization


@transaction.atomic
def authorization_update(*, authorization: Authorization, data: Mapping[str, Any]) -> Authorization:
    """Change an authorization (a renewal is a new one); the visits already
    booked or done in its period must still fit."""
    unknown = set(data) - set(AUTHORIZATION_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    plan = _lock_plan(authorization.plan_id)
    authorization = Authorization.objects.select_related("payer").get(pk=authorization.pk)
    payer_before = authorization.payer_id
    for name, value in data.items():
        setattr(authorization, name, value.strip() if isinstance(value, str) else value)
    _check(authorization, plan, payer_changed=authorization.payer_id != payer_before)
    authorization.save()
    _check_use(authorization)
    _sync_total(plan)
    return authorization


def _unknown_payer() -> Payer:
    payer, _ = Payer.objects.get_or_create(name=UNKNOWN_PAYER, defaults={"is_active": False})
    return payer


def sync_sessions_authorized(*, plan: TreatmentPlan, value: int | None, today: dt.date | None = None) -> None:
    """Writing a plan's `sessions_authorized` keeps working as before R22:
    with no authorization yet, a number creates one (the patient's payer,
    valid a year from today); with one, it becomes its visit count; empty
    removes an authorization no visit uses. With several, the total follows
    them and cannot be written directly. Called inside the plan's write."""
    authorizations = list(plan.authorizations.all())
    if len(authorizations) > 1:
        total = sum(a.visits_authorized for a in authorizations)
        if value != total:
            raise ValidationError(
                {
                    "sessions_authorized": ValidationError(
                        f"This plan has {len(authorizations)} authorizations ({total} visits): change "
                        f"them on the plan's authorizations; the total follows.",
                        code=RuleCode.R22_INVALID,
                    )
                }
            )
        return
    if not authorizations:
        if value:
            today = today or timezone.localdate()
            Authorization.objects.create(
                plan=plan,
                payer=plan.patient.payer or _unknown_payer(),
                number=LEGACY_NUMBER,
                visits_authorized=value,
                valid_from=today,
                valid_to=today + dt.timedelta(days=LEGACY_DAYS),
            )
        return
    [only] = authorizations
    if value:
        if value != only.visits_authorized:
            only.visits_authorized = value
            only.save(update_fields=["visits_authorized", "updated_at"])
            _check_use(only)
        return
    if authorizations_with_use(Authorization.objects.filter(pk=only.pk)).get().visits_used:
        raise ValidationError(
            {
                "sessions_authorized": ValidationError(
                    f"Authorization {only.number} covers visits already booked or done: keep a number.",
                    code=RuleCode.R22_USED,
                )
            }
        )
    only.delete()
