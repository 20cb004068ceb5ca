"""Synthetic data for the scale-out test, run as a separate process against
the namespaced PostgreSQL: `python -m clinic.tests.scaleout.seed setup|reminders N`.
Prints one JSON line the test reads."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

import django


def _setup(load: int) -> dict:
    from rest_framework.authtoken.models import Token

    from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
    from clinic.localtime import local_datetime
    from clinic.tests.factories import UserFactory
    from patients.tests.factories import ScreeningFactory
    from treatments.tests.factories import PlanFactory

    desk = UserFactory(username="scaleout-desk", role="front_desk")
    # One screener: every new user costs a production password hash (~0.5 s).
    screener = UserFactory(username="scaleout-screener", role="therapist")
    token = Token.objects.get_or_create(user=desk)[0].key
    for n in range(3):
        room = RoomFactory(name=f"Scale room {n}")
        DeviceFactory(home_room=room, serial_number=f"SCALE-{n}")
    race_therapist = TherapistFactory(display_name="Race therapist")
    load_therapist = TherapistFactory(display_name="Load therapist")

    def plan():
        made = PlanFactory(sessions_prescribed=6, frequency_per_week=5, min_interval_hours=0)
        ScreeningFactory(patient=made.patient, screened_by=screener)
        return made.pk

    day = dt.date.today() + dt.timedelta(days=14)
    while day.weekday() != 1:
        day += dt.timedelta(days=1)
    race_start = local_datetime(day, dt.time(10))
    # Load: one plan per booking, 30-minute steps 08:00–16:30 on later weekdays.
    starts: list[dt.datetime] = []
    cursor = day + dt.timedelta(days=7)
    while len(starts) < load:
        if cursor.weekday() < 5:
            for half_hours in range(18):
                starts.append(local_datetime(cursor, dt.time(8)) + dt.timedelta(minutes=30 * half_hours))
        cursor += dt.timedelta(days=1)
    return {
        "token": token,
        "race_therapist": race_therapist.pk,
        "load_therapist": load_therapist.pk,
        "race_plans": [plan() for _ in range(20)],
        "race_start": race_start.isoformat(),
        "load": [{"plan": plan(), "start": start.isoformat()} for start in starts[:load]],
    }


def _reminders(count: int, per_visit: int = 50) -> dict:
    """`count` due reminder rows: kind reminder at distinct offsets on a few
    booked visits (the uniqueness is per visit, kind, slot and offset)."""
    from django.db import transaction
    from django.utils import timezone

    from appointments import services as scheduling
    from appointments.models import Reminder
    from appointments.tests.factories import TherapistFactory
    from clinic.localtime import local_datetime
    from clinic.tests.factories import UserFactory
    from patients.tests.factories import PatientFactory, ScreeningFactory
    from treatments.tests.factories import MedicationFactory, PlanFactory

    # A second process: the factories' sequences start again at 0 (MRNs, usernames).
    for made_before in (PatientFactory, UserFactory, TherapistFactory, MedicationFactory):
        made_before.reset_sequence(100_000)
    therapist = TherapistFactory(display_name="Sweep therapist")
    screener = UserFactory(username="scaleout-screener", role="therapist")
    now = timezone.now()
    day = dt.date.today() + dt.timedelta(days=60)
    rows = []
    visits = (count + per_visit - 1) // per_visit
    with transaction.atomic():
        for n in range(visits):
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            plan = PlanFactory(frequency_per_week=5, min_interval_hours=0)
            ScreeningFactory(patient=plan.patient, screened_by=screener)
            start = local_datetime(day, dt.time(8)) + dt.timedelta(minutes=30 * (n % 16))
            appointment = scheduling.appointment_book(plan=plan, start=start, therapist=therapist)
            if n % 16 == 15:
                day += dt.timedelta(days=1)
            for offset in range(per_visit):
                if len(rows) == count:
                    break
                rows.append(
                    Reminder(
                        appointment=appointment,
                        patient_id=plan.patient_id,
                        plan=plan,
                        kind=Reminder.Kind.REMINDER,
                        slot_start=appointment.start,
                        slot_end=appointment.end,
                        offset_minutes=10_000 + offset,
                        due_at=now,
                    )
                )
        made = Reminder.objects.bulk_create(rows)
    return {"ids": [r.pk for r in made]}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()
    out = _setup(int(argv[1])) if argv[0] == "setup" else _reminders(int(argv[1]))
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
