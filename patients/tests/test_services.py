"""Patient and screening services: MRN, duplicates, phone, history."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from patients import services
from patients.models import Patient, Screening
from patients.tests.factories import PatientFactory, ScreeningFactory

pytestmark = pytest.mark.django_db

NEW = {"first_name": "Robin", "last_name": "Ashcroft", "date_of_birth": dt.date(1980, 5, 17)}


def test_create_assigns_an_eight_digit_mrn_and_normalises_the_phone():
    patient = services.patient_create(**NEW, phone="(202) 555-0143", email=" robin@example.invalid ")
    patient.refresh_from_db()
    assert len(patient.mrn) == 8 and patient.mrn.isdigit()
    assert str(patient.phone) == "+12025550143"
    assert patient.email == "robin@example.invalid"


def test_create_draws_again_when_the_mrn_is_taken(monkeypatch):
    taken = PatientFactory(mrn="12345678")
    draws = iter(["12345678", "87654321"])
    monkeypatch.setattr(services, "_new_mrn", lambda: next(draws))
    patient = services.patient_create(**NEW)
    assert patient.mrn == "87654321"
    assert Patient.objects.filter(mrn=taken.mrn).count() == 1


def test_create_warns_on_a_likely_duplicate_and_saves_nothing():
    existing = PatientFactory(first_name="Robin", last_name="Ashcroft", date_of_birth=NEW["date_of_birth"])
    with pytest.raises(ValidationError) as caught:
        services.patient_create(**NEW | {"first_name": "ROBIN"})
    assert existing.mrn in caught.value.message_dict["confirm_duplicate"][0]
    assert Patient.objects.count() == 1


def test_a_confirmed_duplicate_is_registered():
    PatientFactory(first_name="Robin", last_name="Ashcroft", date_of_birth=NEW["date_of_birth"])
    services.patient_create(**NEW, confirm_duplicate=True)
    assert Patient.objects.filter(last_name="Ashcroft").count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"date_of_birth": timezone.localdate() + dt.timedelta(days=1)}, "date_of_birth"),
        ({"first_name": ""}, "first_name"),
    ],
)
def test_create_refuses_bad_input_with_a_field_error(change, field):
    with pytest.raises(ValidationError) as caught:
        services.patient_create(**NEW | change)
    assert field in caught.value.message_dict
    assert not Patient.objects.exists()


def test_update_changes_demographics_but_never_the_mrn():
    patient = PatientFactory()
    services.patient_update(patient=patient, data={"phone": "202-555-0199", "reminder_opt_in": False})
    patient.refresh_from_db()
    assert str(patient.phone) == "+12025550199"
    assert patient.reminder_opt_in is False
    with pytest.raises(ValidationError) as caught:
        services.patient_update(patient=patient, data={"mrn": "00000000"})
    assert "mrn" in caught.value.message_dict


def test_update_into_a_duplicate_needs_a_confirmation():
    other = PatientFactory(first_name="Sam", last_name="Wells", date_of_birth=dt.date(1970, 1, 1))
    patient = PatientFactory(first_name="Sam", last_name="Well", date_of_birth=dt.date(1970, 1, 1))
    with pytest.raises(ValidationError):
        services.patient_update(patient=patient, data={"last_name": "Wells"})
    patient.refresh_from_db()
    assert patient.last_name == "Well"
    services.patient_update(patient=patient, data={"last_name": "Wells"}, confirm_duplicate=True)
    assert Patient.objects.filter(last_name="Wells").exclude(pk=other.pk).count() == 1


def test_update_of_other_fields_of_a_known_twin_needs_no_confirmation():
    PatientFactory(first_name="Sam", last_name="Wells", date_of_birth=dt.date(1970, 1, 1))
    twin = PatientFactory(first_name="Sam", last_name="Wells", date_of_birth=dt.date(1970, 1, 1))
    services.patient_update(patient=twin, data={"notes": "Prefers mornings"})
    twin.refresh_from_db()
    assert twin.notes == "Prefers mornings"


def test_a_review_records_a_new_screening_and_keeps_the_history(therapist_user):
    first = ScreeningFactory(screened_at=timezone.now() - dt.timedelta(days=20))
    review = services.screening_record(
        patient=first.patient, screened_by=therapist_user, answers={"pregnancy": True}
    )
    assert Screening.objects.filter(patient=first.patient).count() == 2
    first.refresh_from_db()
    assert first.pregnancy is False
    assert review.pregnancy is True and review.screened_by == therapist_user


def test_a_drug_allergy_needs_its_details(therapist_user):
    patient = PatientFactory()
    with pytest.raises(ValidationError) as caught:
        services.screening_record(patient=patient, screened_by=therapist_user, answers={"drug_allergy": True})
    assert "drug_allergy_details" in caught.value.message_dict
    assert not patient.screenings.exists()
