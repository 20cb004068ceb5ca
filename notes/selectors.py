"""Reads of session notes used by several pages: the HDSS trend (R21)."""

from __future__ import annotations

from decimal import Decimal

from notes.models import SessionNote
from treatments.models import Modality, TreatmentPlan

# R21: maintenance is typically reached at HDSS ≤ 2 (the last two sessions).
MAINTENANCE_HDSS = 2


def hdss_trend(plan: TreatmentPlan) -> list[tuple]:
    """(visit start, HDSS) of the plan's signed notes, oldest first."""
    return list(
        SessionNote.objects.filter(
            appointment__plan=plan, status=SessionNote.Status.SIGNED, hdss__isnull=False
        )
        .order_by("appointment__start")
        .values_list("appointment__start", "hdss")
    )


def maintenance_suggested(plan: TreatmentPlan, trend: list[tuple] | None = None) -> bool:
    if plan.modality != Modality.TAP_WATER or plan.phase != TreatmentPlan.Phase.INITIAL:
        return False
    if plan.status != TreatmentPlan.Status.ACTIVE:
        return False
    scores = [hdss for _, hdss in (trend if trend is not None else hdss_trend(plan))]
    return len(scores) >= 2 and all(score <= MAINTENANCE_HDSS for score in scores[-2:])


def maintenance_notices(plan: TreatmentPlan) -> list[str]:
    if maintenance_suggested(plan):
        return [
            "The last two HDSS scores are 2 or less: sweating is under control. "
            "Consider moving the plan to maintenance (R21)."
        ]
    return []


# -- the progress summary ----------------------------------------------------------
DOSE_UNITS = {
    Modality.IONTOPHORESIS: "mA·min",
    Modality.TAP_WATER: "mA·min",
    Modality.PHONOPHORESIS: "J/cm²",
}


def session_dose(note: SessionNote, modality: str) -> Decimal | None:
    """The dose one session delivered, in the modality's unit: charge for
    both iontophoresis kinds (current × time), ultrasound energy density for
    phonophoresis (intensity × duty cycle × time in seconds)."""
    if modality == Modality.PHONOPHORESIS:
        if None in (note.intensity_w_cm2, note.duty_cycle_pct, note.treatment_minutes):
            return None
        joules = (
            Decimal(note.intensity_w_cm2)
            * Decimal(note.duty_cycle_pct)
            / 100
            * Decimal(note.treatment_minutes)
            * 60
        )
        return joules.quantize(Decimal("0.1"))
    if note.dose_ma_min is not None:
        return note.dose_ma_min
    return SessionNote.dose_of(note.current_ma, note.treatment_minutes)


def progress_rows(plan: TreatmentPlan) -> list[dict]:
    """The plan's signed notes, oldest first, each with its dose and the
    running total: what the referring physician's summary prints."""
    notes = list(
        SessionNote.objects.filter(appointment__plan=plan, status=SessionNote.Status.SIGNED)
        .select_related("appointment__therapist", "signed_by")
        .order_by("appointment__start")
    )
    cumulative = Decimal(0)
    rows = []
    for number, note in enumerate(notes, start=1):
        dose = session_dose(note, plan.modality)
        cumulative += dose or 0
        rows.append({"number": number, "note": note, "dose": dose, "cumulative_dose": cumulative})
    return rows
