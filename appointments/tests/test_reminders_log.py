"""The message log for the front desk: page and API."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from appointments import reminders, services
from appointments.models import Reminder
from appointments.tests.reminders_support import scan_outbox_fixture  # noqa: F401
from patients.tests.factories import ScreeningFactory
from treatments.tests.factories import PlanFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scan_outbox")]


@pytest.fixture
def visit(plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    reminders.reminders_sweep()
    return appointment


def logged_in(client, user):
    client.force_login(user)
    return client


def add_visits(plan, therapist, at, count, first_day):
    weekdays = [d for d in range(first_day, first_day + 3 * count) if d % 7 < 5][:count]
    for day in weekdays:
        other = PlanFactory(patient=plan.patient)
        ScreeningFactory(patient=plan.patient)
        services.appointment_book(plan=other, start=at(day, "15:00"), therapist=therapist)


def test_the_front_desk_sees_each_message_with_status_and_reason(client, front_desk, visit):
    visit.patient.reminder_opt_in = False
    visit.patient.save()
    services.appointment_reschedule(appointment=visit, start=visit.start.replace(hour=16))
    reminders.reminders_sweep()
    response = logged_in(client, front_desk).get(reverse("appointments:messages", args=[visit.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Confirmation", "Sent", "Rescheduled notice", "Skipped", "The patient opted out of email.",
                 "Void", "The visit was moved.", "Resend"):  # fmt: skip
        assert text in body


def test_the_patient_log_lists_messages_of_all_visits(client, front_desk, visit, plan, therapist, at):
    add_visits(plan, therapist, at, 2, 2)
    response = logged_in(client, front_desk).get(
        reverse("appointments:patient_messages", args=[plan.patient_id])
    )
    assert response.status_code == 200
    assert response.content.decode().count("Confirmation") == 3


def test_therapists_read_the_log_but_cannot_resend(client, therapist_user, visit):
    client = logged_in(client, therapist_user)
    response = client.get(reverse("appointments:messages", args=[visit.pk]))
    assert response.status_code == 200 and "Resend" not in response.content.decode()
    row = Reminder.objects.get(kind="confirmation")
    assert client.post(reverse("appointments:message_resend", args=[row.pk])).status_code == 403
    row.refresh_from_db()
    assert row.status == Reminder.Status.SENT


def test_the_log_needs_a_login(client, visit):
    response = client.get(reverse("appointments:messages", args=[visit.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_resend_with_one_click(client, front_desk, visit):
    row = Reminder.objects.get(kind="confirmation")
    page = reverse("appointments:messages", args=[visit.pk])
    response = logged_in(client, front_desk).post(
        reverse("appointments:message_resend", args=[row.pk]), {"next": page}
    )
    assert response.status_code == 302 and response.url == page
    row.refresh_from_db()
    assert (row.status, row.resend_count, row.resent_by) == ("pending", 1, front_desk)
    assert reminders.reminders_sweep().sent == 1


def test_resend_of_a_void_row_is_refused_with_a_message(client, front_desk, visit):
    services.appointment_cancel(appointment=visit, reason="Patient ill")
    row = Reminder.objects.get(kind="reminder")
    response = logged_in(client, front_desk).post(
        reverse("appointments:message_resend", args=[row.pk]), {"next": "https://evil.example/"}, follow=True
    )
    assert "cannot be sent again" in response.content.decode()
    assert response.redirect_chain[0][0] == reverse("appointments:patient_messages", args=[visit.patient_id])


def test_the_log_page_runs_a_constant_number_of_queries(
    client, front_desk, visit, plan, therapist, at, django_assert_max_num_queries
):
    client = logged_in(client, front_desk)
    url = reverse("appointments:patient_messages", args=[plan.patient_id])
    with django_assert_max_num_queries(9):
        client.get(url)
    add_visits(plan, therapist, at, 4, 2)
    with django_assert_max_num_queries(9):
        assert client.get(url).content.decode().count("Confirmation") == 5


# -- API ----------------------------------------------------------------------
@pytest.fixture
def api():
    return APIClient()


def test_api_lists_the_messages_of_an_appointment(api, front_desk, visit, plan, therapist, at):
    add_visits(plan, therapist, at, 1, 2)
    api.force_authenticate(front_desk)
    response = api.get("/api/v1/reminders/", {"appointment": visit.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = body["results"][0]
    assert {"id", "appointment", "kind", "due_at", "status", "sent_at", "error", "attempts"} <= set(first)
    assert (first["kind"], first["status"], first["appointment"]) == ("confirmation", "sent", visit.pk)
    assert first["sent_at"].endswith(("-05:00", "-04:00"))


def test_api_needs_a_staff_role(api, visit, db):
    from clinic.tests.factories import UserFactory

    assert api.get("/api/v1/reminders/").status_code in (401, 403)
    api.force_authenticate(UserFactory(username="norole"))
    assert api.get("/api/v1/reminders/").status_code == 403


def test_api_resend_for_front_desk_only(api, front_desk, therapist_user, visit):
    row = Reminder.objects.get(kind="confirmation")
    api.force_authenticate(therapist_user)
    assert api.post(f"/api/v1/reminders/{row.pk}/resend/").status_code == 403
    api.force_authenticate(front_desk)
    response = api.post(f"/api/v1/reminders/{row.pk}/resend/")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert api.post(f"/api/v1/reminders/{row.pk}/resend/").status_code == 400


def test_api_list_runs_a_constant_number_of_queries(
    api, front_desk, visit, plan, therapist, at, django_assert_max_num_queries
):
    api.force_authenticate(front_desk)
    with django_assert_max_num_queries(4):
        api.get("/api/v1/reminders/", {"patient": plan.patient_id})
    add_visits(plan, therapist, at, 4, 2)
    with django_assert_max_num_queries(4):
        assert api.get("/api/v1/reminders/", {"patient": plan.patient_id}).json()["count"] == 10
