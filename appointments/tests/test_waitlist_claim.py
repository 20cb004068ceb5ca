"""Waitlist offers by email and the race to claim a freed slot."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from appointments import services
from appointments.models import Appointment, Reminder, WaitlistEntry
from appointments.reminders import content
from appointments.reminders.tokens import make_claim_token
from appointments.tests.conftest import next_weekday
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.localtime import local_datetime
from patients.tests.factories import ScreeningFactory
from treatments.tests.factories import PlanFactory


def waiting_plan():
    plan = PlanFactory()
    ScreeningFactory(patient=plan.patient)
    return services.waitlist_add(plan=plan)


def _clinic():
    therapist = TherapistFactory(display_name="Theo")
    room = RoomFactory(name="Room 2")
    DeviceFactory(home_room=room)
    start = local_datetime(next_weekday(1), dt.time(9))
    return therapist, start


@pytest.mark.django_db
def test_offer_email_carries_a_claim_link_and_the_claim_books(client):
    therapist, start = _clinic()
    entry = waiting_plan()
    offer = services.waitlist_offer(entry=entry, start=start, therapist=therapist)
    context = content.context_for(offer)
    assert reverse("links:claim", args=[make_claim_token(offer)]) in context["claim_url"]
    url = reverse("links:claim", args=[make_claim_token(offer)])
    page = client.get(url)
    assert page.status_code == 200 and "Book this time" in page.content.decode()
    assert Appointment.objects.count() == 0  # GET never books (mail scanners follow links)
    booked = client.post(url)
    assert booked.status_code == 200 and "You are booked" in booked.content.decode()
    visit = Appointment.objects.get()
    assert (visit.plan_id, visit.start, visit.therapist) == (entry.plan_id, start, therapist)
    entry.refresh_from_db()
    assert entry.is_active is False
    assert client.post(url).status_code == 409


@pytest.mark.django_db
def test_offer_refuses_a_slot_the_plan_cannot_be_booked_into():
    therapist, start = _clinic()
    entry = waiting_plan()
    # A session the next morning: R5 (48 h) rules the offered slot out.
    services.appointment_book(plan=entry.plan, start=start + dt.timedelta(days=1), therapist=therapist)
    entry.refresh_from_db()
    if not entry.is_active:  # booked into a slot it wanted: it left the list
        entry = WaitlistEntry.objects.create(patient=entry.patient, plan=entry.plan)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.waitlist_offer(entry=entry, start=start, therapist=therapist)
    assert not Reminder.objects.filter(kind=Reminder.Kind.WAITLIST_OFFER).exists()


@pytest.mark.django_db
def test_a_tampered_claim_link_is_a_friendly_400(client):
    assert client.get(reverse("links:claim", args=["nope:abc"])).status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_claims_make_one_booking():
    therapist, start = _clinic()
    offers = [
        services.waitlist_offer(entry=waiting_plan(), start=start, therapist=therapist) for _ in range(20)
    ]
    urls = [reverse("links:claim", args=[make_claim_token(o)]) for o in offers]
    barrier = threading.Barrier(len(urls))
    statuses: list[int] = []
    lock = threading.Lock()

    def claim(url: str) -> None:
        try:
            barrier.wait()
            response = Client().post(url)
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 19
    assert Appointment.objects.filter(start=start).exclude(status=Appointment.Status.CANCELLED).count() == 1
    assert WaitlistEntry.objects.filter(is_active=True).count() == 19
