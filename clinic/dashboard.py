"""The home page's reads, one set per role. Like clinic/urls.py this sits at
the project level and reads every app; each function runs a fixed number of
queries however many rows there are (the tests hold them to it)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from appointments import selectors, services
from appointments.models import Appointment, AppointmentChange, Device, Therapist
from clinic.localtime import local_date, local_day_bounds
from clinic.roles import Role, roles_of
from homecare import selectors as home_selectors
from notes.models import SessionNote
from supplies.selectors import stock_alerts
from treatments.models import TreatmentPlan
from treatments.selectors import OPEN_PLAN_STATUSES, plans_with_authorization_alerts, plans_with_counts

CALIBRATION_WARNING_DAYS = 30
PATIENT_CHANGES_DAYS = 7
LIST_LIMIT = 50
UNSIGNED_SHOWN = 10  # the oldest first; the count says how many more wait


def front_desk_dashboard(*, now: dt.datetime | None = None) -> dict:
    """Today's arrivals (to check in), tomorrow's visits nobody confirmed
    yet (to call), and freed slots that a waitlist patient could take."""
    now = now or timezone.now()
    today = local_date(now)
    start, end = local_day_bounds(today)
    tomorrow_start, tomorrow_end = local_day_bounds(today + dt.timedelta(days=1))
    arrivals = list(selectors.appointments_between(start=start, end=end))
    unconfirmed = list(
        selectors.appointments_between(start=tomorrow_start, end=tomorrow_end).filter(
            status=Appointment.Status.SCHEDULED
        )
    )
    return {
        "today": today,
        "arrivals": arrivals,
        "waiting": sum(1 for a in arrivals if a.status in Appointment.UPCOMING_STATUSES),
        "unconfirmed": unconfirmed,
        "waitlist_matches": [
            (slot, entries)
            for slot, entries in selectors.freed_slots(now=now, bookable=services.entry_bookable)
            if entries
        ],
        "authorization_alerts": plans_with_authorization_alerts(today=today),
        "patient_changes": patient_changes(now=now),
    }


def patient_changes(*, now: dt.datetime) -> list[AppointmentChange]:
    """What patients did from their email links in the last week (moved or
    cancelled a visit), newest first: the front desk sees it without asking."""
    return list(
        AppointmentChange.objects.filter(
            by_patient=True, changed_at__gte=now - dt.timedelta(days=PATIENT_CHANGES_DAYS)
        )
        .select_related("appointment__patient")
        .order_by("-changed_at", "-id")[:LIST_LIMIT]
    )


def therapist_dashboard(*, user, now: dt.datetime | None = None) -> dict:
    """The therapist's own visits today, and their visits that happened (or
    are checked in) whose note is missing or still a draft."""
    now = now or timezone.now()
    today = local_date(now)
    start, end = local_day_bounds(today)
    mine = Appointment.objects.filter(therapist__user=user)
    given = Q(status__in=[Appointment.Status.CHECKED_IN, Appointment.Status.COMPLETED]) | Q(start__lt=now)
    my_day = list(selectors.appointments_between(start=start, end=end).filter(therapist__user=user))
    unsigned = (
        mine.filter(status__in=Appointment.ACTIVE_STATUSES)
        .filter(given)
        .filter(Q(note__isnull=True) | Q(note__status=SessionNote.Status.DRAFT))
    )
    me = Therapist.objects.filter(user=user).first()
    return {
        "today": today,
        "my_day": my_day,
        "calendar_feed_url": services.calendar_feed_url(therapist=me) if me else "",
        "unsigned": list(selectors.appointment_list(unsigned).order_by("start", "id")[:UNSIGNED_SHOWN]),
        "unsigned_count": unsigned.count(),
        # The home program (homecare): patients to call, intake answers to review.
        "home_attention": home_selectors.needing_attention(now=now)[:LIST_LIMIT],
        "intakes": list(home_selectors.intakes_to_review()[:LIST_LIMIT]),
    }


def admin_dashboard(*, now: dt.datetime | None = None) -> dict:
    """Devices whose calibration falls due within 30 days (or is past),
    plans close to the end of their authorization (R14), this month's
    late cancellations and no-shows per patient (R12), and the supplies'
    alerts (below reorder level, expiring, an expired lot tried)."""
    now = now or timezone.now()
    today = local_date(now)
    month_start = local_day_bounds(today.replace(day=1))[0]
    devices = list(
        Device.objects.filter(
            in_service=True, calibration_due__lte=today + dt.timedelta(days=CALIBRATION_WARNING_DAYS)
        )
        .select_related("home_room")
        .order_by("calibration_due", "name")
    )
    plans = list(
        plans_with_counts(TreatmentPlan.objects.filter(status__in=OPEN_PLAN_STATUSES))
        .filter(authorization_alert=True)
        .order_by("remaining", "patient__last_name", "id")[:LIST_LIMIT]
    )
    late = Q(status=Appointment.Status.CANCELLED, late_cancellation=True, cancelled_at__gte=month_start)
    no_show = Q(status=Appointment.Status.NO_SHOW, start__gte=month_start, start__lt=now)
    attendance = list(
        Appointment.objects.filter(late | no_show)
        .values("patient_id", "patient__first_name", "patient__last_name", "patient__mrn")
        .annotate(late_cancellations=Count("id", filter=late), no_shows=Count("id", filter=no_show))
        .order_by("-no_shows", "-late_cancellations", "patient__last_name", "patient_id")
    )
    return {
        "today": today,
        "month_start": month_start,
        "devices": devices,
        "overdue_devices": sum(1 for d in devices if d.calibration_due < today),
        "plans_running_out": plans,
        "authorization_alerts": plans_with_authorization_alerts(today=today),
        "attendance": attendance,
        "late_cancellations": sum(row["late_cancellations"] for row in attendance),
        "no_shows": sum(row["no_shows"] for row in attendance),
        "stock": stock_alerts(today=today),
    }


def dashboard_for(user, *, now: dt.datetime | None = None) -> dict:
    """The sections of the home page for the roles the user holds."""
    held = roles_of(user)
    context: dict = {}
    if Role.CLINIC_ADMIN in held:
        context["admin"] = admin_dashboard(now=now)
    if Role.FRONT_DESK in held:
        context["front_desk"] = front_desk_dashboard(now=now)
    if Role.THERAPIST in held:
        context["therapist"] = therapist_dashboard(user=user, now=now)
    return context
