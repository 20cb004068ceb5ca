"""The waitlist: patients waiting for a slot to free up."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from appointments.models import WaitlistEntry
from treatments.models import TreatmentPlan


@transaction.atomic
def waitlist_add(
    *,
    plan: TreatmentPlan,
    preferred_weekdays: list[int] | None = None,
    preferred_time_from: dt.time | None = None,
    preferred_time_to: dt.time | None = None,
    earliest_date: dt.date | None = None,
    latest_date: dt.date | None = None,
    notes: str = "",
) -> WaitlistEntry:
    if preferred_time_from and preferred_time_to and preferred_time_to <= preferred_time_from:
        raise ValidationError({"preferred_time_to": "The end of the window must be after its start."})
    if earliest_date and latest_date and latest_date < earliest_date:
        raise ValidationError({"latest_date": "The latest date must be on or after the earliest date."})
    if plan.status not in (TreatmentPlan.Status.ACTIVE, TreatmentPlan.Status.DRAFT):
        raise ValidationError({"plan": "Only draft or active plans can wait for a slot."})
    return WaitlistEntry.objects.create(
        patient_id=plan.patient_id,
        plan=plan,
        preferred_weekdays=sorted(set(preferred_weekdays or [])),
        preferred_time_from=preferred_time_from,
        preferred_time_to=preferred_time_to,
        earliest_date=earliest_date,
        latest_date=latest_date,
        notes=notes,
    )


@transaction.atomic
def waitlist_remove(*, entry: WaitlistEntry) -> WaitlistEntry:
    entry.is_active = False
    entry.save(update_fields=["is_active", "updated_at"])
    return entry
