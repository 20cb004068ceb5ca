"""A therapist's personal calendar feed (read-only iCalendar), for their
phone or desktop calendar. The token in the URL is the credential, so the
feed carries the least: time, room and the patient's initials."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from appointments.models import Appointment, Therapist
from clinic.ratelimit import CALENDAR_FEED_LIMIT, rate_limit


@login_not_required
@never_cache
@rate_limit("calendar-feed", limit=CALENDAR_FEED_LIMIT)
@require_GET
def therapist_feed(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("token", "")
    therapist = Therapist.objects.filter(calendar_token=token, is_active=True).first() if token else None
    if therapist is None:
        return HttpResponse("Unknown or missing calendar token.", status=403, content_type="text/plain")
    now = timezone.now()
    rows = (
        Appointment.objects.filter(
            therapist=therapist,
            start__gte=now - dt.timedelta(days=14),
            start__lte=now + dt.timedelta(days=60),
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("patient", "room")
        .order_by("start")
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Phoresis//therapist feed//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{settings.CLINIC_NAME}: {therapist.display_name}")
    host = settings.SITE_URL.split("://")[-1]
    for appointment in rows:
        event = Event()
        initials = f"{appointment.patient.first_name[:1]}{appointment.patient.last_name[:1]}"
        event.add("uid", f"appointment-{appointment.pk}@{host}")
        event.add("summary", f"Visit {initials} · {appointment.room.name}")
        event.add("dtstart", appointment.start)
        event.add("dtend", appointment.end)
        event.add("dtstamp", now)
        event.add("sequence", appointment.sequence)
        event.add("location", appointment.room.name)
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="phoresis.ics"'
    return response
