"""The patient's signed links (/r/…): details, confirm, cancel; no login;
tampered or expired links get a friendly page, never a 500."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from appointments import services
from appointments.links import CANCEL_REASON
from appointments.models import Appointment, Reminder
from appointments.reminders import reminders_sweep
from appointments.reminders.tokens import make_token
from appointments.tests.factories import DeviceFactory
from patients.tests.factories import ScreeningFactory
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(plan, therapist, room, device, at):
    services.appointment_book(plan=plan, start=at(0, "09:00"), therapist=therapist)
    return services.appointment_book(plan=plan, start=at(3, "10:00"), therapist=therapist)


def url(name, appointment, purpose):
    return reverse(f"links:{name}", args=[make_token(appointment, purpose)])


def test_details_open_without_login_and_show_session_k_of_n(client, visit):
    response = client.get(url("detail", visit, "view"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "session 2 of 6" in body
    assert "10:00 E" in body  # EST or EDT, whichever applies that day
    assert "Confirm I am coming" in body


def test_tap_water_details_explain_the_preparation(client, therapist, room, at):
    plan = PlanFactory(tap_water=True)
    ScreeningFactory(patient=plan.patient)
    DeviceFactory(kind="tap_water", home_room=room)
    appointment = services.appointment_book(plan=plan, start=at(1, "11:00"), therapist=therapist)
    body = client.get(url("detail", appointment, "view")).content.decode()
    assert "Vaseline" in body and "water line" in body


def test_opening_the_confirm_link_does_not_confirm(client, visit):
    response = client.get(url("confirm", visit, "confirm"))
    assert response.status_code == 200
    assert "Yes, I am coming" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.SCHEDULED


def test_confirm_posts_confirm_the_visit_once(client, visit):
    target = url("confirm", visit, "confirm")
    response = client.post(target)
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CONFIRMED
    assert "confirmed" in client.get(response.url).content.decode()
    assert client.post(target).status_code == 302  # a second click is harmless
    assert visit.changes.filter(action="confirmed").count() == 1


def test_opening_the_cancel_link_does_not_cancel(client, visit):
    """Mail scanners follow links: only the POST from the page cancels."""
    assert client.get(url("cancel", visit, "cancel")).status_code == 200
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.SCHEDULED


def test_cancel_applies_r12_and_is_idempotent(client, visit):
    reminders_sweep()  # the patient had the confirmation
    target = url("cancel", visit, "cancel")
    with time_machine.travel(visit.start - dt.timedelta(hours=30)):
        response = client.post(target)
        assert response.status_code == 302
        assert "Your appointment is cancelled" in client.get(response.url).content.decode()
        again = client.post(target)
    assert again.status_code == 200
    assert "already cancelled" in again.content.decode()
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CANCELLED
    assert visit.cancel_reason == CANCEL_REASON
    assert visit.late_cancellation is False
    assert visit.changes.filter(action="cancelled").count() == 1
    assert Reminder.objects.filter(appointment=visit, kind="cancellation").count() == 1


def test_cancelling_within_the_notice_is_a_late_cancellation(client, visit):
    target = url("cancel", visit, "cancel")
    with time_machine.travel(visit.start - dt.timedelta(hours=5)):
        assert "late cancellation" in client.get(target).content.decode()
        client.post(target)
    visit.refresh_from_db()
    assert visit.late_cancellation is True


def test_the_cancel_form_works_with_csrf_checks(visit):
    browser = Client(enforce_csrf_checks=True)
    target = url("cancel", visit, "cancel")
    page = browser.get(target)
    token = page.context["csrf_token"]
    assert browser.post(target, {"csrfmiddlewaretoken": str(token)}).status_code == 302
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CANCELLED


@pytest.mark.parametrize("name", ["detail", "confirm", "cancel"])
def test_a_tampered_link_gets_a_friendly_400(client, visit, name):
    token = make_token(visit, {"detail": "view"}.get(name, name))
    value, rest = token.split(":", 1)
    for bad in (f"{int(value) + 1}:{rest}", token[:-2] + "xx", "nonsense", token + "a"):
        response = client.get(reverse(f"links:{name}", args=[bad]))
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
    assert client.post(reverse(f"links:{name}", args=["nonsense"])).status_code in (400, 405)
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.SCHEDULED


def test_a_link_for_one_purpose_does_not_open_another(client, visit):
    view_token = make_token(visit, "view")
    assert client.post(reverse("links:cancel", args=[view_token])).status_code == 400
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.SCHEDULED


def test_a_link_expires_when_the_visit_starts(client, visit):
    target = url("cancel", visit, "cancel")
    with time_machine.travel(visit.start + dt.timedelta(minutes=1)):
        response = client.post(target)
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
        assert client.get(url("detail", visit, "view")).status_code == 410
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.SCHEDULED


def test_a_link_follows_the_visit_when_it_moves_later(client, visit, at):
    with time_machine.travel(at(0, "07:00")):
        target = url("detail", visit, "view")
    services.appointment_reschedule(appointment=visit, start=at(4, "10:00"))
    with time_machine.travel(at(3, "12:00")):  # after the old start, before the new one
        response = client.get(target)
    assert response.status_code == 200
    assert at(4, "10:00").strftime("%d %b %Y") in response.content.decode()


def test_a_cancelled_visit_cannot_be_confirmed(client, visit):
    services.appointment_cancel(appointment=visit, reason="Clinic closed")
    response = client.post(url("confirm", visit, "confirm"))
    assert response.status_code == 409
    assert "cancelled" in response.content.decode()
