"""Plan and medication services: defaults, rules, status machine, R6 gate."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clinic.exceptions import IllegalTransition
from clinic.models import ClinicRules
from clinic.rule_codes import RuleCode, codes_of
from patients.tests.factories import ScreeningFactory
from treatments import services
from treatments.models import Medication, Modality, TreatmentPlan
from treatments.tests.factories import PlanFactory, tap_water_entry

pytestmark = pytest.mark.django_db
Status = TreatmentPlan.Status


def dexamethasone() -> Medication:
    return Medication.objects.get(name="Dexamethasone sodium phosphate")


def ionto_data(**change) -> dict:
    return {
        "modality": Modality.IONTOPHORESIS,
        "medication": dexamethasone(),
        "body_site": "Lateral epicondyle",
        "side": "right",
        "prescriber": "Dr. Alder",
        "prescription_date": timezone.localdate(),
        "sessions_prescribed": 6,
        "frequency_per_week": 2,
        "dose_ma_min": Decimal("40"),
        "current_ma": Decimal("4"),
        "polarity": "negative",
        "electrode_type": "buffered",
    } | change


def phono_data(**change) -> dict:
    return {
        "modality": Modality.PHONOPHORESIS,
        "medication": Medication.objects.get(name="Dexamethasone gel"),
        "body_site": "Plantar fascia",
        "sessions_prescribed": 8,
        "frequency_per_week": 3,
        "frequency_mhz": 3,
        "intensity_w_cm2": Decimal("1.0"),
        "duty_cycle_pct": 50,
        "treatment_minutes": 8,
    } | change


def tap_data(**change) -> dict:
    return {
        "modality": Modality.TAP_WATER,
        "medication": None,
        "body_site": "Palms",
        "side": "bilateral",
        "sessions_prescribed": 10,
        "frequency_per_week": 3,
        "tray": "hands",
        "current_ma": Decimal("15"),
        "treatment_minutes": 20,
        "polarity_alternation": "midway",
    } | change


@pytest.fixture
def patient():
    return ScreeningFactory().patient


@pytest.mark.parametrize(
    ("data", "minutes", "interval"),
    [(ionto_data, 30, 48), (phono_data, 20, 24), (tap_data, 40, 24)],
)
def test_create_fills_the_modality_defaults(patient, therapist_user, data, minutes, interval):
    plan = services.plan_create(patient=patient, user=therapist_user, data=data())
    plan.refresh_from_db()
    assert plan.status == Status.DRAFT
    assert (plan.session_minutes, plan.min_interval_hours) == (minutes, interval)
    assert plan.created_by == therapist_user


def test_interval_default_comes_from_the_clinic_rules(patient, therapist_user):
    rules = ClinicRules.current()
    rules.ionto_min_interval_hours = 72
    rules.save()
    plan = services.plan_create(patient=patient, user=therapist_user, data=ionto_data())
    assert plan.min_interval_hours == 72


def test_polarity_defaults_to_the_drug_charge(patient, therapist_user):
    lidocaine = Medication.objects.get(name="Lidocaine HCl")
    plan = services.plan_create(
        patient=patient, user=therapist_user, data=ionto_data(medication=lidocaine, polarity=None)
    )
    assert plan.polarity == "positive"


def test_parameters_of_other_modalities_are_cleared(patient, therapist_user):
    plan = services.plan_create(
        patient=patient, user=therapist_user, data=tap_data(dose_ma_min=Decimal("40"), frequency_mhz=1)
    )
    plan.refresh_from_db()
    assert plan.dose_ma_min is None and plan.frequency_mhz is None
    assert plan.current_ma == Decimal("15")


def test_tap_water_accepts_the_no_drug_entry(patient, therapist_user):
    plan = services.plan_create(
        patient=patient, user=therapist_user, data=tap_data(medication=tap_water_entry())
    )
    assert plan.medication.is_drug is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (lambda: ionto_data(polarity="positive"), "polarity"),
        (lambda: ionto_data(current_ma=Decimal("5")), "current_ma"),
        (lambda: phono_data(intensity_w_cm2=Decimal("3.5")), "intensity_w_cm2"),
        (lambda: phono_data(frequency_mhz=2), "frequency_mhz"),
        (lambda: tap_data(medication=dexamethasone()), "medication"),
        (lambda: ionto_data(icd10_code="not a code"), "icd10_code"),
        (lambda: ionto_data(session_minutes=3), "session_minutes"),
        (lambda: ionto_data(frequency_per_week=9), "frequency_per_week"),
        (
            lambda: ionto_data(prescription_date=timezone.localdate() + dt.timedelta(days=2)),
            "prescription_date",
        ),
    ],
)
def test_create_refuses_a_bad_value_and_saves_nothing(patient, therapist_user, data, field):
    with pytest.raises(ValidationError) as caught:
        services.plan_create(patient=patient, user=therapist_user, data=data(), confirm_out_of_range=True)
    assert field in caught.value.message_dict
    assert not TreatmentPlan.objects.exists()


def test_out_of_range_needs_confirmation_then_saves(patient, therapist_user):
    data = ionto_data(dose_ma_min=Decimal("30"))
    with pytest.raises(ValidationError) as caught:
        services.plan_create(patient=patient, user=therapist_user, data=data)
    assert "outside the typical range" in caught.value.message_dict["dose_ma_min"][0]
    assert not TreatmentPlan.objects.exists()
    plan = services.plan_create(patient=patient, user=therapist_user, data=data, confirm_out_of_range=True)
    assert plan.dose_ma_min == Decimal("30")


def test_an_inactive_medication_cannot_start_a_new_plan(patient, therapist_user):
    services.medication_deactivate(medication=dexamethasone())
    with pytest.raises(ValidationError) as caught:
        services.plan_create(patient=patient, user=therapist_user, data=ionto_data())
    assert "no longer in the catalog" in caught.value.message_dict["medication"][0]


def test_a_plan_keeps_its_medication_after_deactivation(therapist_user):
    plan = PlanFactory()
    services.medication_deactivate(medication=plan.medication)
    services.plan_update(plan=plan, user=therapist_user, data={"sessions_authorized": 5})
    plan.refresh_from_db()
    assert plan.sessions_authorized == 5 and plan.medication.is_active is False


def test_update_refuses_a_bad_value_and_keeps_the_stored_plan(therapist_user):
    plan = PlanFactory()
    with pytest.raises(ValidationError) as caught:
        services.plan_update(plan=plan, user=therapist_user, data={"polarity": "positive"})
    assert "polarity" in caught.value.message_dict
    plan.refresh_from_db()
    assert plan.polarity == "negative"


def test_only_a_draft_changes_its_modality(therapist_user):
    active = PlanFactory()
    with pytest.raises(ValidationError) as caught:
        services.plan_update(plan=active, user=therapist_user, data={"modality": Modality.TAP_WATER})
    assert "modality" in caught.value.message_dict
    draft = PlanFactory(status=Status.DRAFT)
    services.plan_update(plan=draft, user=therapist_user, data=tap_data())
    draft.refresh_from_db()
    assert draft.modality == Modality.TAP_WATER and draft.medication is None and draft.dose_ma_min is None


def test_a_closed_plan_cannot_be_changed(therapist_user):
    plan = PlanFactory(status=Status.COMPLETED)
    with pytest.raises(IllegalTransition):
        services.plan_update(plan=plan, user=therapist_user, data={"body_site": "Knee"})


# ------------------------------------------------------------- status machine


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (Status.ACTIVE, "hold", Status.ON_HOLD),
        (Status.ACTIVE, "complete", Status.COMPLETED),
        (Status.ACTIVE, "cancel", Status.CANCELLED),
        (Status.ON_HOLD, "resume", Status.ACTIVE),
        (Status.ON_HOLD, "complete", Status.COMPLETED),
        (Status.ON_HOLD, "cancel", Status.CANCELLED),
        (Status.DRAFT, "cancel", Status.CANCELLED),
        (Status.DRAFT, "activate", Status.ACTIVE),
    ],
)
def test_legal_transitions(therapist_user, start, action, end):
    plan = PlanFactory(status=start)
    ScreeningFactory(patient=plan.patient)
    getattr(services, f"plan_{action}")(plan=plan, user=therapist_user)
    plan.refresh_from_db()
    assert plan.status == end
    assert plan.status_changed_by == therapist_user and plan.status_changed_at is not None


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (Status.DRAFT, "hold"),
        (Status.DRAFT, "complete"),
        (Status.DRAFT, "resume"),
        (Status.ACTIVE, "activate"),
        (Status.ACTIVE, "resume"),
        (Status.ON_HOLD, "hold"),
        (Status.ON_HOLD, "activate"),
        (Status.COMPLETED, "activate"),
        (Status.COMPLETED, "cancel"),
        (Status.CANCELLED, "resume"),
        (Status.CANCELLED, "activate"),
    ],
)
def test_illegal_transitions_are_refused(therapist_user, start, action):
    plan = PlanFactory(status=start)
    ScreeningFactory(patient=plan.patient)
    with pytest.raises(IllegalTransition) as caught:
        getattr(services, f"plan_{action}")(plan=plan, user=therapist_user)
    assert "cannot be" in caught.value.message_dict["status"][0]
    plan.refresh_from_db()
    assert plan.status == start


def test_hold_records_its_reason(therapist_user):
    plan = PlanFactory()
    services.plan_hold(plan=plan, user=therapist_user, reason="Burn at the cathode site")
    plan.refresh_from_db()
    assert plan.status_reason == "Burn at the cathode site"


# ------------------------------------------------------------------- R6 gate


def test_activation_is_refused_when_the_screening_blocks_the_modality(therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    ScreeningFactory(patient=plan.patient, pregnancy=True)
    with pytest.raises(ValidationError) as caught:
        services.plan_activate(plan=plan, user=therapist_user)
    assert "pregnancy" in " ".join(caught.value.message_dict["override_reason"])
    plan.refresh_from_db()
    assert plan.status == Status.DRAFT and plan.override_at is None


def test_activation_is_refused_without_a_current_screening(therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    with pytest.raises(ValidationError) as caught:
        services.plan_activate(plan=plan, user=therapist_user)
    assert "No safety screening" in caught.value.message_dict["override_reason"][0]
    ScreeningFactory(patient=plan.patient, screened_at=timezone.now() - dt.timedelta(days=31))
    with pytest.raises(ValidationError):
        services.plan_activate(plan=plan, user=therapist_user)
    plan.refresh_from_db()
    assert plan.status == Status.DRAFT


def test_the_gate_refusal_carries_the_r6_codes(therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    with pytest.raises(ValidationError) as caught:
        services.plan_activate(plan=plan, user=therapist_user)
    assert codes_of(caught.value) == [RuleCode.R6_MISSING]
    ScreeningFactory(patient=plan.patient, pregnancy=True)
    with pytest.raises(ValidationError) as caught:
        services.plan_activate(plan=plan, user=therapist_user)
    assert codes_of(caught.value) == [RuleCode.R6_CONTRAINDICATION]


def test_a_contraindication_of_another_modality_does_not_block(therapist_user):
    plan = PlanFactory(status=Status.DRAFT, tap_water=True)
    ScreeningFactory(patient=plan.patient, open_growth_plates=True)  # ultrasound only
    services.plan_activate(plan=plan, user=therapist_user)
    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE and plan.override_at is None


def test_a_therapist_override_records_reason_who_and_when(therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    ScreeningFactory(patient=plan.patient, metal_implant_at_site=True)
    services.plan_activate(plan=plan, user=therapist_user, override_reason="Plate is distal to the site")
    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE
    assert plan.override_reason == "Plate is distal to the site"
    assert plan.override_by == therapist_user and plan.override_at is not None
    assert "metal implant" in plan.status_reason


def test_front_desk_cannot_override(front_desk):
    plan = PlanFactory(status=Status.DRAFT)
    with pytest.raises(PermissionDenied):
        services.plan_activate(plan=plan, user=front_desk, override_reason="Because")
    plan.refresh_from_db()
    assert plan.status == Status.DRAFT


def test_resume_passes_the_gate_again(therapist_user):
    plan = PlanFactory(status=Status.ON_HOLD)
    ScreeningFactory(patient=plan.patient, broken_skin_at_site=True)
    with pytest.raises(ValidationError):
        services.plan_resume(plan=plan, user=therapist_user)
    services.plan_resume(plan=plan, user=therapist_user, override_reason="Skin healed, reviewed today")
    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE


def test_a_drug_plan_needs_its_prescription_to_activate(therapist_user):
    plan = PlanFactory(status=Status.DRAFT, prescription_date=None)
    ScreeningFactory(patient=plan.patient)
    with pytest.raises(ValidationError) as caught:
        services.plan_activate(plan=plan, user=therapist_user)
    assert "prescription_date" in caught.value.message_dict
    tap = PlanFactory(status=Status.DRAFT, tap_water=True, prescriber="", prescription_date=None)
    ScreeningFactory(patient=tap.patient)
    services.plan_activate(plan=tap, user=therapist_user)  # no drug, no prescription needed


def test_activation_rechecks_device_limits_after_a_rules_change(therapist_user):
    plan = PlanFactory(status=Status.DRAFT)
    ScreeningFactory(patient=plan.patient)
    rules = ClinicRules.current()
    rules.ionto_current_max_ma = Decimal("3")
    rules.save()
    with pytest.raises(ValidationError) as caught:
        services.plan_activate(plan=plan, user=therapist_user)
    assert "current_ma" in caught.value.message_dict


# --------------------------------------------------------------- medications


def test_medication_create_and_deactivate():
    medication = services.medication_create(
        name="Hyaluronidase", concentration="150 U/mL", polarity="positive", modalities=["iontophoresis"]
    )
    assert medication.is_active
    services.medication_deactivate(medication=medication)
    medication.refresh_from_db()
    assert medication.is_active is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"polarity": "none", "modalities": ["iontophoresis"]}, "polarity"),
        ({"polarity": "negative", "modalities": []}, "modalities"),
        ({"polarity": "negative", "modalities": ["massage"]}, "modalities"),
        ({"polarity": "none", "modalities": ["tap_water"]}, "modalities"),
        ({"polarity": "none", "modalities": ["phonophoresis"], "is_drug": False}, "is_drug"),
    ],
)
def test_medication_rules(data, field):
    with pytest.raises(ValidationError) as caught:
        services.medication_create(name="Test drug", **data)
    assert field in caught.value.message_dict
    assert not Medication.objects.filter(name="Test drug").exists()


def test_medication_names_are_unique_per_concentration():
    with pytest.raises(ValidationError):
        services.medication_create(
            name="Lidocaine HCl", concentration="4 %", polarity="positive", modalities=["iontophoresis"]
        )
    assert Medication.objects.filter(name="Lidocaine HCl").count() == 1
