import pytest
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from appointments import services
from appointments.models import Appointment
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.localtime import clinic_tz
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(front_desk):
    client = APIClient()
    client.force_authenticate(front_desk)
    return client


def _other_plan(**kwargs):
    plan = PlanFactory(**kwargs)
    ScreeningFactory(patient=plan.patient)
    return plan


def test_token_auth_then_book_one_session(client, front_desk, plan, therapist, room, device, at):
    token = client.post("/api/v1/auth/token/", {"username": "fd", "password": "phoresis-demo"}).json()[
        "token"
    ]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.post(
        "/api/v1/appointments/", {"plan": plan.pk, "start": at(0, "10:00").isoformat()}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["session_number"] == 1
    assert body["status"] == "scheduled"
    assert body["therapist"] == therapist.pk and body["room"] == room.pk and body["device"] == device.pk
    assert body["start"] == at(0, "10:00").isoformat()
    assert body["patient"] == plan.patient_id


def test_the_booking_response_is_what_reading_the_visit_back_gives(api, plan, therapist, room, device, at):
    """The create response is built from the booked instance (no second read):
    it must say what GET says, "k of N" included, booked out of order."""
    for day in (14, 0, 7):
        response = api.post(
            "/api/v1/appointments/", {"plan": plan.pk, "start": at(day, "10:00").isoformat()}, format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json() == api.get(f"/api/v1/appointments/{response.json()['id']}/").json()
    assert [r["session_number"] for r in api.get("/api/v1/appointments/").json()["results"]] == [1, 2, 3]


def test_a_plan_or_therapist_that_is_not_there_is_a_400_on_its_field(api, plan, therapist, room, device, at):
    """The booking service reads the plan (once, locked) and the therapist;
    the serializer only checks the ids' shape, and the answers are DRF's for
    a related id."""
    start = at(0, "10:00").isoformat()
    for sent, message in [
        (10**6, 'Invalid pk "1000000" - object does not exist.'),
        (2**70, f'Invalid pk "{2**70}" - object does not exist.'),
        (-1, 'Invalid pk "-1" - object does not exist.'),
        ("abc", "Incorrect type. Expected pk value, received str."),
        (True, "Incorrect type. Expected pk value, received bool."),
    ]:
        response = api.post("/api/v1/appointments/", {"plan": sent, "start": start}, format="json")
        assert response.status_code == 400, response.json()
        assert response.json()["plan"] == [message]
    other = _other_plan()
    response = api.post(
        "/api/v1/appointments/", {"plan": plan.pk, "patient": other.patient_id, "start": start}, format="json"
    )
    assert response.status_code == 400 and "patient" in response.json()
    response = api.post(
        "/api/v1/appointments/", {"plan": 10**6, "patient": plan.patient_id, "start": start}, format="json"
    )
    assert response.status_code == 400 and "plan" in response.json()
    for kind, body in [("session", {"plan": plan.pk}), ("evaluation", {"patient": plan.patient_id})]:
        for sent in (10**6, 2**70):
            response = api.post(
                "/api/v1/appointments/",
                {**body, "kind": kind, "therapist": sent, "start": start},
                format="json",
            )
            assert response.status_code == 400, response.json()
            assert response.json()["therapist"] == [f'Invalid pk "{sent}" - object does not exist.']
    assert not Appointment.objects.exists()


def test_booking_a_taken_slot_answers_409_listing_each_conflict(api, plan, therapist, room, device, at):
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    other = _other_plan()
    response = api.post(
        "/api/v1/appointments/",
        {
            "plan": other.pk,
            "start": at(0, "10:00").isoformat(),
            "therapist": therapist.pk,
            "room": room.pk,
            "device": device.pk,
        },
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert {c["resource"] for c in body["conflicts"]} == {"therapist", "room", "device"}
    assert "Room 2 is booked 10:00–10:30." in body["detail"]
    assert set(body["codes"]) == {"R1.therapist", "R1.room", "R1.device"}
    assert {c["resource"]: c["code"] for c in body["conflicts"]} == {
        "therapist": "R1.therapist",
        "room": "R1.room",
        "device": "R1.device",
    }
    assert Appointment.objects.count() == 1


def test_broken_rules_answer_400_with_field_errors(api, plan, therapist, room, device, at):
    response = api.post(
        "/api/v1/appointments/",
        {"plan": plan.pk, "start": at(5, "10:00").isoformat(), "therapist": therapist.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "working hours" in response.json()["start"][0]
    assert response.json()["codes"] == ["R2.hours"]
    assert (
        api.post("/api/v1/appointments/", {"plan": plan.pk, "start": "tomorrow"}, format="json").status_code
        == 400
    )
    assert (
        api.post(
            "/api/v1/appointments/", {"plan": 999999, "start": at(0, "10:00").isoformat()}, format="json"
        ).status_code
        == 400
    )
    assert not Appointment.objects.exists()


def test_actions_cancel_reschedule_and_illegal_check_in(api, plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    moved = api.post(
        f"/api/v1/appointments/{appointment.pk}/reschedule/",
        {"start": at(1, "11:00").isoformat()},
        format="json",
    )
    assert moved.status_code == 200
    assert moved.json()["start"] == at(1, "11:00").isoformat()
    assert api.post(f"/api/v1/appointments/{appointment.pk}/cancel/", {}, format="json").status_code == 400
    cancelled = api.post(f"/api/v1/appointments/{appointment.pk}/cancel/", {"reason": "Flu"}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/appointments/{appointment.pk}/check-in/")
    assert again.status_code == 400
    assert again.json()["status"] == ["A cancelled visit cannot be checked in."]
    early = api.post(
        f"/api/v1/appointments/{services.appointment_book(plan=plan, start=at(3, '10:00')).pk}/no-show/"
    )
    assert early.status_code == 400


def test_list_filters_by_clinic_dates_inclusive(api, plan, therapist, room, device, at):
    a = services.appointment_book(plan=plan, start=at(0, "08:00"), therapist=therapist)
    b = services.appointment_book(plan=plan, start=at(2, "16:00"), therapist=therapist)
    services.appointment_book(plan=plan, start=at(7, "08:00"), therapist=therapist)
    day0, day2 = (at(d, "00:00").astimezone(clinic_tz()).date().isoformat() for d in (0, 2))
    response = api.get(
        "/api/v1/appointments/", {"date_from": day0, "date_to": day2, "therapist": therapist.pk}
    )
    assert [r["id"] for r in response.json()["results"]] == [a.pk, b.pk]
    assert api.get("/api/v1/appointments/", {"status": "cancelled"}).json()["count"] == 0
    assert api.get("/api/v1/appointments/", {"date_from": "not-a-date"}).status_code == 400


def test_appointment_list_runs_a_constant_number_of_queries(
    api, therapist, at, django_assert_max_num_queries
):
    def add(n, first):
        for i in range(first, first + n):
            services.appointment_book(
                plan=_other_plan(), start=at(i // 16, f"{8 + (i % 16) // 2:02d}:{30 * (i % 2):02d}"),
                therapist=therapist, room=RoomFactory(), device=DeviceFactory(),
            )  # fmt: skip

    add(3, 0)
    with django_assert_max_num_queries(5):
        assert api.get("/api/v1/appointments/").json()["count"] == 3
    add(15, 3)
    with django_assert_max_num_queries(5):
        assert api.get("/api/v1/appointments/").json()["count"] == 18


def test_book_series_in_one_post(api, plan, therapist, room, device, at):
    response = api.post(
        f"/api/v1/plans/{plan.pk}/book-series/", {"start": at(0, "09:00").isoformat()}, format="json"
    )
    assert response.status_code == 201, response.json()
    rows = response.json()
    assert [r["session_number"] for r in rows] == [1, 2, 3, 4, 5, 6]


def test_book_series_409_names_the_blocked_date(api, plan, therapist, room, device, at):
    preview = api.post(
        f"/api/v1/plans/{plan.pk}/book-series/",
        {"start": at(0, "09:00").isoformat(), "preview": True},
        format="json",
    ).json()
    fourth = preview[3]["start"]
    blocker = _other_plan(patient=plan.patient)
    services.appointment_book(plan=blocker, start=parse_datetime(fourth), therapist=therapist)
    response = api.post(
        f"/api/v1/plans/{plan.pk}/book-series/", {"start": at(0, "09:00").isoformat()}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["conflicts"][0]["date"] == fourth[:10]
    assert body["conflicts"][0]["session_number"] == 4
    assert Appointment.objects.filter(plan=plan).count() == 0


def test_series_preview_and_409_list_each_occurrence_rule_codes(api, plan, therapist, room, device, at):
    url = f"/api/v1/plans/{plan.pk}/book-series/"
    first = {"start": at(0, "09:00").isoformat()}
    fourth = api.post(url, {**first, "preview": True}, format="json").json()[3]["start"]
    spare = {"therapist": TherapistFactory(), "room": RoomFactory(name="Spare"), "device": DeviceFactory()}
    services.appointment_book(plan=_other_plan(patient=plan.patient), start=parse_datetime(fourth), **spare)
    preview = api.post(url, {**first, "preview": True}, format="json")
    assert [o["codes"] for o in preview.json()] == [[], [], [], ["R1.patient"], [], []]
    response = api.post(url, first, format="json")
    assert response.status_code == 409
    assert response.json()["codes"] == ["R1.patient"]
    assert response.json()["conflicts"][0]["codes"] == ["R1.patient"]


def test_an_error_of_no_rule_adds_no_codes(api, plan, therapist, room, device, at):
    response = api.post(
        "/api/v1/appointments/", {"plan": plan.pk, "start": at(-14, "10:00").isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert "codes" not in response.json()


def test_slots_lists_free_slots_for_a_plan(api, plan, therapist, room, device, at):
    day = at(0, "00:00").date().isoformat()
    services.appointment_book(plan=_other_plan(), start=at(0, "08:00"), therapist=therapist)
    response = api.get("/api/v1/slots/", {"plan": plan.pk, "date_from": day, "date_to": day})
    assert response.status_code == 200
    slots = response.json()["results"]
    starts = [s["start"] for s in slots]
    assert at(0, "08:00").isoformat() not in starts
    assert at(0, "08:30").isoformat() in starts
    assert slots[0]["therapist"] == therapist.pk and slots[0]["room"] == room.pk
    assert api.get("/api/v1/slots/", {"plan": plan.pk}).status_code == 400


def test_slot_finder_runs_a_constant_number_of_queries(
    api, plan, room, device, at, django_assert_max_num_queries
):
    day = at(0, "00:00").date().isoformat()
    to = at(13, "00:00").date().isoformat()
    for _ in range(2):
        TherapistFactory()
    with django_assert_max_num_queries(12):
        few = api.get("/api/v1/slots/", {"plan": plan.pk, "date_from": day, "date_to": to}).json()["results"]
    for _ in range(8):
        TherapistFactory()
    with django_assert_max_num_queries(12):
        many = api.get("/api/v1/slots/", {"plan": plan.pk, "date_from": day, "date_to": to}).json()["results"]
    assert len(many) >= len(few) > 0


def test_resources_are_read_by_staff_and_written_by_admins(api, clinic_admin, therapist, room, device):
    assert api.get("/api/v1/therapists/").json()["count"] == 1
    assert api.get("/api/v1/rooms/").json()["results"][0]["name"] == "Room 2"
    assert api.get("/api/v1/devices/").json()["results"][0]["kind"] == "iontophoresis"
    assert (
        api.post(
            "/api/v1/rooms/", {"name": "Room 9", "modalities": ["iontophoresis"]}, format="json"
        ).status_code
        == 403
    )
    admin = APIClient()
    admin.force_authenticate(clinic_admin)
    assert (
        admin.post(
            "/api/v1/rooms/", {"name": "Room 9", "modalities": ["iontophoresis"]}, format="json"
        ).status_code
        == 201
    )


def test_anonymous_api_requests_are_refused():
    assert APIClient().get("/api/v1/appointments/").status_code == 401


def test_therapist_calendar_feed_needs_its_token_and_hides_names(client, plan, therapist, room, device, at):
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    assert client.get("/api/v1/calendar.ics").status_code == 403
    assert client.get("/api/v1/calendar.ics", {"token": "guess"}).status_code == 403
    response = client.get("/api/v1/calendar.ics", {"token": therapist.calendar_token})
    assert response.status_code == 200
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body and "Room 2" in body
    assert plan.patient.last_name not in body


def test_a_listed_visit_reads_the_same_as_its_own_page(api, plan, therapist, room, device, at):
    """The list writes its rows off selectors.appointment_rows without DRF's
    field objects (issue 19): each row must be the detail view's
    representation, key for key, in the same order, for a session, a
    cancelled one with its reason, an authorized plan's session and an
    evaluation (no plan, no device)."""
    services.appointment_book(plan=plan, start=at(0, "08:00"), therapist=therapist)
    cancelled = services.appointment_book(plan=plan, start=at(2, "08:00"), therapist=therapist)
    services.appointment_cancel(appointment=cancelled, reason="Flu")
    authorized = _other_plan(sessions_authorized=4)
    services.appointment_book(plan=authorized, start=at(1, "08:00"), therapist=therapist)
    services.evaluation_book(patient=PatientFactory(), start=at(3, "08:00"), therapist=therapist, room=room)

    listed = api.get("/api/v1/appointments/").json()["results"]

    assert len(listed) == 4
    assert {row["kind"] for row in listed} == {"session", "evaluation"}
    for row in listed:
        detail = api.get(f"/api/v1/appointments/{row['id']}/").json()
        assert list(row.items()) == list(detail.items())
