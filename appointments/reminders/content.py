"""What a patient email says. Least health information (R13): the clinic,
the time in the clinic's zone with the zone shown, and signed links; never a
diagnosis, drug, body site or treatment name. Details sit behind the link."""

from __future__ import annotations

import datetime as dt
from email.utils import make_msgid
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from appointments.models import Appointment, Reminder
from appointments.reminders.tokens import claim_url, link_url
from clinic.localtime import clinic_tz
from clinic.models import ClinicRules

Kind = Reminder.Kind
TEMPLATE_DIR = "appointments/email"


def when(moment: dt.datetime) -> str:
    """'Mon 15 Mar 2027, 09:00 EDT': clinic time, the zone named (the
    abbreviation follows the date, so DST is right on either side)."""
    local = moment.astimezone(clinic_tz())
    return f"{local:%a %d %b %Y}, {local:%H:%M} {local.tzname()}"


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def clinic_context() -> dict:
    return {
        "name": settings.CLINIC_NAME,
        "address": settings.CLINIC_ADDRESS,
        "phone": settings.CLINIC_PHONE,
        "time_zone": settings.CLINIC_TIME_ZONE,
    }


def series_visits(reminder: Reminder, *, now: dt.datetime | None = None) -> list[Appointment]:
    """The sessions a series confirmation lists: the plan's visits still to
    come from the series' first one on (as they stand when it is sent)."""
    now = now or timezone.now()
    return list(
        Appointment.objects.filter(
            plan_id=reminder.plan_id,
            status__in=Appointment.UPCOMING_STATUSES,
            start__gte=reminder.slot_start,
            start__gt=now,
        ).order_by("start")
    )


def context_for(reminder: Reminder, *, rules: ClinicRules | None = None) -> dict:
    appointment = reminder.appointment
    rules = rules or ClinicRules.current()
    context = {
        "kind": reminder.kind,
        "clinic": clinic_context(),
        "first_name": reminder.patient.first_name,
        "when": when(reminder.slot_start),
        "late_cancel_hours": rules.late_cancel_hours,
    }
    if reminder.slot_end:
        context["minutes"] = int((reminder.slot_end - reminder.slot_start).total_seconds() // 60)
    if reminder.kind == Kind.WAITLIST_OFFER:
        context["claim_url"] = claim_url(reminder)
    if appointment is not None:
        context["minutes"] = int((appointment.end - appointment.start).total_seconds() // 60)
        context["details_url"] = link_url(appointment, "view")
        if reminder.kind != Kind.CANCELLATION:
            context["confirm_url"] = link_url(appointment, "confirm")
            context["cancel_url"] = link_url(appointment, "cancel")
    if reminder.kind == Kind.SERIES_CONFIRMATION:
        context["visits"] = [
            {
                "when": when(visit.start),
                "minutes": int((visit.end - visit.start).total_seconds() // 60),
                "details_url": link_url(visit, "view"),
            }
            for visit in series_visits(reminder)
        ]
    return context


def _event(reminder: Reminder, appointment: Appointment, start: dt.datetime, details_url: str):
    cancelled = reminder.kind == Kind.CANCELLATION
    start = start.astimezone(clinic_tz())
    end = start + (appointment.end - appointment.start)
    organizer = icalendar.vCalAddress(f"mailto:{_address(settings.DEFAULT_FROM_EMAIL)}")
    organizer.params["cn"] = icalendar.vText(settings.CLINIC_NAME)
    attendee = icalendar.vCalAddress(f"mailto:{reminder.patient.email}")
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")

    event = icalendar.Event()
    event.add("uid", f"appointment-{appointment.pk}@{site_host()}")
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"Appointment at {settings.CLINIC_NAME}")
    event.add("location", f"{settings.CLINIC_NAME}, {settings.CLINIC_ADDRESS}")
    if details_url:
        event.add("description", f"Details: {details_url}\nPhone: {settings.CLINIC_PHONE}")
    event.add("organizer", organizer)
    event.add("attendee", attendee)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def calendar_for(reminder: Reminder, details_url: str = "") -> bytes | None:
    """An iCalendar invitation for the visit: one UID per appointment, the
    appointment's SEQUENCE (bumped on every move), its time in the clinic
    zone with the VTIMEZONE included; METHOD:CANCEL once cancelled. A series
    confirmation carries one calendar with every session of the series."""
    appointment: Appointment | None = reminder.appointment
    if appointment is None:
        return None
    cancelled = reminder.kind == Kind.CANCELLATION
    if reminder.kind == Kind.SERIES_CONFIRMATION:
        events = [(visit, visit.start, link_url(visit, "view")) for visit in series_visits(reminder)]
    else:
        events = [(appointment, reminder.slot_start, details_url)]
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Phoresis//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    for visit, start, url in events:
        calendar.add_component(_event(reminder, visit, start, url))
    starts = [start.astimezone(clinic_tz()).date() for _, start, _ in events] or [reminder.slot_start.date()]
    calendar.add_missing_timezones(
        first_date=min(starts) - dt.timedelta(days=366), last_date=max(starts) + dt.timedelta(days=366)
    )
    return calendar.to_ical()


def _address(from_email: str) -> str:
    return from_email.rsplit("<", 1)[-1].rstrip(">").strip()


def build_message(reminder: Reminder, *, rules: ClinicRules | None = None) -> EmailMultiAlternatives:
    context = context_for(reminder, rules=rules)
    host = site_host()
    subject = " ".join(render_to_string(f"{TEMPLATE_DIR}/subject.txt", context).split())
    text = render_to_string(f"{TEMPLATE_DIR}/{reminder.kind}.txt", context)
    html = render_to_string(f"{TEMPLATE_DIR}/{reminder.kind}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.patient.email],
        headers={
            "Message-ID": make_msgid(idstring=f"reminder.{reminder.pk}.{reminder.attempts}", domain=host),
            "X-Phoresis-Reminder": str(reminder.pk),
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    ics = calendar_for(reminder, context.get("details_url", ""))
    if ics is not None:
        method = "CANCEL" if reminder.kind == Kind.CANCELLATION else "REQUEST"
        message.attach("appointment.ics", ics, f"text/calendar; method={method}")
    return message
