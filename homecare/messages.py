"""The home program's patient emails, through the scheduling outbox
(appointments.reminders.kinds): registered from HomecareConfig.ready().

R13 holds here too: no diagnosis, drug or treatment word in any email — the
link says the rest behind it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Min

from appointments.models import Appointment, Reminder
from appointments.reminders.content import Wording, when
from homecare import tokens
from homecare.models import HomeProgram

Kind = Reminder.Kind


def _program(reminder: Reminder) -> HomeProgram | None:
    return HomeProgram.objects.filter(plan_id=reminder.plan_id).first()


def check(reminder: Reminder, now: dt.datetime) -> str:
    """Why a home-program message must not go out now ("" to send it)."""
    program = _program(reminder)
    if program is None or not program.link_active:
        return "The home program link is closed."
    if reminder.kind == Kind.HOME_LINK:
        return ""
    if program.status != HomeProgram.Status.ACTIVE:
        return "The home program is paused or ended."
    if (
        reminder.kind == Kind.HOME_SILENCE_RECALL
        and program.sessions.filter(logged_at__gte=reminder.created_at).exists()
    ):
        return "The patient logged a session since."
    return ""


def is_first_visit(appointment: Appointment) -> bool:
    """No live visit of the patient before this one (prepare_batch may have
    read it already for a whole sweep batch)."""
    known = getattr(appointment, "first_visit", None)
    if known is not None:
        return known
    return not (
        Appointment.objects.filter(patient_id=appointment.patient_id, start__lt=appointment.start)
        .exclude(status=Appointment.Status.CANCELLED)
        .exists()
    )


def prepare_batch(reminders) -> None:
    """For a sweep's batch, in one query: which confirmations are of a
    patient's first visit (each patient's earliest live visit)."""
    visits = [
        r.appointment
        for r in reminders
        if r.kind in (Kind.CONFIRMATION, Kind.SERIES_CONFIRMATION) and r.appointment_id
    ]
    if not visits:
        return
    earliest = dict(
        Appointment.objects.filter(patient_id__in={v.patient_id for v in visits})
        .exclude(status=Appointment.Status.CANCELLED)
        .values("patient_id")
        .annotate(first=Min("start"))
        .values_list("patient_id", "first")
    )
    for visit in visits:
        first = earliest.get(visit.patient_id)
        visit.first_visit = first is None or first >= visit.start


def extend(reminder: Reminder, context: dict) -> None:
    """The intake link in the confirmation of a first visit or an evaluation;
    the logging link and the wording of the home program's own messages."""
    clinic = settings.CLINIC_NAME
    appointment = reminder.appointment
    if (
        reminder.kind in (Kind.CONFIRMATION, Kind.SERIES_CONFIRMATION)
        and appointment is not None
        and (appointment.is_evaluation or is_first_visit(appointment))
    ):
        context["intake_url"] = tokens.intake_url(appointment)
    if reminder.kind not in Reminder.HOME_KINDS:
        return
    program = _program(reminder)
    if program is not None:
        context["home_url"] = tokens.home_url(program)
    at = when(reminder.slot_start)
    context["wording"] = {
        Kind.HOME_LINK: Wording(
            subject=f"Your home program link from {clinic}",
            lead="Here is your personal link for your home program. Use it after each session at home.",
            when=at,
        ),
        Kind.HOME_SILENCE_RECALL: Wording(
            subject=f"We have not heard from you: {clinic}",
            lead="We have not seen a home session from you for a while. How is it going?",
            when=at,
        ),
        Kind.HOME_HDSS_RECALL: Wording(
            subject=f"Time for a check-up at {clinic}",
            lead="Your last home sessions suggest your program may need adjusting.",
            when=at,
        ),
    }[reminder.kind]
