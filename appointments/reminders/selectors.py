"""Reads of the message log (page and API): one query however many rows."""

from __future__ import annotations

from django.db.models import QuerySet

from appointments.models import Reminder


def reminders_for_log(*, appointment: int | None = None, patient: int | None = None) -> QuerySet[Reminder]:
    rows = Reminder.objects.select_related("resent_by", "appointment").order_by("due_at", "id")
    if appointment is not None:
        rows = rows.filter(appointment_id=appointment)
    if patient is not None:
        rows = rows.filter(patient_id=patient)
    return rows
