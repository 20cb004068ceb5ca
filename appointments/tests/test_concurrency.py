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

    from clinic.localtime import local_datetime

    return local_datetime(monday, dt.time(10)).isoformat()


@pytest.mark.parametrize("resource", ["therapist", "room", "device", "patient"])
def test_twenty_requests_for_one_resource_book_exactly_one(desk, slot, resource):
    """Every request has its own plan and, except for the shared resource,
    its own therapist, room and device: only R1 on that resource can refuse."""
    shared = {
        "therapist": TherapistFactory,
        "room": RoomFactory,
        "device": DeviceFactory,
        "patient": PatientFactory,
    }[resource]()
    plans = _plans(RACERS, patient=shared if resource == "patient" else None)
    payloads = []
    for plan in plans:
        payload = {"plan": plan.pk, "start": slot}
        for name, factory in (
            ("therapist", TherapistFactory),
            ("room", RoomFactory),
            ("device", DeviceFactory),
        ):
            payload[name] = shared.pk if name == resource else factory().pk
        payloads.append(payload)
    assert _race(payloads, desk) == Counter({201: 1, 409: RACERS - 1})
    assert Appointment.objects.filter(**{resource: shared}).count() == 1
