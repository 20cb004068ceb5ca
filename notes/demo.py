"""Signed notes for the demo's completed visits (synthetic data only), so
the therapist's "notes to sign" list starts clear and the progress pages,
billing and R17 have history. Idempotent: a visit with a note is skipped."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from appointments.models import Appointment
from notes import services
from notes.models import SessionNote
from treatments.models import Modality


def _values(appointment: Appointment, number: int) -> dict:
    plan = appointment.plan
    values = services.initial_values(plan)
    values.update(
        skin_before="normal",
        skin_after="erythema" if number % 2 else "normal",
        pain_before=max(6 - number, 1),
        pain_after=max(4 - number, 0),
        subjective="Synthetic demo note.",
        assessment="Tolerated well.",
    )
    if plan.modality == Modality.TAP_WATER:
        values.update(hdss=max(4 - number // 2, 2), barrier_applied=True, polarity_switched=True)
    elif plan.medication_id and plan.medication.is_drug:
        day = services.session_date(appointment)
        values.update(
            medication_lot=f"DEMO-{plan.pk:03d}",
            medication_expiry=day.replace(year=day.year + 1),
            medication_volume_ml=Decimal("1.5") if plan.modality == Modality.IONTOPHORESIS else Decimal("2"),
        )
        if plan.modality == Modality.IONTOPHORESIS:
            values["electrode_lot"] = f"EL-{plan.pk:03d}"
        else:
            values.update(coupling_medium="Gel with the drug mixed in", treatment_area_cm2=Decimal("20"))
    return values


def seed() -> int:
    """Write and sign a note for every completed visit that has none."""
    visits = (
        Appointment.objects.filter(status=Appointment.Status.COMPLETED, note__isnull=True)
        .select_related("plan__medication", "patient", "therapist__user")
        .order_by("start")
    )
    signed = 0
    for appointment in visits:
        number = SessionNote.objects.filter(appointment__plan=appointment.plan).count() + 1
        user = appointment.therapist.user
        services.note_save(appointment=appointment, values=_values(appointment, number), user=user)
        services.note_sign(appointment=appointment, user=user, password=settings.DEMO_PASSWORD)
        signed += 1
    return signed
