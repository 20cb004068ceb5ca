"""The screening table, status and the R6 gate (patients.screening)."""

import datetime as dt

import pytest
from django.utils import timezone

from clinic.models import ClinicRules
from clinic.rule_codes import RuleCode
from patients import screening as safety
from patients.models import Screening
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.models import Modality

pytestmark = pytest.mark.django_db


def test_modality_names_match_the_treatments_app():
    assert set(safety.MODALITIES) == set(Modality.values)
    assert set(safety.MODALITY_LABELS) == set(Modality.values)


def test_every_yes_no_question_of_the_screening_is_mapped():
    questions = {f.name for f in Screening._meta.fields if f.get_internal_type() == "BooleanField"}
    assert set(safety.ANSWER_FIELDS) == questions


@pytest.mark.parametrize(
    ("answer", "blocked", "allowed"),
    [
        ("pregnancy", {Modality.IONTOPHORESIS, Modality.PHONOPHORESIS, Modality.TAP_WATER}, set()),
        ("pacemaker", {Modality.IONTOPHORESIS, Modality.TAP_WATER}, {Modality.PHONOPHORESIS}),
        ("open_growth_plates", {Modality.PHONOPHORESIS}, {Modality.IONTOPHORESIS, Modality.TAP_WATER}),
        ("drug_allergy", {Modality.IONTOPHORESIS, Modality.PHONOPHORESIS}, {Modality.TAP_WATER}),
        ("epilepsy", set(), set(Modality.values)),
    ],
)
def test_gate_refuses_exactly_the_modalities_an_answer_contraindicates(answer, blocked, allowed):
    screening = ScreeningFactory(
        **{answer: True}, drug_allergy_details="sulfites" if answer == "drug_allergy" else ""
    )
    for modality in blocked:
        reasons = safety.screening_gate(patient=screening.patient, modality=modality)
        assert any("contraindication" in r for r in reasons), modality
    for modality in allowed:
        assert safety.screening_gate(patient=screening.patient, modality=modality) == [], modality


def test_epilepsy_is_a_precaution_for_electrical_modalities():
    screening = ScreeningFactory(epilepsy=True)
    assert [a.field for a in safety.precautions(screening, Modality.TAP_WATER)] == ["epilepsy"]
    assert safety.precautions(screening, Modality.PHONOPHORESIS) == []
    assert safety.screening_status(screening, ClinicRules.current()) == "current"


def test_status_is_due_without_a_screening_or_when_it_is_too_old():
    rules = ClinicRules.current()
    assert safety.screening_status(None, rules) == "due"
    old = ScreeningFactory(screened_at=timezone.now() - dt.timedelta(days=rules.screening_valid_days + 1))
    assert safety.screening_status(old, rules) == "due"
    fresh = ScreeningFactory(screened_at=timezone.now() - dt.timedelta(days=rules.screening_valid_days - 1))
    assert safety.screening_status(fresh, rules) == "current"


def test_status_is_blocked_by_a_contraindication():
    assert safety.screening_status(ScreeningFactory(pregnancy=True), ClinicRules.current()) == "blocked"


def test_gate_reasons_name_a_missing_or_expired_screening():
    patient = PatientFactory()
    assert safety.screening_gate(patient=patient, modality=Modality.IONTOPHORESIS) == [
        "No safety screening is recorded."
    ]
    ScreeningFactory(patient=patient, screened_at=timezone.now() - dt.timedelta(days=40))
    (reason,) = safety.screening_gate(patient=patient, modality=Modality.IONTOPHORESIS)
    assert "older than 30 days" in reason


def test_validity_follows_the_clinic_setting():
    rules = ClinicRules.current()
    rules.screening_valid_days = 60
    rules.save()
    screening = ScreeningFactory(screened_at=timezone.now() - dt.timedelta(days=40))
    assert safety.screening_gate(patient=screening.patient, modality=Modality.TAP_WATER) == []


def test_gate_on_a_date_uses_the_screening_current_then():
    patient = PatientFactory()
    ScreeningFactory(patient=patient, screened_at=timezone.now() - dt.timedelta(days=10))
    ScreeningFactory(patient=patient, screened_at=timezone.now(), pregnancy=True)
    last_week = timezone.localdate() - dt.timedelta(days=7)
    assert safety.screening_gate(patient=patient, modality=Modality.IONTOPHORESIS, on_date=last_week) == []
    assert safety.screening_gate(patient=patient, modality=Modality.IONTOPHORESIS) != []


def test_each_gate_reason_carries_its_r6_code():
    patient = PatientFactory()

    def codes():
        return [p.code for p in safety.screening_problems(patient=patient, modality=Modality.IONTOPHORESIS)]

    assert codes() == [RuleCode.R6_MISSING]
    ScreeningFactory(patient=patient, screened_at=timezone.now() - dt.timedelta(days=40), pregnancy=True)
    assert codes() == [RuleCode.R6_EXPIRED, RuleCode.R6_CONTRAINDICATION]
    problems = safety.screening_problems(patient=patient, modality=Modality.IONTOPHORESIS)
    assert safety.screening_gate(patient=patient, modality=Modality.IONTOPHORESIS) == [
        p.message for p in problems
    ]
