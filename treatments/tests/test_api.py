"""/api/v1/medications/ and /api/v1/plans/ with their status actions."""

import pytest
from rest_framework.test import APIClient

from patients.tests.factories import ScreeningFactory
from treatments.models import Medication, TreatmentPlan
from treatments.tests.factories import PlanFactory, make_appointments

pytestmark = pytest.mark.django_db
Status = TreatmentPlan.Status


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def med(name: str) -> int:
    return Medication.objects.get(name=name).pk


@pytest.fixture
def patient():
    return ScreeningFactory().patient


def ionto(patient, **change) -> dict:
    return {
        "patient": patient.pk,
        "modality": "iontophoresis",
        "medication": med("Dexamethasone sodium phosphate"),
        "body_site": "Lateral epicondyle",
        "sessions_prescribed": 6,
        "frequency_per_week": 2,
        "dose_ma_min": "40",
        "current_ma": "4",
        "polarity": "negative",
        "electrode_type": "buffered",
    } | change


def phono(patient, **change) -> dict:
    return {
        "patient": patient.pk,
        "modality": "phonophoresis",
        "medication": med("Dexamethasone gel"),
        "body_site": "Plantar fascia",
        "sessions_prescribed": 8,
        "frequency_per_week": 3,
        "frequency_mhz": 1,
        "intensity_w_cm2": "1.0",
        "duty_cycle_pct": 100,
        "treatment_minutes": 8,
    } | change


def tap(patient, **change) -> dict:
    return {
        "patient": patient.pk,
        "modality": "tap_water",
        "medication": None,
        "body_site": "Palms",
        "sessions_prescribed": 10,
        "frequency_per_week": 3,
        "tray": "hands",
        "current_ma": "15",
        "treatment_minutes": 20,
        "polarity_alternation": "midway",
    } | change


def test_therapist_creates_a_plan_with_counts_and_nulls_for_other_modalities(therapist_user, patient):
    response = api(therapist_user).post("/api/v1/plans/", tap(patient), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["session_minutes"] == 40 and body["min_interval_hours"] == 24
    assert body["counts"] == {
        "prescribed": 10,
        "authorized": None,
        "scheduled": 0,
        "completed": 0,
        "remaining": 10,
    }
    assert body["dose_ma_min"] is None and body["frequency_mhz"] is None and body["polarity"] is None
    assert "confirm_out_of_range" not in body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (lambda p: ionto(p, polarity="positive"), "polarity"),
        (lambda p: ionto(p, current_ma="5"), "current_ma"),
        (lambda p: phono(p, intensity_w_cm2="3.5"), "intensity_w_cm2"),
        (lambda p: phono(p, frequency_mhz=2), "frequency_mhz"),
        (lambda p: tap(p, medication=med("Lidocaine HCl")), "medication"),
        (lambda p: ionto(p, medication=med("Ketoprofen gel")), "medication"),
    ],
)
def test_bad_value_is_a_400_field_error_and_nothing_is_saved(therapist_user, patient, payload, field):
    response = api(therapist_user).post("/api/v1/plans/", payload(patient), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not TreatmentPlan.objects.exists()


def test_out_of_range_needs_confirm_out_of_range(therapist_user, patient):
    client = api(therapist_user)
    response = client.post("/api/v1/plans/", phono(patient, treatment_minutes=12), format="json")
    assert response.status_code == 400
    assert "outside the typical range" in response.json()["treatment_minutes"][0]
    assert not TreatmentPlan.objects.exists()
    response = client.post(
        "/api/v1/plans/", phono(patient, treatment_minutes=12, confirm_out_of_range=True), format="json"
    )
    assert response.status_code == 201
    assert response.json()["treatment_minutes"] == 12


def test_patch_with_a_wrong_polarity_is_a_400_and_the_plan_is_unchanged(therapist_user):
    plan = PlanFactory()
    response = api(therapist_user).patch(f"/api/v1/plans/{plan.pk}/", {"polarity": "positive"}, format="json")
    assert response.status_code == 400
    assert "polarity" in response.json()
    plan.refresh_from_db()
    assert plan.polarity == "negative"


def test_a_plan_cannot_move_to_another_patient(therapist_user):
    plan = PlanFactory()
    other = ScreeningFactory().patient
    response = api(therapist_user).patch(f"/api/v1/plans/{plan.pk}/", {"patient": other.pk}, format="json")
    assert response.status_code == 400
    plan.refresh_from_db()
    assert plan.patient_id != other.pk


def test_activation_with_a_pregnancy_answer_is_a_400(therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    ScreeningFactory(patient=plan.patient, pregnancy=True)
    response = api(therapist_user).post(f"/api/v1/plans/{plan.pk}/activate/", {}, format="json")
    assert response.status_code == 400
    assert "pregnancy" in " ".join(response.json()["override_reason"])
    plan.refresh_from_db()
    assert plan.status == Status.DRAFT


def test_activation_with_an_override_reason(therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    ScreeningFactory(patient=plan.patient, pregnancy=True)
    response = api(therapist_user).post(
        f"/api/v1/plans/{plan.pk}/activate/", {"override_reason": "Obstetrician agreed"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active"
    assert body["override_reason"] == "Obstetrician agreed" and body["override_by"] == therapist_user.pk


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (Status.ACTIVE, "hold", "on_hold"),
        (Status.ON_HOLD, "resume", "active"),
        (Status.ACTIVE, "complete", "completed"),
        (Status.DRAFT, "cancel", "cancelled"),
    ],
)
def test_status_actions(therapist_user, start, action, end):
    plan = PlanFactory(status=start)
    ScreeningFactory(patient=plan.patient)
    response = api(therapist_user).post(f"/api/v1/plans/{plan.pk}/{action}/", {"reason": "x"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == end


def test_an_illegal_transition_is_a_400(therapist_user):
    plan = PlanFactory(status=Status.CANCELLED)
    response = api(therapist_user).post(f"/api/v1/plans/{plan.pk}/resume/", {}, format="json")
    assert response.status_code == 400
    assert "cannot be resumed" in response.json()["status"][0]


def test_status_is_read_only(therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    api(therapist_user).patch(f"/api/v1/plans/{plan.pk}/", {"status": "active"}, format="json")
    plan.refresh_from_db()
    assert plan.status == Status.DRAFT


def test_front_desk_reads_plans_but_gets_403_on_clinical_changes(front_desk, patient):
    plan = PlanFactory(status=Status.DRAFT)
    client = api(front_desk)
    assert client.get(f"/api/v1/plans/{plan.pk}/").status_code == 200
    assert client.post("/api/v1/plans/", ionto(patient), format="json").status_code == 403
    assert client.patch(f"/api/v1/plans/{plan.pk}/", {"current_ma": "2"}, format="json").status_code == 403
    for action in ("activate", "hold", "resume", "complete", "cancel"):
        assert client.post(f"/api/v1/plans/{plan.pk}/{action}/", {}, format="json").status_code == 403
    plan.refresh_from_db()
    assert plan.status == Status.DRAFT and plan.current_ma == 4
    assert TreatmentPlan.objects.count() == 1


def test_counts_follow_the_appointments(front_desk):
    plan = PlanFactory(sessions_authorized=4)
    make_appointments(plan, "completed", "confirmed", "cancelled")
    body = api(front_desk).get(f"/api/v1/plans/{plan.pk}/").json()
    assert body["counts"] == {
        "prescribed": 6,
        "authorized": 4,
        "scheduled": 1,
        "completed": 1,
        "remaining": 2,
    }


def test_filters_by_patient_status_and_modality(front_desk):
    plan = PlanFactory(tap_water=True)
    PlanFactory(status=Status.DRAFT)
    client = api(front_desk)
    assert [p["id"] for p in client.get("/api/v1/plans/", {"modality": "tap_water"}).json()["results"]] == [
        plan.pk
    ]
    assert [
        p["id"] for p in client.get("/api/v1/plans/", {"patient": plan.patient_id}).json()["results"]
    ] == [plan.pk]
    assert client.get("/api/v1/plans/", {"status": "draft"}).json()["count"] == 1


@pytest.mark.parametrize("rows", [4, 12])
def test_plan_list_runs_a_constant_number_of_queries(front_desk, django_assert_max_num_queries, rows):
    for plan in PlanFactory.create_batch(rows):
        make_appointments(plan, "scheduled")
    client = api(front_desk)
    with django_assert_max_num_queries(7):
        body = client.get("/api/v1/plans/").json()
    assert [p["counts"]["scheduled"] for p in body["results"]] == [1] * rows


# --------------------------------------------------------------- medications


def test_everyone_reads_the_catalog(front_desk):
    body = api(front_desk).get("/api/v1/medications/").json()
    names = {m["name"]: m for m in body["results"]}
    assert names["Dexamethasone sodium phosphate"]["polarity"] == "negative"
    assert names["Tap water"]["modalities"] == ["tap_water"]


def test_catalog_filters_by_modality(front_desk):
    body = api(front_desk).get("/api/v1/medications/", {"modality": "phonophoresis"}).json()
    assert {m["name"] for m in body["results"]} == {
        "Dexamethasone gel",
        "Hydrocortisone cream",
        "Ketoprofen gel",
    }


def test_only_clinic_admins_write_the_catalog(therapist_user, clinic_admin):
    payload = {
        "name": "Hyaluronidase",
        "concentration": "150 U/mL",
        "polarity": "positive",
        "modalities": ["iontophoresis"],
    }
    assert api(therapist_user).post("/api/v1/medications/", payload, format="json").status_code == 403
    assert not Medication.objects.filter(name="Hyaluronidase").exists()
    response = api(clinic_admin).post("/api/v1/medications/", payload, format="json")
    assert response.status_code == 201
    assert Medication.objects.get(name="Hyaluronidase").is_drug


def test_a_bad_catalog_entry_is_a_400(clinic_admin):
    payload = {"name": "Mystery", "polarity": "none", "modalities": ["iontophoresis"]}
    response = api(clinic_admin).post("/api/v1/medications/", payload, format="json")
    assert response.status_code == 400
    assert "polarity" in response.json()


def test_medications_are_deactivated_never_deleted(clinic_admin):
    plan = PlanFactory()
    client = api(clinic_admin)
    assert client.delete(f"/api/v1/medications/{plan.medication_id}/").status_code == 405
    response = client.post(f"/api/v1/medications/{plan.medication_id}/deactivate/")
    assert response.status_code == 200 and response.json()["is_active"] is False
    plan.refresh_from_db()
    assert plan.medication.is_active is False


@pytest.mark.parametrize("extra", [0, 10])
def test_medication_list_runs_a_constant_number_of_queries(front_desk, django_assert_max_num_queries, extra):
    for i in range(extra):
        Medication.objects.create(name=f"Drug {i}", polarity="negative", modalities=["iontophoresis"])
    with django_assert_max_num_queries(5):
        body = api(front_desk).get("/api/v1/medications/").json()
    assert body["count"] == 8 + extra


@pytest.mark.django_db
def test_payers_are_read_by_staff_and_written_by_clinic_admins(front_desk, clinic_admin):
    created = api(clinic_admin).post("/api/v1/payers/", {"name": "Synthetic Mutual"}, format="json")
    assert created.status_code == 201
    assert created.json()["daily_97033_unit_cap"] == 4  # Medicare's cap unless the payer says otherwise
    listed = api(front_desk).get("/api/v1/payers/").json()
    assert [p["name"] for p in listed["results"]] == ["Synthetic Mutual"]
    assert api(front_desk).post("/api/v1/payers/", {"name": "Other"}, format="json").status_code == 403
    refused = api(clinic_admin).post(
        "/api/v1/payers/", {"name": "Zero", "daily_97033_unit_cap": 0}, format="json"
    )
    assert refused.status_code == 400
    assert "daily_97033_unit_cap" in refused.json()
