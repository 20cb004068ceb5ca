"""Demo scheduling data for `seed_demo`: therapists with hours, rooms,
devices, a closure, and a few weeks of synthetic appointments around today.
Idempotent: resources are matched by name; appointments are added once."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, ClinicClosure, Device, Room, Therapist, WorkingHours
from clinic.localtime import local_datetime
from clinic.roles import Role
from treatments.models import Modality, TreatmentPlan

ALL = [m.value for m in Modality]
THERAPISTS = (
    # username, display name, modalities, weekly blocks (weekday, start, end)
    (
        "therapist",
        "Theo Rapist, PT",
        ALL,
        [(d, "08:00", "12:00") for d in range(5)] + [(d, "13:00", "17:00") for d in range(5)],
    ),
    (
        "therapist2",
        "Tess Ward, RN",
        [Modality.TAP_WATER, Modality.IONTOPHORESIS],
        [(d, "09:00", "17:30") for d in range(5)],
    ),
    ("therapist3", "Priya Nair, PT", ALL, [(d, "10:00", "18:00") for d in (0, 1, 2, 3)]),
)
ROOMS = (
    ("Room 1", ALL),
    ("Room 2", [Modality.IONTOPHORESIS, Modality.PHONOPHORESIS]),
    ("Room 3 (trays)", [Modality.TAP_WATER]),
)
DEVICES = (
    ("Dupel B.L.U.E. #1", Device.Kind.IONTOPHORESIS, "IONTO-1001", "Room 1"),
    ("Dupel B.L.U.E. #2", Device.Kind.IONTOPHORESIS, "IONTO-1002", "Room 2"),
    ("ActivaDose II", Device.Kind.IONTOPHORESIS, "IONTO-1003", None),
    ("Sonicator 740", Device.Kind.ULTRASOUND, "US-2001", "Room 2"),
    ("Intelect US", Device.Kind.ULTRASOUND, "US-2002", "Room 1"),
    ("Hidrex PT", Device.Kind.TAP_WATER, "TW-3001", "Room 3 (trays)"),
    ("RA Fischer MD-1a", Device.Kind.TAP_WATER, "TW-3002", "Room 1"),
)


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _resources() -> list[Therapist]:
    from django.conf import settings

    therapists = []
    for username, name, modalities, blocks in THERAPISTS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": name.split()[0]}
        )
        if created:
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get_or_create(name=Role.THERAPIST)[0])
        therapist, created = Therapist.objects.get_or_create(
            user=user, defaults={"display_name": name, "modalities": list(modalities)}
        )
        if created:
            WorkingHours.objects.bulk_create(
                WorkingHours(therapist=therapist, weekday=d, start_time=_time(s), end_time=_time(e))
                for d, s, e in blocks
            )
        therapists.append(therapist)
    rooms = {}
    for name, modalities in ROOMS:
        rooms[name] = Room.objects.get_or_create(name=name, defaults={"modalities": list(modalities)})[0]
    today = timezone.localdate()
    for i, (name, kind, serial, home) in enumerate(DEVICES):
        Device.objects.get_or_create(
            serial_number=serial,
            defaults={
                "name": name,
                "kind": kind,
                "home_room": rooms.get(home),
                # one device comes due soon, so the admin dashboard has something to show
                "calibration_due": today + dt.timedelta(days=20 if i == 2 else 200 + 30 * i),
            },
        )
    christmas = dt.date(today.year, 12, 25)
    ClinicClosure.objects.get_or_create(
        start_date=christmas, end_date=christmas, defaults={"reason": "Christmas Day"}
    )
    return therapists


def _direct_visit(plan: TreatmentPlan, therapist: Therapist, day: dt.date, at: dt.time, status: str) -> None:
    """History (and today's earlier visits), created directly: the booking
    service refuses times that have passed. Slots that clash are skipped."""
    room = Room.objects.filter(name__in=[n for n, m in ROOMS if plan.modality in m]).order_by("name").first()
    device = (
        Device.objects.filter(kind=Device.KIND_FOR_MODALITY[plan.modality]).order_by("serial_number").first()
    )
    start = local_datetime(day, at)
    end = start + dt.timedelta(minutes=plan.session_minutes)
    clash = Appointment.objects.exclude(status=Appointment.Status.CANCELLED).filter(
        Q(therapist=therapist) | Q(room=room) | Q(device=device) | Q(patient_id=plan.patient_id),
        start__lt=end,
        end__gt=start,
    )
    if clash.exists():
        return
    Appointment.objects.create(
        patient_id=plan.patient_id,
        plan=plan,
        therapist=therapist,
        room=room,
        device=device,
        start=start,
        end=end,
        status=status,
        completed_at=end if status == Appointment.Status.COMPLETED else None,
        no_show_at=end if status == Appointment.Status.NO_SHOW else None,
        checked_in_at=start if status == Appointment.Status.CHECKED_IN else None,
    )


def _weekday_before(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def seed() -> None:
    therapists = _resources()
    if Appointment.objects.exists():
        return
    plans = list(
        TreatmentPlan.objects.filter(status=TreatmentPlan.Status.ACTIVE)
        .select_related("patient")
        .order_by("pk")[:24]
    )
    today = timezone.localdate()
    for i, plan in enumerate(plans):
        qualified = [t for t in therapists if plan.modality in t.modalities]
        therapist = qualified[i % len(qualified)]
        at = dt.time(10 + (i // len(therapists)) % 6, 30 * (i % 2))
        for week in range(min(2, max(plan.session_limit - 4, 0)), 0, -1):
            status = Appointment.Status.NO_SHOW if (plan.pk + week) % 9 == 0 else Appointment.Status.COMPLETED
            _direct_visit(plan, therapist, _weekday_before(today - dt.timedelta(days=7 * week)), at, status)
        first = today + dt.timedelta(days=1 + i % 3)
        if i < 6 and today.weekday() < 5:
            # Today's day sheet: a few visits, the earlier ones already checked in.
            passed = local_datetime(today, at) < timezone.now()
            _direct_visit(plan, therapist, today, at, "checked_in" if passed else "scheduled")
            first = today + dt.timedelta(days=3)
        try:
            services.series_book(
                plan=plan, start=local_datetime(first, at), therapist=therapist, allow_partial=True
            )
        except ValidationError:
            continue  # demo data: a plan whose series does not fit is left for the front desk to book
