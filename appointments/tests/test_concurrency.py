"""R1 under real concurrency on PostgreSQL: 20 requests, each in its own
thread with its own database connection, race for one slot."""

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from appointments.models import Appointment
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.tests.factories import UserFactory
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.tests.factories import PlanFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 20


def _race(requests: list[dict], user) -> Counter:
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []
    bodies: list[dict] = []
    lock = threading.Lock()

    def run(payload: dict) -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=30)
            response = client.post("/api/v1/appointments/", payload, format="json")
            with lock:
                statuses.append(response.status_code)
                bodies.append(response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(payload,)) for payload in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    conflicts = [b for s, b in zip(statuses, bodies, strict=True) if s == 409]
    assert all(b["conflicts"] and b["detail"] for b in conflicts)
    return Counter(statuses)


def _plans(count, *, patient=None):
    plans = []
    for _ in range(count):
        plan = PlanFactory(patient=patient or PatientFactory())
        ScreeningFactory(patient=plan.patient)
        plans.append(plan)
    return plans


@pytest.fixture
def desk():
    return UserFactory(username="racer-desk", role="front_desk")


@pytest.fixture
def slot(monday):
    import datetime as dt

    from appointments.availability import local_datetime

    return local_datetime(monday, dt.time(10)).isoformat()


def test_twenty_requests_for_one_therapist_slot_book_exactly_one(desk, slot):
    therapist = TherapistFactory()
    payloads = [
        {
            "plan": p.pk,
            "start": slot,
            "therapist": therapist.pk,
            "room": RoomFactory().pk,
            "device": DeviceFactory().pk,
        }
        for p in _plans(RACERS)
    ]
    assert _race(payloads, desk) == Counter({201: 1, 409: RACERS - 1})
    assert Appointment.objects.filter(therapist=therapist).count() == 1


def test_twenty_requests_for_one_room_book_exactly_one(desk, slot):
    room = RoomFactory()
    payloads = [
        {
            "plan": p.pk,
            "start": slot,
            "therapist": TherapistFactory().pk,
            "room": room.pk,
            "device": DeviceFactory().pk,
        }
        for p in _plans(RACERS)
    ]
    assert _race(payloads, desk) == Counter({201: 1, 409: RACERS - 1})
    assert Appointment.objects.filter(room=room).count() == 1


def test_twenty_requests_for_one_device_book_exactly_one(desk, slot):
    device = DeviceFactory()
    payloads = [
        {
            "plan": p.pk,
            "start": slot,
            "therapist": TherapistFactory().pk,
            "room": RoomFactory().pk,
            "device": device.pk,
        }
        for p in _plans(RACERS)
    ]
    assert _race(payloads, desk) == Counter({201: 1, 409: RACERS - 1})
    assert Appointment.objects.filter(device=device).count() == 1


def test_twenty_requests_for_one_patient_book_exactly_one(desk, slot):
    patient = PatientFactory()
    payloads = [
        {
            "plan": p.pk,
            "start": slot,
            "therapist": TherapistFactory().pk,
            "room": RoomFactory().pk,
            "device": DeviceFactory().pk,
        }
        for p in _plans(RACERS, patient=patient)
    ]
    assert _race(payloads, desk) == Counter({201: 1, 409: RACERS - 1})
    assert Appointment.objects.filter(patient=patient).count() == 1
