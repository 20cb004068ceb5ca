"""Reads of the message log (page and API): one query however many rows."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from appointments.models import Appointment, Reminder

# The notices that tell the patient a time.
NOTICE_KINDS = (Reminder.Kind.CONFIRMATION, Reminder.Kind.RESCHEDULED)


def reminders_for_log(*, appointment: int | None = None, patient: int | None = None) -> QuerySet[Reminder]:
    rows = Reminder.objects.select_related("resent_by", "appointment").order_by("due_at", "id")
    if appointment is not None:
        rows = rows.filter(appointment_id=appointment)
    if patient is not None:
        rows = rows.filter(patient_id=patient)
    return rows


def announced_start(appointment: Appointment, *, other_than: dt.datetime | None = None) -> dt.datetime | None:
    """The visit time the patient was last told: the newest notice that was
    handed to the mail server (sent, or in doubt), optionally of another slot."""
    rows = Reminder.objects.filter(appointment=appointment, kind__in=NOTICE_KINDS).filter(
        Q(status=Reminder.Status.SENT) | Q(send_started_at__isnull=False)
    )
    if other_than is not None:
        rows = rows.exclude(slot_start=other_than)
    latest = Coalesce("sent_at", "send_started_at")
    row = rows.order_by(latest.desc(nulls_last=True), "-id").values_list("slot_start", flat=True).first()
    return row
