"""API: evaluations (`kind=evaluation`, no plan) and the slot finder
(evaluation slots, after/before, a real total per day, the reason when none)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from appointments import services
from appointments.models import Appointment
from appointments.tests.factories import TherapistFactory
from patients.tests.factories import PatientFactory
from treatments.models import Modality, TreatmentPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(front_desk):
    client = APIClient()
    client.force_authenticate(front_desk)
    return client


def test_front_desk_books_an_evaluation_for_a_new_patient(api, therapist, room, at):
    patient = PatientFactory()
    response = api.post(
        "/api/v1/appointments/",
        {"kind": "evaluation", "patient": patient.pk, "start": at(0, "10:00").isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "evaluation"
    assert body["plan"] is None and body["device"] is None and body["sessions_total"] is None
    assert (body["patient"], body["therapist"], body["room"]) == (patient.pk, therapist.pk, room.pk)
    visit = Appointment.objects.get(pk=body["id"])
    assert (visit.end - visit.start).total_seconds() == 45 * 60
    listed = api.get("/api/v1/appointments/", {"kind": "evaluation"}).json()["results"]
    assert [row["id"] for row in listed] == [visit.pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "evaluation"}, "patient"),
        ({"kind": "session"}, "plan"),
        ({}, "plan"),
    ],
)
def test_evaluation_and_session_shape_errors_are_400_with_the_field(api, therapist, room, at, body, field):
    response = api.post("/api/v1/appointments/", {**body, "start": at(0, "10:00").isoformat()}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Appointment.objects.exists()


def test_an_evaluation_with_a_plan_is_refused(api, plan, therapist, room, at):
    response = api.post(
        "/api/v1/appointments/",
        {
            "kind": "evaluation",
            "patient": plan.patient_id,
            "plan": plan.pk,
            "start": at(0, "10:00").isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "plan" in response.json()


def test_evaluation_at_a_closed_time_is_400_with_the_rule_code(api, therapist, room, at):
    response = api.post(
        "/api/v1/appointments/",
        {"kind": "evaluation", "patient": PatientFactory().pk, "start": at(5, "10:00").isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["codes"] == ["R2.hours"]
    assert "outside Theo's working hours" in response.json()["start"][0]


def test_evaluation_on_a_taken_therapist_is_409(api, therapist, room, at):
    services.evaluation_book(patient=PatientFactory(), start=at(0, "10:00"), therapist=therapist)
    response = api.post(
        "/api/v1/appointments/",
        {
            "kind": "evaluation",
            "patient": PatientFactory().pk,
            "therapist": therapist.pk,
            "start": at(0, "10:30").isoformat(),
        },
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["conflicts"][0]["resource"] == "therapist"


def test_evaluation_slots_need_no_device_and_skip_the_patients_visits(api, plan, therapist, room, at):
    day = at(0, "00:00").date().isoformat()
    services.evaluation_book(patient=plan.patient, start=at(0, "09:00"), therapist=therapist)
    response = api.get(
        "/api/v1/slots/", {"kind": "evaluation", "patient": plan.patient_id, "date_from": day, "date_to": day}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    starts = [s["start"] for s in body["results"]]
    assert at(0, "09:00").isoformat() not in starts and at(0, "09:30").isoformat() not in starts
    assert at(0, "09:45").isoformat() in starts
    assert all(s["device"] is None for s in body["results"])
    # 08:00–17:00 with 45 min visits every 15 min: 34 starts, minus 08:30…09:30 (5) that overlap 09:00.
    assert body["count"] == 34 - 5 == len(body["results"])
    assert body["days"] == [{"date": day, "count": body["count"]}]
    missing = api.get("/api/v1/slots/", {"kind": "evaluation", "date_from": day, "date_to": day})
    assert missing.status_code == 400 and "patient" in missing.json()


def test_slots_after_and_before_filter_by_time_of_day(api, plan, therapist, room, device, at):
    day = at(0, "00:00").date().isoformat()
    body = api.get(
        "/api/v1/slots/",
        {"plan": plan.pk, "date_from": day, "date_to": day, "after": "10:00", "before": "12:00"},
    ).json()
    starts = [s["start"] for s in body["results"]]
    assert starts[0] == at(0, "10:00").isoformat()
    assert starts[-1] == at(0, "11:30").isoformat()  # 30 min session ends by 12:00
    assert body["count"] == 7
    bad = api.get(
        "/api/v1/slots/",
        {"plan": plan.pk, "date_from": day, "date_to": day, "after": "12:00", "before": "10:00"},
    )
    assert bad.status_code == 400 and "before" in bad.json()


def test_slot_total_is_real_beyond_the_listed_limit_and_grouped_by_day(
    api, plan, therapist, room, device, at
):
    day, to = at(0, "00:00").date().isoformat(), at(4, "00:00").date().isoformat()
    body = api.get("/api/v1/slots/", {"plan": plan.pk, "date_from": day, "date_to": to, "limit": 10}).json()
    assert len(body["results"]) == 10
    assert body["truncated"] is True
    # R5 does not thin a first session: 5 days × 35 starts (08:00…16:30).
    assert body["count"] == 5 * 35
    assert [d["count"] for d in body["days"]] == [35] * 5


def test_slot_list_is_what_the_documented_serializers_give_key_for_key(
    api, plan, therapist, room, device, at
):
    """The slot list is written field for field (speed); the OpenAPI schema
    documents SlotSerializer and SlotDaySerializer: each item must be theirs."""
    from appointments.api import SlotDaySerializer, SlotSerializer

    day, to = at(0, "00:00").date().isoformat(), at(2, "00:00").date().isoformat()
    body = api.get("/api/v1/slots/", {"plan": plan.pk, "date_from": day, "date_to": to, "limit": 30}).json()
    found = services.slot_search(
        plan=plan, date_from=dt.date.fromisoformat(day), date_to=dt.date.fromisoformat(to), limit=30
    )
    assert len(body["results"]) == 30 and body["results"][0]["device"] == device.pk
    assert body["results"] == [dict(item) for item in SlotSerializer(found.slots, many=True).data]
    assert body["days"] == [dict(item) for item in SlotDaySerializer(found.days, many=True).data]
    assert body["results"][0]["start"].endswith(("-05:00", "-04:00"))  # clinic time, as the serializer gives


def test_slots_for_a_plan_with_no_session_left_are_none_and_say_why(api, plan, therapist, room, device, at):
    plan.sessions_prescribed = 1
    plan.sessions_authorized = None
    plan.save()
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    day = at(1, "00:00").date().isoformat()
    body = api.get("/api/v1/slots/", {"plan": plan.pk, "date_from": day, "date_to": day}).json()
    assert body["results"] == [] and body["count"] == 0
    assert "0 left" in body["reason"]
    assert body["codes"] == ["R4.count"]


def test_slots_for_a_plan_on_hold_are_none_and_say_why(api, plan, therapist, room, device, at):
    TreatmentPlan.objects.filter(pk=plan.pk).update(status=TreatmentPlan.Status.ON_HOLD)
    plan.refresh_from_db()
    day = at(0, "00:00").date().isoformat()
    body = api.get("/api/v1/slots/", {"plan": plan.pk, "date_from": day, "date_to": day}).json()
    assert body["results"] == [] and "on hold" in body["reason"]


def test_slots_with_a_therapist_who_does_not_give_the_modality_say_so(api, plan, room, device, at):
    tess = TherapistFactory(display_name="Tess", modalities=[Modality.PHONOPHORESIS])
    day = at(0, "00:00").date().isoformat()
    body = api.get(
        "/api/v1/slots/", {"plan": plan.pk, "date_from": day, "date_to": day, "therapist": tess.pk}
    ).json()
    assert body["results"] == []
    assert body["reason"] == f"Tess does not give {plan.get_modality_display().lower()}."


def test_no_slot_in_the_range_says_why(api, plan, therapist, room, device, at):
    saturday = at(5, "00:00").date().isoformat()
    body = api.get("/api/v1/slots/", {"plan": plan.pk, "date_from": saturday, "date_to": saturday}).json()
    assert body["count"] == 0
    assert body["reason"].startswith("No free")


def test_every_listed_slot_can_be_booked(api, plan, therapist, room, device, at):
    """Never offers a slot the booking would refuse: book the first and last offered."""
    day, to = at(0, "00:00").date().isoformat(), at(2, "00:00").date().isoformat()
    slots = api.get("/api/v1/slots/", {"plan": plan.pk, "date_from": day, "date_to": to}).json()["results"]
    for slot in (slots[0], slots[-1]):
        response = api.post(
            "/api/v1/appointments/",
            {"plan": plan.pk, "start": slot["start"], "therapist": slot["therapist"]},
            format="json",
        )
        assert response.status_code == 201, response.json()
