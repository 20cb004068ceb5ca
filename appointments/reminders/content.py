"""What a patient email says. Least health information (R13): the clinic,
the time in the clinic's zone with the zone shown, and signed links; never a
diagnosis, drug, body site or treatment name. Details sit behind the link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.formats import date_format

from appointments.models import Appointment, Reminder
from appointments.reminders import kinds
from appointments.reminders.selectors import announced_start
from appointments.reminders.tokens import claim_url, link_url, optout_url
from appointments.reminders.vtimezone import vtimezone_lines
from clinic.jinja import render_mail
from clinic.localtime import clinic_tz
from clinic.models import ClinicRules

Kind = Reminder.Kind
TEMPLATE_DIR = "appointments/email"


def when(moment: dt.datetime) -> str:
    """'Mon 15 Mar 2027, 09:00 EDT': the app's date format (clinic/formats)
    in clinic time, the zone named (the abbreviation follows the date, so DST
    is right on either side)."""
    local = moment.astimezone(clinic_tz())
    return f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


def policy_sentence(*, start: dt.datetime, now: dt.datetime, late_cancel_hours: int) -> str:
    """What the patient can still do, true for the time left when the
    message goes out: the deadline while it is ahead, "as soon as you can"
    once it has passed (or is under an hour away: a deadline the patient
    reads too late is worse than none)."""
    deadline = start - dt.timedelta(hours=late_cancel_hours)
    if deadline - now >= dt.timedelta(hours=1):
        return (
            f"If you cannot come, please tell us by {when(deadline)} "
            f"({late_cancel_hours} hours ahead) so someone else can have the time."
        )
    return "If you cannot come, please tell us as soon as you can so someone else can have the time."


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


# A timed reminder in these states is (or will be) the patient's reminder.
LIVE_STATUSES = (Reminder.Status.PENDING, Reminder.Status.SENDING, Reminder.Status.SENT)
# The notices that say whether they also serve as the reminder.
MERGING_KINDS = (Kind.CONFIRMATION, Kind.RESCHEDULED)


@dataclass(frozen=True)
class BatchFacts:
    """What every message of a sweep's batch reads, read once for the batch
    instead of once per message: the clinic's rules, and which of the
    batch's slots have a timed reminder of their own. Read when the batch
    starts, as the per-message reads were read before the commit point:
    the wording is as of building, the commit point re-checks the visit."""

    rules: ClinicRules
    timed: frozenset[tuple[int, dt.datetime]] = frozenset()


def batch_facts(reminders: Sequence[Reminder]) -> BatchFacts:
    visits = {r.appointment_id for r in reminders if r.kind in MERGING_KINDS and r.appointment_id}
    timed = (
        Reminder.objects.filter(appointment_id__in=visits, kind=Kind.REMINDER, status__in=LIVE_STATUSES)
        .values_list("appointment_id", "slot_start")
        .distinct()
        if visits
        else ()
    )
    kinds.prepare_batch(reminders)
    return BatchFacts(rules=ClinicRules.current(), timed=frozenset(timed))


def _includes_reminder(reminder: Reminder, facts: BatchFacts | None = None) -> bool:
    """A notice stands in for the timed reminder when none is planned for its
    slot (the visit was too close: planning.py merges them)."""
    if facts is not None:
        return (reminder.appointment_id, reminder.slot_start) not in facts.timed
    return not reminder.appointment.reminders.filter(
        kind=Kind.REMINDER, slot_start=reminder.slot_start, status__in=LIVE_STATUSES
    ).exists()


@dataclass(frozen=True)
class Wording:
    """Every sentence that depends on the kind and the moment, written once:
    the subject, the text and the HTML part read the same fields."""

    subject: str
    lead: str
    when: str
    old_when: str = ""
    policy: str = ""
    also_reminder: bool = False


def wording_for(
    reminder: Reminder, *, now: dt.datetime, late_cancel_hours: int, facts: BatchFacts | None = None
) -> Wording:
    clinic = settings.CLINIC_NAME
    at = when(reminder.slot_start)
    policy = policy_sentence(start=reminder.slot_start, now=now, late_cancel_hours=late_cancel_hours)
    kind = reminder.kind
    if kind == Kind.CONFIRMATION:
        merged = _includes_reminder(reminder, facts)
        return Wording(
            subject=f"Your appointment at {clinic}: {at}",
            lead="Your appointment is booked:",
            when=at,
            policy=policy,
            also_reminder=merged,
        )
    if kind == Kind.REMINDER:
        return Wording(
            subject=f"Reminder: your appointment at {clinic}, {at}",
            lead="A reminder of your appointment:",
            when=at,
            policy=policy,
        )
    if kind == Kind.RESCHEDULED:
        old = announced_start(reminder.appointment, other_than=reminder.slot_start)
        old_when = when(old) if old else ""
        return Wording(
            subject=f"Your appointment at {clinic} has moved to {at}",
            lead=f"Your appointment on {old_when} has moved. The new time is:"
            if old_when
            else "Your appointment has moved. The new time is:",
            when=at,
            old_when=old_when,
            policy=policy,
            also_reminder=_includes_reminder(reminder, facts),
        )
    if kind == Kind.CANCELLATION:
        return Wording(
            subject=f"Cancelled: your appointment at {clinic}, {at}",
            lead=f"Your appointment on {at} at {clinic} is cancelled.",
            when=at,
        )
    if kind == Kind.WAITLIST_OFFER:
        return Wording(
            subject=f"An appointment time opened up at {clinic}: {at}",
            lead="You asked us to tell you when an appointment time opens up. This one is free now:",
            when=at,
        )
    if kind == Kind.MAINTENANCE_RECALL:
        return Wording(
            subject=f"Time to book your next visit at {clinic}",
            lead="It is time to book your next visit with us.",
            when=at,
        )
    # A kind without wording here: its templates say it all (subject.txt).
    return Wording(subject="", lead="", when=at)


def context_for(
    reminder: Reminder,
    *,
    rules: ClinicRules | None = None,
    facts: BatchFacts | None = None,
    visits: list[Appointment] | None = None,
) -> dict:
    appointment = reminder.appointment
    rules = rules or (facts.rules if facts else ClinicRules.current())
    wording = wording_for(
        reminder, now=timezone.now(), late_cancel_hours=rules.late_cancel_hours, facts=facts
    )
    context = {
        "kind": reminder.kind,
        "clinic": clinic_context(),
        "first_name": reminder.patient.first_name,
        "when": wording.when,  # when(reminder.slot_start), formatted once
        "late_cancel_hours": rules.late_cancel_hours,
        "wording": wording,
        "unsubscribe_url": optout_url(reminder.patient_id),
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
            context["reschedule_url"] = link_url(appointment, "reschedule")
    if reminder.kind == Kind.SERIES_CONFIRMATION:
        context["visits"] = [
            {
                "when": when(visit.start),
                "minutes": int((visit.end - visit.start).total_seconds() // 60),
                "details_url": link_url(visit, "view"),
            }
            for visit in (series_visits(reminder) if visits is None else visits)
        ]
    kinds.extend_context(reminder, context)
    return context


def _text(value: str) -> str:
    """An iCalendar TEXT value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _param(value: str) -> str:
    """A parameter value, quoted (it may hold ':', ';' or ','); DQUOTE is not allowed in it."""
    return '"' + value.replace('"', "'") + '"'


def _fold(line: str) -> bytes:
    """Lines longer than 75 octets continue on the next line after a space,
    never inside a UTF-8 character (RFC 5545 §3.1)."""
    raw = line.encode()
    if len(raw) <= 75:
        return raw
    parts, chunk, limit = [], b"", 75
    for char in line:
        encoded = char.encode()
        if len(chunk) + len(encoded) > limit:
            parts.append(chunk)
            chunk, limit = b"", 74
        chunk += encoded
    parts.append(chunk)
    return b"\r\n ".join(parts)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _vevent(
    *,
    uid: str,
    sequence: int,
    start: dt.datetime,
    end: dt.datetime,
    cancelled: bool,
    details_url: str,
    stamp: dt.datetime,
) -> list[str]:
    tz = clinic_tz()
    start, end = start.astimezone(tz), end.astimezone(tz)
    local = "%Y%m%dT%H%M%S"
    name = settings.CLINIC_NAME
    lines = [
        "BEGIN:VEVENT",
        f"UID:{_text(uid)}",
        f"SEQUENCE:{int(sequence)}",
        f"DTSTAMP:{_stamp(stamp)}",
        f"DTSTART;TZID={tz.key}:{start.strftime(local)}",
        f"DTEND;TZID={tz.key}:{end.strftime(local)}",
        f"SUMMARY:{_text(f'Appointment at {name}')}",
        f"LOCATION:{_text(f'{name}, {settings.CLINIC_ADDRESS}')}",
    ]
    if details_url:
        lines.append(
            f"DESCRIPTION:{_text(f'Details: {details_url}' + chr(10) + f'Phone: {settings.CLINIC_PHONE}')}"
        )
    lines += [
        f"ORGANIZER;CN={_param(name)}:mailto:{organizer_address()}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"TRANSP:{'TRANSPARENT' if cancelled else 'OPAQUE'}",
        "END:VEVENT",
    ]
    return lines


def invitation(
    *,
    uid: str,
    sequence: int,
    start: dt.datetime,
    end: dt.datetime,
    cancelled: bool = False,
    details_url: str = "",
    stamp: dt.datetime | None = None,
    more: Sequence[dict] = (),
) -> bytes:
    """An iCalendar object that asks for no reply: METHOD:PUBLISH (CANCEL
    once cancelled), no ATTENDEE, so mail clients offer "add to calendar",
    never RSVP buttons; calendars update it in place by UID and SEQUENCE.
    Its time is in the clinic zone with an RRULE VTIMEZONE (vtimezone.py).
    `more` adds further events (a series confirmation carries every session,
    each with its own UID). Written directly (a few lines, escaped and folded
    per RFC 5545): the icalendar library costs milliseconds per message,
    which the sweep's throughput cannot afford; tests read the result with
    three parsers."""
    stamp = stamp or timezone.now()
    first = {"uid": uid, "sequence": sequence, "start": start, "end": end, "details_url": details_url}
    events = [first, *more]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Phoresis//Appointments//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        *vtimezone_lines(clinic_tz().key, start.astimezone(clinic_tz()).year),
    ]
    for event in events:
        lines += _vevent(**{"details_url": "", **event}, cancelled=cancelled, stamp=stamp)
    lines.append("END:VCALENDAR")
    return b"\r\n".join(_fold(line) for line in lines) + b"\r\n"


def _visit_event(visit: Appointment, *, start: dt.datetime, details_url: str) -> dict:
    return {
        "uid": f"appointment-{visit.pk}@{site_host()}",
        "sequence": visit.sequence,
        "start": start,
        "end": start + (visit.end - visit.start),
        "details_url": details_url,
    }


def calendar_for(
    reminder: Reminder, details_url: str = "", *, visits: list[Appointment] | None = None
) -> bytes | None:
    """The visit's invitation: one UID per appointment, the appointment's
    SEQUENCE (bumped on every move); METHOD:CANCEL once cancelled. A series
    confirmation carries one calendar with every session of the series."""
    appointment: Appointment | None = reminder.appointment
    if appointment is None:
        return None
    if reminder.kind == Kind.SERIES_CONFIRMATION:
        events = [
            _visit_event(v, start=v.start, details_url=link_url(v, "view"))
            for v in (series_visits(reminder) if visits is None else visits)
        ]
    else:
        events = []
    if not events:
        events = [_visit_event(appointment, start=reminder.slot_start, details_url=details_url)]
    return invitation(**events[0], cancelled=reminder.kind == Kind.CANCELLATION, more=events[1:])


def _address(from_email: str) -> str:
    return from_email.rsplit("<", 1)[-1].rstrip(">").strip()


def organizer_address() -> str:
    """The clinic's real address when configured (a reply reaches a person),
    else the sender's."""
    return settings.CLINIC_EMAIL or _address(settings.DEFAULT_FROM_EMAIL)


def build_message(
    reminder: Reminder, *, rules: ClinicRules | None = None, facts: BatchFacts | None = None
) -> EmailMultiAlternatives:
    # A series' sessions are read once for the text and the calendar alike.
    visits = series_visits(reminder) if reminder.kind == Kind.SERIES_CONFIRMATION else None
    context = context_for(reminder, rules=rules, facts=facts, visits=visits)
    host = site_host()
    subject = " ".join(render_mail(f"{TEMPLATE_DIR}/subject.txt", context).split())
    text = render_mail(f"{TEMPLATE_DIR}/{reminder.kind}.txt", context)
    html = render_mail(f"{TEMPLATE_DIR}/{reminder.kind}.html", context)
    headers = {
        "Message-ID": make_msgid(idstring=f"reminder.{reminder.pk}.{reminder.attempts}", domain=host),
        "X-Phoresis-Reminder": str(reminder.pk),
        "Auto-Submitted": "auto-generated",
        # RFC 8058: mail providers show "Unsubscribe" and POST
        # "List-Unsubscribe=One-Click" to the URL; the page can undo it.
        "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if settings.CLINIC_EMAIL:
        headers["Reply-To"] = settings.CLINIC_EMAIL
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.patient.email],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    ics = calendar_for(reminder, context.get("details_url", ""), visits=visits)
    if ics is not None:
        method = "CANCEL" if reminder.kind == Kind.CANCELLATION else "PUBLISH"
        message.attach("appointment.ics", ics, f"text/calendar; method={method}")
    return message
