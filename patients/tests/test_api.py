"""/api/v1/patients/ and /api/v1/patients/{id}/screening/."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from patients.models import Patient, Screening
from patients.screening import ANSWER_FIELDS
from patients.tests.factories import PatientFactory, ScreeningFactory

pytestmark = pytest.mark.django_db

NEW = {"first_name": "Robin", "last_name": "Ashcroft", "date_of_birth": "1980-05-17", "phone": "202-555-0143"}
ALL_NO = dict.fromkeys(ANSWER_FIELDS, False)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_token_auth_lists_patients(front_desk):
    PatientFactory(last_name="Lovelace")
    token = Token.objects.create(user=front_desk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = client.get("/api/v1/patients/").json()
    assert body["count"] == 1
    assert body["results"][0]["last_name"] == "Lovelace"
    assert set(body) == {"count", "next", "previous", "results"}


def test_create_returns_the_generated_mrn_and_e164_phone(front_desk):
    response = api(front_desk).post("/api/v1/patients/", NEW, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["mrn"] == Patient.objects.get().mrn
    assert body["phone"] == "+12025550143"
    assert body["screening_status"] == "due"


def test_mrn_cannot_be_written(front_desk):
    response = api(front_desk).post("/api/v1/patients/", NEW | {"mrn": "00000001"}, format="json")
    assert response.status_code == 201
    assert Patient.objects.get().mrn != "00000001"


def test_bad_phone_is_a_400_field_error_and_nothing_is_saved(front_desk):
    response = api(front_desk).post("/api/v1/patients/", NEW | {"phone": "12"}, format="json")
    assert response.status_code == 400
    assert "phone" in response.json()
    assert not Patient.objects.exists()


def test_duplicate_needs_confirm_duplicate(front_desk):
    PatientFactory(first_name="Robin", last_name="Ashcroft", date_of_birth=dt.date(1980, 5, 17))
    client = api(front_desk)
    response = client.post("/api/v1/patients/", NEW, format="json")
    assert response.status_code == 400
    assert "confirm_duplicate" in response.json()
    assert Patient.objects.count() == 1
    assert (
        client.post("/api/v1/patients/", NEW | {"confirm_duplicate": True}, format="json").status_code == 201
    )
    assert Patient.objects.count() == 2


def test_search_filter(front_desk):
    PatientFactory(first_name="Ada", last_name="Lovelace", phone="+12025550101")
    PatientFactory(first_name="Alan", last_name="Turing", phone="+12025550177")
    client = api(front_desk)
    assert [p["last_name"] for p in client.get("/api/v1/patients/?search=turing").json()["results"]] == [
        "Turing"
    ]
    found = client.get("/api/v1/patients/", {"search": "555-0101"}).json()["results"]
    assert [p["last_name"] for p in found] == ["Lovelace"]


def test_patch_updates_demographics(front_desk):
    patient = PatientFactory()
    response = api(front_desk).patch(
        f"/api/v1/patients/{patient.pk}/", {"reminder_opt_in": False}, format="json"
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.reminder_opt_in is False


def test_patients_are_not_deleted(clinic_admin):
    patient = PatientFactory()
    assert api(clinic_admin).delete(f"/api/v1/patients/{patient.pk}/").status_code == 405
    assert Patient.objects.filter(pk=patient.pk).exists()


@pytest.mark.parametrize("rows", [5, 15])
def test_list_runs_a_constant_number_of_queries(front_desk, django_assert_max_num_queries, rows):
    for patient in PatientFactory.create_batch(rows):
        ScreeningFactory(patient=patient, pregnancy=True)
    client = api(front_desk)
    with django_assert_max_num_queries(9):
        body = client.get("/api/v1/patients/").json()
    assert [p["screening_status"] for p in body["results"]] == ["blocked"] * rows


def test_front_desk_gets_403_on_screening_answers(front_desk):
    screening = ScreeningFactory(pregnancy=True)
    client = api(front_desk)
    url = f"/api/v1/patients/{screening.patient.pk}/screening/"
    assert client.get(url).status_code == 403
    assert client.put(url, ALL_NO, format="json").status_code == 403
    assert Screening.objects.count() == 1
    # ...but sees the status with the patient
    assert client.get(f"/api/v1/patients/{screening.patient.pk}/").json()["screening_status"] == "blocked"


def test_therapist_reads_the_current_screening(therapist_user):
    patient = PatientFactory()
    ScreeningFactory(patient=patient, screened_at=timezone.now() - dt.timedelta(days=40), pacemaker=True)
    current = ScreeningFactory(patient=patient, epilepsy=True)
    body = api(therapist_user).get(f"/api/v1/patients/{patient.pk}/screening/").json()
    assert body["id"] == current.pk
    assert body["epilepsy"] is True and body["pacemaker"] is False
    assert body["status"] == "current"
    assert body["screened_by"] == current.screened_by_id


def test_screening_get_is_404_before_any_screening(therapist_user):
    patient = PatientFactory()
    response = api(therapist_user).get(f"/api/v1/patients/{patient.pk}/screening/")
    assert response.status_code == 404
    assert "No screening" in response.json()["detail"]


def test_put_records_a_new_review_and_keeps_the_history(therapist_user):
    old = ScreeningFactory()
    url = f"/api/v1/patients/{old.patient.pk}/screening/"
    response = api(therapist_user).put(
        url, ALL_NO | {"pregnancy": True, "screened_at": "2000-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "blocked"
    assert body["screened_by"] == therapist_user.pk
    assert body["screened_at"] != "2000-01-01T00:00:00Z"  # read-only
    assert old.patient.screenings.count() == 2


def test_put_must_answer_every_question(therapist_user):
    patient = PatientFactory()
    response = api(therapist_user).put(
        f"/api/v1/patients/{patient.pk}/screening/", {"pregnancy": True}, format="json"
    )
    assert response.status_code == 400
    assert "pacemaker" in response.json()
    assert not patient.screenings.exists()


def test_put_drug_allergy_without_details_is_a_400(therapist_user):
    patient = PatientFactory()
    response = api(therapist_user).put(
        f"/api/v1/patients/{patient.pk}/screening/", ALL_NO | {"drug_allergy": True}, format="json"
    )
    assert response.status_code == 400
    assert "drug_allergy_details" in response.json()
    assert not patient.screenings.exists()
