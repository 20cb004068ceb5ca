import datetime as dt

import pytest
from django.urls import reverse

from appointments import services
from appointments.models import Appointment, WaitlistEntry
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from patients.tests.factories import ScreeningFactory
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_client(client, front_desk):
    client.force_login(front_desk)
    return client


def _many(numbers, at, therapist):
    """Visits of different patients, number i in its own half-hour slot (16 a day)."""
    for i in numbers:
        plan = PlanFactory()
        ScreeningFactory(patient=plan.patient)
        hour, minute = divmod(8 * 60 + 30 * (i % 16), 60)
        services.appointment_book(
            plan=plan,
            start=at(i // 16, f"{hour:02d}:{minute:02d}"),
            therapist=therapist,
            room=RoomFactory(name=f"R{i}"),
            device=DeviceFactory(),
        )


def test_day_sheet_lists_the_days_visits_in_order(desk_client, plan, therapist, room, device, at):
    # Names no other text on the page can contain (random ones sometimes did).
    type(plan.patient).objects.filter(pk=plan.patient_id).update(last_name="Zephyrlate")
    plan.patient.refresh_from_db()
    services.appointment_book(plan=plan, start=at(0, "11:00"), therapist=therapist)
    other = PlanFactory(patient__last_name="Quillearly")
    ScreeningFactory(patient=other.patient)
    services.appointment_book(plan=other, start=at(0, "09:00"), therapist=therapist)
    response = desk_client.get(reverse("appointments:day"), {"date": at(0, "00:00").date().isoformat()})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(other.patient.last_name) < body.index(plan.patient.last_name)
    assert "09:00–09:30" in body and "Session 1 of 6" in body
    # Seen ahead of its day: nothing to check in yet (test_day_sheet_rows.py has the day itself).
    assert "Check in" not in body


def test_day_sheet_runs_a_constant_number_of_queries(
    desk_client, therapist, at, django_assert_max_num_queries
):
    url = reverse("appointments:day")
    day = at(0, "00:00").date().isoformat()
    _many(range(3), at, therapist)
    with django_assert_max_num_queries(13):
        assert desk_client.get(url, {"date": day}).status_code == 200
    _many(range(3, 15), at, therapist)
    with django_assert_max_num_queries(13):
        assert desk_client.get(url, {"date": day}).status_code == 200


def test_check_in_from_the_day_sheet_redirects_back(
    client, front_desk, plan, therapist, room, device, time_machine
):
    from clinic.localtime import local_datetime

    today = dt.date.today() + dt.timedelta(days=7)
    today += dt.timedelta(days=(0 - today.weekday()) % 7)
    start = local_datetime(today, dt.time(10))
    appointment = services.appointment_book(plan=plan, start=start, therapist=therapist)
    time_machine.move_to(start - dt.timedelta(minutes=10))
    desk_client = client
    desk_client.force_login(front_desk)
    back = f"{reverse('appointments:day')}?date={today.isoformat()}"
    response = desk_client.post(reverse("appointments:check_in", args=[appointment.pk]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN


def test_checking_in_a_cancelled_visit_shows_a_clear_error(desk_client, plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    services.appointment_cancel(appointment=appointment, reason="Ill")
    response = desk_client.post(reverse("appointments:check_in", args=[appointment.pk]), follow=True)
    assert "A cancelled visit cannot be checked in." in response.content.decode()


def test_calendar_feed_returns_fullcalendar_events(desk_client, plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    response = desk_client.get(
        reverse("appointments:events"),
        {"start": at(0, "00:00").isoformat(), "end": at(7, "00:00").isoformat(), "therapist": therapist.pk},
    )
    assert response.status_code == 200
    [event] = response.json()
    assert event["id"] == appointment.pk
    assert event["start"] == at(0, "10:00").isoformat()
    assert event["extendedProps"]["session"] == "1 of 6"


def test_calendar_feed_rejects_a_missing_range(desk_client):
    response = desk_client.get(reverse("appointments:events"))
    assert response.status_code == 400


def test_calendar_feed_runs_a_constant_number_of_queries(
    desk_client, therapist, at, django_assert_max_num_queries
):
    params = {"start": at(0, "00:00").isoformat(), "end": at(7, "00:00").isoformat()}
    _many(range(4), at, therapist)
    # 6 + the visit warnings (clinic rules, screenings, missed visits, plan counts): still constant.
    with django_assert_max_num_queries(10):
        assert len(desk_client.get(reverse("appointments:events"), params).json()) == 4
    _many(range(4, 24), at, therapist)
    with django_assert_max_num_queries(10):
        assert len(desk_client.get(reverse("appointments:events"), params).json()) == 24


def test_drag_to_reschedule_uses_the_service_and_refuses_conflicts(
    desk_client, plan, therapist, room, device, at
):
    mine = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    other = PlanFactory()
    ScreeningFactory(patient=other.patient)
    services.appointment_book(
        plan=other, start=at(1, "10:00"), therapist=therapist, room=RoomFactory(), device=DeviceFactory()
    )
    url = reverse("appointments:move", args=[mine.pk])
    refused = desk_client.post(url, {"start": at(1, "10:00").isoformat()}, content_type="application/json")
    assert refused.status_code == 409
    assert "Theo is booked 10:00–10:30" in refused.json()["detail"]
    moved = desk_client.post(url, {"start": at(0, "14:00").isoformat()}, content_type="application/json")
    assert moved.status_code == 200
    mine.refresh_from_db()
    assert mine.start == at(0, "14:00")


def test_cancel_form_needs_a_reason_and_keeps_the_visit(desk_client, plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    response = desk_client.post(reverse("appointments:cancel", args=[appointment.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED


def test_cancelling_a_series_session_offers_the_next_free_slot(
    desk_client, plan, therapist, room, device, at
):
    booked = services.series_book(plan=plan, start=at(0, "09:00"))
    response = desk_client.post(
        reverse("appointments:cancel", args=[booked[1].pk]), {"reason": "Away"}, follow=True
    )
    body = response.content.decode()
    assert "The visit is cancelled." in body
    assert "Next free slot for this plan" in body


def test_cancelling_shows_matching_waitlist_patients(desk_client, plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    waiting = PlanFactory()
    services.waitlist_add(plan=waiting, preferred_weekdays=[0], notes="wants Mondays")
    services.waitlist_add(plan=PlanFactory(), preferred_weekdays=[3])  # Thursdays only: no match
    response = desk_client.post(
        reverse("appointments:cancel", args=[appointment.pk]), {"reason": "Ill"}, follow=True
    )
    body = response.content.decode()
    assert "Waitlist patients who could take this slot" in body
    assert waiting.patient.full_name in body
    assert WaitlistEntry.objects.count() == 2


def test_reschedule_form_errors_keep_the_input(desk_client, plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    saturday = at(5, "10:00")
    response = desk_client.post(
        reverse("appointments:reschedule", args=[appointment.pk]),
        {"start_0": saturday.date().isoformat(), "start_1": "10:00"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "outside Theo&#x27;s working hours" in body
    assert saturday.date().isoformat() in body


def test_series_page_previews_then_books(desk_client, plan, therapist, room, device, at):
    url = reverse("appointments:series", args=[plan.pk])
    data = {"start_0": at(0, "09:00").date().isoformat(), "start_1": "09:00"}
    preview = desk_client.post(url, {**data, "preview": "1"})
    assert preview.status_code == 200
    assert "All sessions fit" in preview.content.decode()
    assert not Appointment.objects.exists()
    booked = desk_client.post(url, {**data, "confirm": "1"})
    assert booked.status_code == 302
    assert Appointment.objects.filter(plan=plan).count() == 6


def test_book_page_finds_slots_and_books_one(desk_client, plan, therapist, room, device, at):
    day = at(0, "00:00").date().isoformat()
    search = desk_client.get(
        reverse("appointments:book"), {"plan": plan.pk, "date_from": day, "date_to": day}
    )
    assert search.status_code == 200
    assert "free slot" in search.content.decode()
    response = desk_client.post(
        f"{reverse('appointments:book')}?plan={plan.pk}",
        {"plan": plan.pk, "start_0": day, "start_1": "08:00", "therapist": therapist.pk},
    )
    assert response.status_code == 302
    assert Appointment.objects.get().start == at(0, "08:00")


def test_waitlist_page_lists_entries(desk_client, plan):
    services.waitlist_add(plan=plan, notes="Prefers mornings")
    response = desk_client.get(reverse("appointments:waitlist"))
    assert "Prefers mornings" in response.content.decode()


def test_a_therapist_in_another_modality_is_not_offered(desk_client, plan, room, device, at):
    TherapistFactory(display_name="Ultra Only", modalities=["phonophoresis"])
    day = at(0, "00:00").date().isoformat()
    body = desk_client.get(
        reverse("appointments:book"), {"plan": plan.pk, "date_from": day, "date_to": day}
    ).content.decode()
    assert "Ultra Only</td>" not in body


def test_clinic_admins_manage_resources_in_the_admin(client, clinic_admin, therapist, front_desk):
    client.force_login(clinic_admin)
    assert client.get(reverse("admin:appointments_therapist_change", args=[therapist.pk])).status_code == 200
    assert client.get(reverse("admin:appointments_device_add")).status_code == 200
    assert client.get(reverse("admin:appointments_appointment_changelist")).status_code == 200
    # Bookings go through the scheduling pages, where the rules run.
    assert client.get(reverse("admin:appointments_appointment_add")).status_code == 403
    client.force_login(front_desk)
    assert client.get(reverse("admin:appointments_device_add")).status_code == 302
