"""Billing (DOMAIN.md "Billing", R11): CPT codes and the 8-minute rule."""

from treatments.models import Authorization, Modality

CPT_IONTOPHORESIS = "97033"
CPT_ULTRASOUND = "97035"
# Medicare allows at most 4 units of 97033 a day. The figure in force is the
# patient's payer's (patients.Payer.daily_97033_unit_cap) or, for a patient
# without one, the clinic's (ClinicRules.daily_97033_unit_cap), both default
# 4: notes.services.billable_units applies it (R18).
MAX_DAILY_UNITS = {CPT_IONTOPHORESIS: 4}


def cpt_code_for(modality: str) -> str:
    """Phonophoresis is billed as ultrasound (97035); both iontophoresis
    kinds as 97033. The drug and gel are not paid separately."""
    return CPT_ULTRASOUND if modality == Modality.PHONOPHORESIS else CPT_IONTOPHORESIS


def units_for_minutes(minutes: int | None) -> int:
    """8-minute rule on total timed minutes: 0–7 → 0, 8–22 → 1, 23–37 → 2,
    38–52 → 3, then one more unit per 15 minutes."""
    if not minutes or minutes < 8:
        return 0
    return (minutes - 8) // 15 + 1


def authorization_numbers(keys) -> dict:
    """The insurance authorization number for each (plan id, date of
    service) in `keys`, for the billing CSV: the authorization of that plan
    valid on that date (R22), in one query. Keys without one are absent."""
    keys = set(keys)
    if not keys:
        return {}
    plan_ids = {plan_id for plan_id, _ in keys}
    days = [day for _, day in keys]
    found: dict = {}
    authorizations = Authorization.objects.filter(
        plan_id__in=plan_ids, valid_from__lte=max(days), valid_to__gte=min(days)
    ).order_by("valid_from", "id")
    for authorization in authorizations:
        for plan_id, day in keys:
            if plan_id == authorization.plan_id and authorization.valid_from <= day <= authorization.valid_to:
                found.setdefault((plan_id, day), authorization.number)
    return found
