"""The front desk's message log: every patient email of an appointment or a
patient, with its status, why it was not sent, and a resend button."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from appointments.access import MESSAGE_LOG, RESEND
from appointments.models import Appointment, Reminder
from appointments.reminders import reminder_resend
from appointments.reminders.planning import is_current_slot
from appointments.reminders.selectors import reminders_for_log
from clinic.roles import has_role, role_required
from patients.models import Patient

TEMPLATE = "appointments/messages/message_list.html"


def _page(request: HttpRequest, *, title: str, rows, back: str) -> HttpResponse:
    rows = list(rows)
    for row in rows:
        row.current_slot = is_current_slot(row)  # Resend is offered only for the visit's current slot
    context = {
        "title": title,
        "rows": rows,
        "back": back,
        "can_resend": has_role(request.user, *RESEND),
        "resendable": {Reminder.Status.SENT, Reminder.Status.FAILED, Reminder.Status.SKIPPED},
    }
    return render(request, TEMPLATE, context)


@role_required(*MESSAGE_LOG)
def appointment_messages(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.select_related("patient"), pk=pk)
    title = f"Messages for the visit of {appointment.patient.full_name}"
    return _page(request, title=title, rows=reminders_for_log(appointment=pk), back=request.path)


@role_required(*MESSAGE_LOG)
def patient_messages(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    title = f"Messages to {patient.full_name}"
    return _page(request, title=title, rows=reminders_for_log(patient=patient_pk), back=request.path)


@role_required(*RESEND)
@require_POST
def message_resend(request: HttpRequest, pk: int) -> HttpResponse:
    reminder = get_object_or_404(Reminder, pk=pk)
    try:
        reminder_resend(reminder=reminder, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The {reminder.get_kind_display().lower()} will be sent again shortly.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("appointments:patient_messages", args=[reminder.patient_id])
    return redirect(back)


urlpatterns = [
    path("<int:pk>/messages/", appointment_messages, name="messages"),
    path("patients/<int:patient_pk>/messages/", patient_messages, name="patient_messages"),
    path("messages/<int:pk>/resend/", message_resend, name="message_resend"),
]
