"""Patient pages: request in; status, page content and database out."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient, Screening
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.tests.factories import PlanFactory, make_appointments

pytestmark = pytest.mark.django_db

FORM = {
    "first_name": "Robin",
    "last_name": "Ashcroft",
    "date_of_birth": "1980-05-17",
    "sex": "",
    "email": "robin@example.invalid",
    "phone": "202-555-0143",
    "reminder_opt_in": "on",
    "referring_provider": "",
    "notes": "",
}
LIST_BUDGET = 10  # session, user, roles, rules, count, page, screenings (+ slack)


def test_front_desk_registers_a_patient_and_lands_on_the_chart(client, front_desk):
    client.force_login(front_desk)
    response = client.post(reverse("patients:create"), FORM)
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", kwargs={"pk": patient.pk})
    chart = client.get(response["Location"]).content.decode()
    assert f"registered with MRN {patient.mrn}" in chart
    assert "Screening due" in chart


def test_bad_input_rerenders_with_the_field_error_and_the_input_kept(client, front_desk):
    client.force_login(front_desk)
    response = client.post(reverse("patients:create"), FORM | {"phone": "12", "email": "nope"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid phone number" in body
    assert "Enter a valid email address" in body
    assert 'value="Ashcroft"' in body
    assert not Patient.objects.exists()


def test_a_likely_duplicate_is_flagged_and_created_only_when_confirmed(client, front_desk):
    existing = PatientFactory(first_name="Robin", last_name="Ashcroft", date_of_birth=dt.date(1980, 5, 17))
    client.force_login(front_desk)
    response = client.post(reverse("patients:create"), FORM)
    body = response.content.decode()
    assert "Possible duplicate" in body and existing.mrn in body
    assert 'name="confirm_duplicate"' in body
    assert Patient.objects.count() == 1
    response = client.post(reverse("patients:create"), FORM | {"confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_edit_keeps_the_mrn(client, front_desk):
    patient = PatientFactory(mrn="11112222")
    client.force_login(front_desk)
    response = client.post(reverse("patients:edit", kwargs={"pk": patient.pk}), FORM | {"mrn": "99999999"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.mrn == "11112222"
    assert patient.last_name == "Ashcroft"


def test_search_finds_by_name_and_says_what_to_do_when_nothing_matches(client, front_desk):
    PatientFactory(first_name="Ada", last_name="Lovelace")
    PatientFactory(first_name="Alan", last_name="Turing")
    client.force_login(front_desk)
    body = client.get(reverse("patients:list"), {"q": "lovelace"}).content.decode()
    assert "Lovelace, Ada" in body and "Turing" not in body
    body = client.get(reverse("patients:list"), {"q": "zzz"}).content.decode()
    assert "No patient matches" in body and reverse("patients:create") in body


def test_list_is_paginated(client, front_desk):
    PatientFactory.create_batch(30)
    client.force_login(front_desk)
    body = client.get(reverse("patients:list")).content.decode()
    assert "Page 1 of 2" in body
    assert body.count(reverse("patients:list").rstrip("/") + "/") >= 1
    assert "Page 2 of 2" in client.get(reverse("patients:list"), {"page": 2}).content.decode()


@pytest.mark.parametrize("rows", [5, 15])
def test_list_runs_a_constant_number_of_queries(client, front_desk, django_assert_max_num_queries, rows):
    for patient in PatientFactory.create_batch(rows):
        ScreeningFactory(patient=patient)
    client.force_login(front_desk)
    with django_assert_max_num_queries(LIST_BUDGET):
        response = client.get(reverse("patients:list"))
    assert response.content.decode().count(">Screening current<") == rows


def test_front_desk_sees_the_screening_status_but_never_the_answers(client, front_desk):
    screening = ScreeningFactory(pregnancy=True)
    client.force_login(front_desk)
    body = client.get(reverse("patients:detail", kwargs={"pk": screening.patient.pk})).content.decode()
    assert "Screening blocked" in body
    assert "pregnan" not in body.lower()
    assert "Contraindications" not in body
    assert client.get(reverse("patients:screening", kwargs={"pk": screening.patient.pk})).status_code == 403
    history = reverse("patients:screening_history", kwargs={"pk": screening.patient.pk})
    assert client.get(history).status_code == 403
    response = client.post(
        reverse("patients:screening", kwargs={"pk": screening.patient.pk}), {"pregnancy": ""}
    )
    assert response.status_code == 403
    assert Screening.objects.count() == 1


def test_therapist_sees_the_answers_on_the_chart(client, therapist_user):
    screening = ScreeningFactory(pregnancy=True, epilepsy=True)
    client.force_login(therapist_user)
    body = client.get(reverse("patients:detail", kwargs={"pk": screening.patient.pk})).content.decode()
    assert "Contraindications" in body and "Pregnancy" in body
    assert "Precautions" in body and "Epilepsy" in body


def test_therapist_records_a_review_and_the_old_screening_stays(client, therapist_user):
    old = ScreeningFactory(pregnancy=True, screened_at=timezone.now() - dt.timedelta(days=40))
    client.force_login(therapist_user)
    url = reverse("patients:screening", kwargs={"pk": old.patient.pk})
    form = client.get(url).content.decode()
    assert 'name="pregnancy"' in form and "checked" in form  # pre-filled with the last answers
    response = client.post(url, {"epilepsy": "on"})
    assert response.status_code == 302
    assert old.patient.screenings.count() == 2
    current = old.patient.screenings.order_by("-screened_at").first()
    assert current.pregnancy is False and current.epilepsy is True
    assert current.screened_by == therapist_user
    history = client.get(
        reverse("patients:screening_history", kwargs={"pk": old.patient.pk})
    ).content.decode()
    assert "Pregnancy" in history and "Epilepsy" in history


def test_a_drug_allergy_without_details_rerenders_the_form(client, therapist_user):
    patient = PatientFactory()
    client.force_login(therapist_user)
    response = client.post(reverse("patients:screening", kwargs={"pk": patient.pk}), {"drug_allergy": "on"})
    assert response.status_code == 200
    assert "Name the drug" in response.content.decode()
    assert not patient.screenings.exists()


def test_chart_shows_plans_with_counters_and_the_authorization_alert(client, front_desk):
    plan = PlanFactory(sessions_prescribed=6, sessions_authorized=4)
    make_appointments(plan, "completed", "scheduled")
    client.force_login(front_desk)
    body = client.get(reverse("patients:detail", kwargs={"pk": plan.patient.pk})).content.decode()
    assert "Treatment plans" in body
    assert "only 2 authorized sessions left" in body
    assert reverse("treatments:detail", kwargs={"pk": plan.pk}) in body
    assert (
        reverse("treatments:create", kwargs={"patient_pk": plan.patient.pk}) not in body
    )  # not for front desk


@pytest.mark.parametrize("plans", [2, 6])
def test_chart_runs_a_constant_number_of_queries(
    client, therapist_user, django_assert_max_num_queries, plans
):
    patient = PatientFactory()
    ScreeningFactory(patient=patient)
    for plan in PlanFactory.create_batch(plans, patient=patient):
        make_appointments(plan, "completed")
    client.force_login(therapist_user)
    # 12, the screening read audit row, duplicates, attendance, evaluations,
    # and the home program's state and intakes waiting for review
    with django_assert_max_num_queries(18):
        response = client.get(reverse("patients:detail", kwargs={"pk": patient.pk}))
    assert response.content.decode().count("Lateral epicondyle") == plans


def test_the_chart_tells_what_to_do_without_plans(client, therapist_user):
    patient = PatientFactory()
    client.force_login(therapist_user)
    body = client.get(reverse("patients:detail", kwargs={"pk": patient.pk})).content.decode()
    assert "No treatment plan yet" in body and "Create the first plan" in body
    assert "No screening is recorded yet" in body
