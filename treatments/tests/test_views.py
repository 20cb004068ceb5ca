"""Plan and medication pages: request in; status, page content and database out."""

import pytest
from django.urls import reverse

from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.models import Medication, TreatmentPlan
from treatments.tests.factories import PlanFactory, make_appointments

pytestmark = pytest.mark.django_db
Status = TreatmentPlan.Status


def ionto_form(**change) -> dict:
    return {
        "modality": "iontophoresis",
        "medication": str(Medication.objects.get(name="Dexamethasone sodium phosphate").pk),
        "body_site": "Lateral epicondyle",
        "side": "right",
        "indication": "Lateral epicondylitis",
        "icd10_code": "M77.11",
        "prescriber": "Dr. Alder",
        "prescription_date": "",
        "start_date": "",
        "sessions_prescribed": "6",
        "sessions_authorized": "",
        "frequency_per_week": "2",
        "min_interval_hours": "",
        "session_minutes": "",
        "dose_ma_min": "40",
        "current_ma": "4",
        "polarity": "negative",
        "electrode_type": "buffered",
        "frequency_mhz": "",
        "intensity_w_cm2": "",
        "duty_cycle_pct": "",
        "treatment_minutes": "",
        "tray": "",
        "polarity_alternation": "",
        "maintenance_interval_days": "",
    } | change


def phono_form(**change) -> dict:
    return (
        ionto_form(
            modality="phonophoresis",
            medication=str(Medication.objects.get(name="Dexamethasone gel").pk),
            body_site="Plantar fascia",
            frequency_mhz="1",
            intensity_w_cm2="1.0",
            duty_cycle_pct="100",
            treatment_minutes="8",
        )
        | change
    )


def tap_form(**change) -> dict:
    return (
        ionto_form(
            modality="tap_water",
            medication="",
            body_site="Palms",
            side="bilateral",
            tray="hands",
            current_ma="15",
            treatment_minutes="20",
            polarity_alternation="midway",
        )
        | change
    )


@pytest.fixture
def patient():
    return ScreeningFactory().patient


def create_url(patient) -> str:
    return reverse("treatments:create", kwargs={"patient_pk": patient.pk})


def test_therapist_creates_a_draft_plan_with_the_modality_defaults(client, therapist_user, patient):
    client.force_login(therapist_user)
    response = client.post(create_url(patient), ionto_form())
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("treatments:detail", kwargs={"pk": plan.pk})
    assert (plan.status, plan.session_minutes, plan.min_interval_hours) == (Status.DRAFT, 30, 48)
    page = client.get(response["Location"]).content.decode()
    assert "Draft plan saved" in page
    assert "40 mA·min at 4 mA" in page and "≈ 10 min" in page


def test_the_form_marks_each_field_with_its_modalities_and_loads_its_script(client, therapist_user, patient):
    client.force_login(therapist_user)
    body = client.get(create_url(patient)).content.decode()
    assert 'data-modalities="phonophoresis"' in body  # frequency, intensity, duty cycle
    assert 'data-modalities="iontophoresis tap_water"' in body  # current
    assert "js/plan_form.js" in body
    assert "<script>" not in body  # no inline script (CSP)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (lambda: ionto_form(polarity="positive"), "polarity", "negative charge"),
        (lambda: ionto_form(current_ma="5"), "current_ma", "between 0.1 and 4 mA"),
        (lambda: phono_form(intensity_w_cm2="3.5"), "intensity_w_cm2", "between 0.1 and 2.5"),
        (lambda: phono_form(frequency_mhz="2"), "frequency_mhz", "Select a valid choice"),
        (
            lambda: tap_form(medication=str(Medication.objects.get(name="Lidocaine HCl").pk)),
            "medication",
            "uses no drug",
        ),
    ],
)
def test_bad_value_rerenders_with_a_field_error_and_the_input_kept(
    client, therapist_user, patient, form, field, message
):
    client.force_login(therapist_user)
    data = form()
    response = client.post(create_url(patient), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert f'id="error_1_id_{field}"' in body  # crispy's field error, next to the field
    assert f'value="{data["body_site"]}"' in body
    assert not TreatmentPlan.objects.exists()


def test_out_of_range_asks_for_confirmation_then_saves(client, therapist_user, patient):
    client.force_login(therapist_user)
    response = client.post(create_url(patient), ionto_form(dose_ma_min="30"))
    body = response.content.decode()
    assert "outside the typical range" in body
    assert 'name="confirm_out_of_range"' in body
    assert not TreatmentPlan.objects.exists()
    response = client.post(create_url(patient), ionto_form(dose_ma_min="30", confirm_out_of_range="on"))
    assert response.status_code == 302
    assert TreatmentPlan.objects.get().dose_ma_min == 30


def test_edit_refuses_a_wrong_polarity_and_keeps_the_stored_plan(client, therapist_user):
    plan = PlanFactory()
    client.force_login(therapist_user)
    response = client.post(
        reverse("treatments:edit", kwargs={"pk": plan.pk}), ionto_form(polarity="positive")
    )
    assert response.status_code == 200
    assert "negative charge" in response.content.decode()
    plan.refresh_from_db()
    assert plan.polarity == "negative"


def test_edit_saves_a_change(client, therapist_user):
    plan = PlanFactory()
    client.force_login(therapist_user)
    response = client.post(
        reverse("treatments:edit", kwargs={"pk": plan.pk}), ionto_form(sessions_authorized="5")
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.sessions_authorized == 5


def test_activation_with_a_pregnancy_answer_is_refused_on_the_page(client, therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    ScreeningFactory(patient=plan.patient, pregnancy=True)
    client.force_login(therapist_user)
    url = reverse("treatments:activate", kwargs={"pk": plan.pk})
    assert "contraindication of iontophoresis" in client.get(url).content.decode()
    response = client.post(url, {"override_reason": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="error_1_id_override_reason"' in body and "pregnancy" in body
    plan.refresh_from_db()
    assert plan.status == Status.DRAFT


def test_activation_with_an_override_is_recorded_and_shown(client, therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    ScreeningFactory(patient=plan.patient, pregnancy=True)
    client.force_login(therapist_user)
    response = client.post(
        reverse("treatments:activate", kwargs={"pk": plan.pk}), {"override_reason": "Obstetrician agreed"}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE and plan.override_by == therapist_user
    page = client.get(response["Location"]).content.decode()
    assert "Screening override" in page and "Obstetrician agreed" in page


def test_status_buttons_move_the_plan(client, therapist_user):
    plan = PlanFactory()
    client.force_login(therapist_user)
    detail = client.get(reverse("treatments:detail", kwargs={"pk": plan.pk})).content.decode()
    assert reverse("treatments:hold", kwargs={"pk": plan.pk}) in detail
    assert reverse("treatments:activate", kwargs={"pk": plan.pk}) not in detail
    response = client.post(reverse("treatments:hold", kwargs={"pk": plan.pk}), {"reason": "Blister"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == Status.ON_HOLD and plan.status_reason == "Blister"


def test_an_illegal_transition_is_explained(client, therapist_user):
    plan = PlanFactory(status=Status.COMPLETED)
    client.force_login(therapist_user)
    response = client.post(reverse("treatments:hold", kwargs={"pk": plan.pk}), {"reason": ""})
    assert response.status_code == 200
    assert "A completed plan cannot be put on hold." in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == Status.COMPLETED


@pytest.mark.parametrize("name", ["create", "edit", "activate", "hold", "complete", "cancel"])
def test_front_desk_gets_403_on_clinical_plan_pages(client, front_desk, name):
    plan = PlanFactory(status=Status.DRAFT)
    client.force_login(front_desk)
    url = (
        reverse("treatments:create", kwargs={"patient_pk": plan.patient.pk})
        if name == "create"
        else reverse(f"treatments:{name}", kwargs={"pk": plan.pk})
    )
    assert client.get(url).status_code == 403
    assert client.post(url, ionto_form(override_reason="x")).status_code == 403
    plan.refresh_from_db()
    assert plan.status == Status.DRAFT
    assert TreatmentPlan.objects.count() == 1


def test_front_desk_sees_counters_but_not_the_clinical_details(client, front_desk):
    plan = PlanFactory(sessions_authorized=3)
    make_appointments(plan, "completed")
    client.force_login(front_desk)
    body = client.get(reverse("treatments:detail", kwargs={"pk": plan.pk})).content.decode()
    assert "Remaining" in body and "only 2 authorized sessions left" in body.lower()
    assert "mA·min" not in body and "Dexamethasone" not in body
    assert reverse("treatments:edit", kwargs={"pk": plan.pk}) not in body


@pytest.mark.parametrize("rows", [4, 12])
def test_plan_list_runs_a_constant_number_of_queries(client, front_desk, django_assert_max_num_queries, rows):
    for plan in PlanFactory.create_batch(rows):
        make_appointments(plan, "completed", "scheduled")
    client.force_login(front_desk)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("treatments:list"))
    assert response.content.decode().count("Lateral epicondyle") == rows


def test_plan_list_filters_plans_near_their_limit(client, front_desk):
    near = PlanFactory(sessions_authorized=2, body_site="Near site")
    PlanFactory(sessions_authorized=10, body_site="Far site")
    client.force_login(front_desk)
    body = client.get(reverse("treatments:list"), {"alert": "1"}).content.decode()
    assert "Near site" in body and "Far site" not in body
    assert reverse("treatments:detail", kwargs={"pk": near.pk}) in body


def test_everyone_reads_the_catalog_only_admins_change_it(client, therapist_user, clinic_admin):
    client.force_login(therapist_user)
    assert "Lidocaine HCl" in client.get(reverse("treatments:medications")).content.decode()
    assert client.get(reverse("treatments:medication_create")).status_code == 403
    client.force_login(clinic_admin)
    response = client.post(
        reverse("treatments:medication_create"),
        {
            "name": "Hyaluronidase",
            "concentration": "150 U/mL",
            "polarity": "positive",
            "modalities": ["iontophoresis"],
            "is_drug": "on",
            "notes": "",
        },
    )
    assert response.status_code == 302
    assert Medication.objects.get(name="Hyaluronidase").polarity == "positive"


def test_admin_deactivates_a_medication_and_plans_keep_it(client, clinic_admin):
    plan = PlanFactory()
    client.force_login(clinic_admin)
    response = client.post(reverse("treatments:medication_deactivate", kwargs={"pk": plan.medication.pk}))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.medication.is_active is False
    form = client.get(create_url(PatientFactory())).content.decode()
    assert ">Dexamethasone sodium phosphate 4 mg/mL</option>" not in form  # not offered for new plans
    assert ">Lidocaine HCl 4 %</option>" in form


def test_a_medication_without_a_charge_cannot_be_for_iontophoresis(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("treatments:medication_create"),
        {
            "name": "Mystery",
            "concentration": "",
            "polarity": "none",
            "modalities": ["iontophoresis"],
            "is_drug": "on",
        },
    )
    assert response.status_code == 200
    assert "give the drug&#x27;s charge" in response.content.decode()
    assert not Medication.objects.filter(name="Mystery").exists()


@pytest.mark.parametrize("extra", [0, 10])
def test_medication_page_runs_a_constant_number_of_queries(
    client, front_desk, django_assert_max_num_queries, extra
):
    for i in range(extra):
        Medication.objects.create(name=f"Drug {i}", polarity="negative", modalities=["iontophoresis"])
    client.force_login(front_desk)
    with django_assert_max_num_queries(5):
        body = client.get(reverse("treatments:medications")).content.decode()
    assert body.count("<tr") == 1 + 8 + extra
    assert reverse("treatments:medication_create") not in body  # front desk reads only
