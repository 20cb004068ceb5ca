"""A small clinic for the browser tests: staff who log in with the demo
password, one room with a device of each kind, and patients with current
screenings and active plans. Names are fixed so screenshots read well."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from appointments.models import Appointment, Device, Therapist
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.localtime import clinic_tz, local_datetime
from clinic.tests.factories import UserFactory
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.tests.factories import PlanFactory

# Every day, early to late: the tests run at any hour on any day.
ALL_WEEK = [(day, dt.time(7), dt.time(20)) for day in range(7)]


def staff() -> dict:
    front = UserFactory(username="frontdesk", first_name="Fran", last_name="Desk", role="front_desk")
    admin = UserFactory(
        username="admin", first_name="Ada", last_name="Admin", role="clinic_admin", is_staff=True
    )
    theo = TherapistFactory(
        user=UserFactory(username="therapist", first_name="Theo", last_name="Rapist", role="therapist"),
        display_name="Theo Rapist, PT",
        hours=ALL_WEEK,
    )
    room = RoomFactory(name="Room 1")
    far = timezone.localdate() + dt.timedelta(days=365)
    for name, kind, serial in (
        ("Dupel B.L.U.E.", Device.Kind.IONTOPHORESIS, "IONTO-1"),
        ("Sonicator 740", Device.Kind.ULTRASOUND, "US-1"),
        ("Hidrex PT", Device.Kind.TAP_WATER, "TW-1"),
    ):
        DeviceFactory(name=name, kind=kind, serial_number=serial, home_room=room, calibration_due=far)
    return {"front_desk": front, "admin": admin, "therapist": theo, "room": room}


def patient_plan(first: str, last: str, **plan_fields):
    """A patient with a current screening and an active plan (iontophoresis
    with dexamethasone unless told otherwise)."""
    patient = PatientFactory(
        first_name=first,
        last_name=last,
        date_of_birth=dt.date(1978, 4, 12),
        email=f"{first}.{last}@example.invalid".lower(),
    )
    ScreeningFactory(patient=patient, screened_by=UserFactory(role="therapist"))
    return PlanFactory(patient=patient, **plan_fields)


def visit_today(plan, therapist: Therapist, room, *, status=Appointment.Status.SCHEDULED, minutes_ago=10):
    """A visit that started a few minutes ago (still today in the clinic's
    zone): made directly, since booking refuses times in the past."""
    now = timezone.now().astimezone(clinic_tz())
    start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=minutes_ago)
    if start.date() != now.date():  # just after midnight: later today instead, in the same order
        start = local_datetime(now.date(), dt.time(1)) - dt.timedelta(minutes=minutes_ago)
    return Appointment.objects.create(
        patient=plan.patient,
        plan=plan,
        therapist=therapist,
        room=room,
        device=Device.objects.filter(kind=Device.KIND_FOR_MODALITY[plan.modality]).first(),
        start=start,
        end=start + dt.timedelta(minutes=plan.session_minutes),
        status=status,
        checked_in_at=now if status == Appointment.Status.CHECKED_IN else None,
    )


def next_monday(weeks: int = 1) -> dt.date:
    today = timezone.localdate()
    base = today + dt.timedelta(weeks=weeks)
    return base + dt.timedelta(days=(0 - base.weekday()) % 7)
