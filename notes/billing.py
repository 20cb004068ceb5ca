"""Billing (DOMAIN.md "Billing", R11): CPT codes and the 8-minute rule."""

from treatments.models import Modality

CPT_IONTOPHORESIS = "97033"
CPT_ULTRASOUND = "97035"
# Medicare allows at most 4 units of 97033 a day.
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
