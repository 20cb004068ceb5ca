"""The Django admin: catalog entries used by a plan are never deleted; the
history and plans are read-only there; the clinic rules are one row."""

import pytest
from django.urls import reverse

from clinic.models import ClinicRules
from patients.tests.factories import ScreeningFactory
from treatments.models import Medication
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


def test_a_medication_used_by_a_plan_cannot_be_deleted(admin_client):
    plan = PlanFactory()
    url = reverse("admin:treatments_medication_delete", args=[plan.medication.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Medication.objects.filter(pk=plan.medication.pk).exists()


def test_an_unused_medication_can_be_deleted(admin_client):
    unused = Medication.objects.get(name="Acetic acid")
    admin_client.post(reverse("admin:treatments_medication_delete", args=[unused.pk]), {"post": "yes"})
    assert not Medication.objects.filter(pk=unused.pk).exists()


def test_admin_form_applies_the_catalog_rules(admin_client):
    response = admin_client.post(
        reverse("admin:treatments_medication_add"),
        {
            "name": "Mystery",
            "concentration": "",
            "polarity": "none",
            "modalities": ["iontophoresis"],
            "is_drug": "on",
        },
    )
    assert response.status_code == 200
    assert "charge" in response.content.decode()
    assert not Medication.objects.filter(name="Mystery").exists()


def test_screening_history_and_plans_are_read_only(admin_client):
    screening = ScreeningFactory()
    plan = PlanFactory()
    assert admin_client.get(reverse("admin:patients_screening_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:patients_screening_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:patients_screening_change", args=[screening.pk]), {"pregnancy": "on"}
    )
    assert response.status_code == 403
    screening.refresh_from_db()
    assert screening.pregnancy is False
    assert admin_client.get(reverse("admin:treatments_treatmentplan_changelist")).status_code == 200
    assert (
        admin_client.get(reverse("admin:treatments_treatmentplan_delete", args=[plan.pk])).status_code == 403
    )


def test_clinic_rules_is_a_single_row(admin_client):
    response = admin_client.get(reverse("admin:clinic_clinicrules_changelist"))
    rules = ClinicRules.current()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:clinic_clinicrules_change", args=[rules.pk])
    assert admin_client.get(reverse("admin:clinic_clinicrules_add")).status_code == 403
