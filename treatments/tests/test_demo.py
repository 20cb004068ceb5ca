"""`seed_demo` adds synthetic patients, screenings and plans, idempotently."""

import pytest
from django.core.management import call_command

from clinic.models import ClinicRules
from patients.models import Patient
from patients.screening import screening_status
from treatments.models import Modality, TreatmentPlan
from treatments.selectors import plans_with_counts

pytestmark = pytest.mark.django_db


def test_seed_demo_patients_screenings_and_plans():
    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)  # idempotent
    assert Patient.objects.count() == 30
    rules = ClinicRules.current()
    statuses = [screening_status(p.screenings.first(), rules) for p in Patient.objects.all()]
    assert statuses.count("blocked") == 1
    assert statuses.count("due") == 2  # one expired, one never screened
    plans = TreatmentPlan.objects.all()
    assert set(plans.values_list("modality", flat=True)) == set(Modality.values)
    assert plans.filter(status=TreatmentPlan.Status.ACTIVE).count() >= 20
    assert plans_with_counts(plans).filter(authorization_alert=True).exists()
    blocked = next(p for p, s in zip(Patient.objects.all(), statuses, strict=True) if s == "blocked")
    assert blocked.plans.get().status == TreatmentPlan.Status.DRAFT
