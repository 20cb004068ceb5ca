"""Likely duplicates, search and merging records (issue 17, items 1–3)."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from notes.models import AdverseEvent
from patients import services
from patients.models import Patient
from patients.selectors import likely_duplicates, patients_search
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.tests.factories import PlanFactory, make_appointments

pytestmark = pytest.mark.django_db

DOB = dt.date(1979, 3, 14)


@pytest.fixture
def avery():
    return PatientFactory(
        first_name="Avery",
        last_name="Ashdown",
        date_of_birth=DOB,
        phone="+12025550199",
        email="avery.ashdown@example.invalid",
    )


def _create(**fields):
    base = {"first_name": "Avery", "last_name": "Ashdown", "date_of_birth": DOB}
    return services.patient_create(**{**base, **fields})


# -- the three cases the front desk met, and a different Smith ------------------
def test_similar_name_same_birth_date_and_phone_warns(avery):
    with pytest.raises(services.DuplicateWarning) as caught:
        _create(last_name="Ashdowne", phone="202-555-0199")
    [dup] = caught.value.duplicates
    assert dup.patient == avery
    assert "same date of birth, similar name" in dup.reasons and "same phone" in dup.reasons
    assert Patient.objects.count() == 1


def test_similar_name_same_birth_date_alone_warns(avery):
    with pytest.raises(services.DuplicateWarning):
        _create(last_name="Ashdowne")


def test_same_name_birth_date_one_day_off_warns(avery):
    with pytest.raises(services.DuplicateWarning) as caught:
        _create(date_of_birth=DOB + dt.timedelta(days=1))
    assert caught.value.duplicates[0].reasons == ("same name, date of birth nearly the same",)


def test_misspelt_name_with_same_email_warns(avery):
    with pytest.raises(services.DuplicateWarning) as caught:
        _create(
            first_name="Avry",
            last_name="Ashdon",
            date_of_birth=dt.date(1990, 1, 1),
            email="Avery.Ashdown@example.invalid",
        )
    assert caught.value.duplicates[0].reasons == ("same email",)


def test_accents_and_case_do_not_hide_a_duplicate():
    PatientFactory(first_name="José", last_name="Núñez", date_of_birth=DOB)
    with pytest.raises(services.DuplicateWarning):
        services.patient_create(first_name="jose", last_name="NUNEZ", date_of_birth=DOB)


def test_different_person_with_the_same_common_surname_is_silent():
    PatientFactory(
        first_name="Jordan",
        last_name="Smith",
        date_of_birth=dt.date(1985, 6, 2),
        email="jordan@example.invalid",
    )
    PatientFactory(first_name="Taylor", last_name="Smith", date_of_birth=DOB, email="t@example.invalid")
    patient = services.patient_create(
        first_name="Morgan",
        last_name="Smith",
        date_of_birth=DOB,
        phone="202-555-0177",
        email="morgan.smith@example.invalid",
    )
    assert patient.pk


def test_confirmation_saves_the_second_record(avery):
    patient = _create(last_name="Ashdowne", confirm_duplicate=True)
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_merged_records_are_no_longer_candidates(avery):
    kept = PatientFactory(first_name="Avery", last_name="Ashdown", date_of_birth=DOB)
    services.patient_merge(patient=avery, into=kept)
    assert [
        d.patient
        for d in likely_duplicates(
            first_name="Avery", last_name="Ashdowne", date_of_birth=DOB, phone="+12025550199"
        )
    ] == [kept]


def test_edit_that_changes_only_the_address_does_not_ask_again(avery):
    PatientFactory(first_name="Avery", last_name="Ashdowne", date_of_birth=DOB)
    services.patient_update(patient=avery, data={"city": "Springfield"})
    avery.refresh_from_db()
    assert avery.city == "Springfield"


# -- search ----------------------------------------------------------------------
@pytest.mark.parametrize("query", ["Ashdown, Avery", "Avery Ashdown", "ashd", "av ash", "ASHDOWN,AVERY"])
def test_search_finds_last_first_first_last_and_partial(avery, query):
    PatientFactory(first_name="Robin", last_name="Brook")
    assert list(patients_search(query=query)) == [avery]


def test_search_ignores_accents_both_ways():
    jose = PatientFactory(first_name="José", last_name="Müller")
    assert list(patients_search(query="jose muller")) == [jose]
    assert list(patients_search(query="Müller, José")) == [jose]


def test_search_leaves_merged_records_out(avery):
    kept = PatientFactory(first_name="Avery", last_name="Ashdown")
    services.patient_merge(patient=avery, into=kept)
    assert list(patients_search(query="Ashdown")) == [kept]


def test_navigation_has_a_patient_search_box_on_every_page(client, front_desk, therapist_user):
    for user in (front_desk, therapist_user):
        client.force_login(user)
        for url in (reverse("home"), reverse("appointments:day"), reverse("patients:list")):
            page = client.get(url).content.decode()
            assert 'id="nav-patient-search"' in page and 'for="nav-patient-search"' in page, url


def test_list_page_search_by_last_comma_first(client, front_desk, avery):
    client.force_login(front_desk)
    page = client.get(reverse("patients:list"), {"q": "Ashdown, Avery"}).content.decode()
    assert avery.mrn in page


# -- merge -----------------------------------------------------------------------
@pytest.fixture
def pair(avery):
    """`avery` with a plan, visits, a screening and an adverse event; `kept`
    is the record the admin keeps."""
    kept = PatientFactory(first_name="Avery", last_name="Ashdown", date_of_birth=DOB, email="", phone="")
    plan = PlanFactory(patient=avery)
    ScreeningFactory(patient=avery)
    visits = make_appointments(plan, "completed", "scheduled")
    return {"dup": avery, "kept": kept, "plan": plan, "visits": visits}


def test_merge_moves_history_keeps_record_inactive_and_logs_it(pair, clinic_admin):
    dup, kept = pair["dup"], pair["kept"]
    services.patient_merge(patient=dup, into=kept, user=clinic_admin)
    dup.refresh_from_db()
    kept.refresh_from_db()
    assert dup.is_active is False and dup.merged_into == kept and dup.merged_at
    assert list(kept.plans.all()) == [pair["plan"]]
    assert kept.appointments.count() == 2 and kept.screenings.count() == 1
    assert dup.plans.count() == dup.appointments.count() == dup.screenings.count() == 0
    # Blank contact details of the kept record come from the merged one.
    assert kept.email == "avery.ashdown@example.invalid" and str(kept.phone) == "+12025550199"
    [entry] = [e for e in LogEntry.objects.get_for_object(kept) if "merged_from" in (e.changes or {})]
    assert entry.actor == clinic_admin
    assert entry.additional_data["moved"]["appointments"] == 2
    assert any("merged_into" in (e.changes or {}) for e in LogEntry.objects.get_for_object(dup))


def test_merge_refuses_itself_and_merged_records_and_writes_nothing(pair):
    dup, kept = pair["dup"], pair["kept"]
    with pytest.raises(ValidationError) as caught:
        services.patient_merge(patient=dup, into=dup)
    assert "into" in caught.value.message_dict
    services.patient_merge(patient=dup, into=kept)
    other = PatientFactory()
    with pytest.raises(ValidationError):
        services.patient_merge(patient=other, into=dup)  # dup is inactive now
    with pytest.raises(ValidationError):
        services.patient_merge(patient=dup, into=other)
    assert other.plans.count() == 0 and Patient.objects.get(pk=other.pk).is_active


def test_merged_record_cannot_be_edited(pair):
    services.patient_merge(patient=pair["dup"], into=pair["kept"])
    with pytest.raises(ValidationError):
        services.patient_update(patient=pair["dup"], data={"city": "X"})


def test_merge_moves_adverse_events_of_notes_too(pair):
    # Any app's rows that point at the patient move: the service reads the
    # model's relations instead of naming each app (no upward import).
    names = {r.related_model for r in Patient._meta.related_objects}
    assert AdverseEvent in names


def test_api_merge_is_for_clinic_admins(pair, front_desk, clinic_admin):
    url = f"/api/v1/patients/{pair['dup'].pk}/merge/"
    client = APIClient()
    client.force_authenticate(front_desk)
    assert client.post(url, {"into": pair["kept"].pk}, format="json").status_code == 403
    client.force_authenticate(clinic_admin)
    assert client.post(url, {"into": pair["dup"].pk}, format="json").status_code == 400
    response = client.post(url, {"into": pair["kept"].pk}, format="json")
    assert response.status_code == 200 and response.json()["id"] == pair["kept"].pk
    detail = client.get(f"/api/v1/patients/{pair['dup'].pk}/").json()
    assert detail["is_active"] is False and detail["merged_into"] == pair["kept"].pk
    ids = [p["id"] for p in client.get("/api/v1/patients/").json()["results"]]
    assert pair["dup"].pk not in ids


def test_api_duplicate_is_400_with_candidates_then_created_when_confirmed(avery, front_desk):
    client = APIClient()
    client.force_authenticate(front_desk)
    body = {
        "first_name": "Avery",
        "last_name": "Ashdowne",
        "date_of_birth": DOB.isoformat(),
        "phone": "202-555-0199",
    }
    response = client.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    assert response.json()["duplicates"][0]["id"] == avery.pk
    assert "confirm_duplicate" in response.json()
    assert (
        client.post("/api/v1/patients/", {**body, "confirm_duplicate": True}, format="json").status_code
        == 201
    )


def test_api_patient_carries_address_emergency_contact_and_coverage(front_desk):
    client = APIClient()
    client.force_authenticate(front_desk)
    body = {
        "first_name": "Kit",
        "last_name": "Lane",
        "date_of_birth": "1970-01-02",
        "address_line1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "emergency_contact_name": "Sam Lane",
        "emergency_contact_phone": "202-555-0111",
        "member_id": "XJ-1",
    }
    response = client.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["emergency_contact_phone"] == "+12025550111" and data["city"] == "Springfield"
    bad = client.post(
        "/api/v1/patients/", {**body, "first_name": "Kim", "emergency_contact_phone": "12"}, format="json"
    )
    assert bad.status_code == 400 and "emergency_contact_phone" in bad.json()


# -- pages -----------------------------------------------------------------------
FORM = {
    "first_name": "Avery",
    "last_name": "Ashdowne",
    "date_of_birth": DOB.isoformat(),
    "phone": "202-555-0199",
    "reminder_opt_in": "on",
}


def test_create_page_warns_with_links_keeps_input_then_saves_on_confirmation(client, front_desk, avery):
    client.force_login(front_desk)
    response = client.post(reverse("patients:create"), FORM)
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("patients:detail", kwargs={"pk": avery.pk}) in page
    assert 'value="Ashdowne"' in page and "Possible duplicate" in page
    assert Patient.objects.count() == 1
    response = client.post(reverse("patients:create"), {**FORM, "confirm_duplicate": "on"})
    assert response.status_code == 302 and Patient.objects.count() == 2


def test_chart_lists_likely_duplicates_and_admin_merges_from_the_warning(
    client, clinic_admin, front_desk, pair
):
    dup, kept = pair["dup"], pair["kept"]
    client.force_login(front_desk)
    page = client.get(reverse("patients:detail", kwargs={"pk": dup.pk})).content.decode()
    assert (
        "Possible duplicate records" in page and reverse("patients:merge", kwargs={"pk": dup.pk}) not in page
    )
    client.force_login(clinic_admin)
    page = client.get(reverse("patients:detail", kwargs={"pk": dup.pk})).content.decode()
    merge_url = f"{reverse('patients:merge', kwargs={'pk': dup.pk})}?into={kept.pk}"
    assert merge_url in page
    form = client.get(merge_url)
    assert form.status_code == 200 and kept.mrn in form.content.decode()
    unconfirmed = client.post(merge_url, {"into": kept.pk})
    assert unconfirmed.status_code == 200 and Patient.objects.get(pk=dup.pk).is_active
    response = client.post(merge_url, {"into": kept.pk, "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "patients:detail", kwargs={"pk": kept.pk}
    )
    page = client.get(reverse("patients:detail", kwargs={"pk": dup.pk})).content.decode()
    assert "This record is inactive" in page


def test_edit_page_saves_address_and_emergency_contact(client, front_desk, avery):
    client.force_login(front_desk)
    data = {
        "first_name": "Avery",
        "last_name": "Ashdown",
        "date_of_birth": DOB.isoformat(),
        "phone": "202-555-0199",
        "email": avery.email,
        "reminder_opt_in": "on",
        "address_line1": "12 Elm St",
        "city": "Dover",
        "state": "DE",
        "postal_code": "19901",
        "emergency_contact_name": "Pat Ashdown",
        "emergency_contact_phone": "202-555-0122",
    }
    response = client.post(reverse("patients:edit", kwargs={"pk": avery.pk}), data)
    assert response.status_code == 302
    avery.refresh_from_db()
    assert avery.city == "Dover" and str(avery.emergency_contact_phone) == "+12025550122"
    page = client.get(reverse("patients:detail", kwargs={"pk": avery.pk})).content.decode()
    assert "12 Elm St" in page and "Pat Ashdown" in page
