"""R7 and R8 on plain dicts of values (treatments.rules.check_parameters)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clinic.models import ClinicRules
from clinic.rule_codes import RuleCode
from treatments.models import Medication, Modality
from treatments.rules import check_parameters, needs_confirmation

pytestmark = pytest.mark.django_db

IONTO = {
    "dose_ma_min": Decimal("40"),
    "current_ma": Decimal("4"),
    "polarity": "negative",
    "electrode_type": "buffered",
}
PHONO = {"frequency_mhz": 1, "intensity_w_cm2": Decimal("1.0"), "duty_cycle_pct": 100, "treatment_minutes": 8}
TAP = {
    "tray": "hands",
    "current_ma": Decimal("15"),
    "treatment_minutes": 20,
    "polarity_alternation": "midway",
}


def drug(name: str) -> Medication:
    return Medication.objects.get(name=name)


def check(modality, values, medication, confirm=False, rules=None):
    check_parameters(
        modality=modality,
        values=values,
        medication=medication,
        rules=rules or ClinicRules.current(),
        confirm_out_of_range=confirm,
    )


def errors_of(modality, values, medication, confirm=False, rules=None) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        check(modality, values, medication, confirm, rules)
    return caught.value.message_dict


def test_typical_plans_of_each_modality_pass():
    check(Modality.IONTOPHORESIS, IONTO, drug("Dexamethasone sodium phosphate"))
    check(Modality.PHONOPHORESIS, PHONO, drug("Dexamethasone gel"))
    check(Modality.TAP_WATER, TAP, None)
    check(Modality.TAP_WATER, TAP, drug("Tap water"))


@pytest.mark.parametrize(
    ("modality", "change", "medication", "field", "words"),
    [
        (
            Modality.IONTOPHORESIS,
            {"current_ma": Decimal("5")},
            "Dexamethasone sodium phosphate",
            "current_ma",
            "0.1 and 4 mA",
        ),
        (
            Modality.IONTOPHORESIS,
            {"dose_ma_min": Decimal("90")},
            "Dexamethasone sodium phosphate",
            "dose_ma_min",
            "at most 80",
        ),
        (
            Modality.IONTOPHORESIS,
            {"polarity": "positive"},
            "Dexamethasone sodium phosphate",
            "polarity",
            "negative charge",
        ),
        (Modality.IONTOPHORESIS, {"polarity": "negative"}, "Lidocaine HCl", "polarity", "positive charge"),
        (Modality.IONTOPHORESIS, {}, "Dexamethasone gel", "medication", "not used for iontophoresis"),
        (Modality.IONTOPHORESIS, {}, "Tap water", "medication", "not used for iontophoresis"),
        (Modality.PHONOPHORESIS, {"frequency_mhz": 2}, "Dexamethasone gel", "frequency_mhz", "1 MHz"),
        (
            Modality.PHONOPHORESIS,
            {"intensity_w_cm2": Decimal("3.5")},
            "Dexamethasone gel",
            "intensity_w_cm2",
            "0.1 and 2.5",
        ),
        (
            Modality.PHONOPHORESIS,
            {"duty_cycle_pct": 30},
            "Dexamethasone gel",
            "duty_cycle_pct",
            "10, 20, 50 or 100",
        ),
        (
            Modality.PHONOPHORESIS,
            {"treatment_minutes": 20},
            "Dexamethasone gel",
            "treatment_minutes",
            "1 and 15",
        ),
        (Modality.PHONOPHORESIS, {}, "Lidocaine HCl", "medication", "not used for phonophoresis"),
        (Modality.TAP_WATER, {"current_ma": Decimal("26")}, None, "current_ma", "at most 25 mA"),
        (Modality.TAP_WATER, {"treatment_minutes": 5}, None, "treatment_minutes", "10 and 40"),
        (Modality.TAP_WATER, {}, "Dexamethasone sodium phosphate", "medication", "uses no drug"),
    ],
)
def test_bad_value_is_refused_with_a_field_error(modality, change, medication, field, words):
    values = {Modality.IONTOPHORESIS: IONTO, Modality.PHONOPHORESIS: PHONO, Modality.TAP_WATER: TAP}[modality]
    errors = errors_of(modality, values | change, drug(medication) if medication else None, confirm=True)
    assert words in " ".join(errors[field])


def test_a_drug_modality_needs_a_drug():
    assert "Choose the drug" in errors_of(Modality.PHONOPHORESIS, PHONO, None)["medication"][0]


def test_missing_parameters_are_named_per_modality():
    errors = errors_of(Modality.TAP_WATER, {}, None)
    assert set(errors) == {"tray", "current_ma", "treatment_minutes", "polarity_alternation"}
    assert errors["tray"] == ["Required for tap-water iontophoresis."]


@pytest.mark.parametrize(
    ("modality", "change", "medication", "field"),
    [
        (
            Modality.IONTOPHORESIS,
            {"dose_ma_min": Decimal("30")},
            "Dexamethasone sodium phosphate",
            "dose_ma_min",
        ),
        (Modality.PHONOPHORESIS, {"intensity_w_cm2": Decimal("2.2")}, "Dexamethasone gel", "intensity_w_cm2"),
        (Modality.PHONOPHORESIS, {"treatment_minutes": 12}, "Dexamethasone gel", "treatment_minutes"),
        (Modality.TAP_WATER, {"current_ma": Decimal("20")}, None, "current_ma"),
    ],
)
def test_outside_the_typical_range_needs_a_confirmation(modality, change, medication, field):
    values = {Modality.IONTOPHORESIS: IONTO, Modality.PHONOPHORESIS: PHONO, Modality.TAP_WATER: TAP}[
        modality
    ] | change
    medication = drug(medication) if medication else None
    with pytest.raises(ValidationError) as caught:
        check(modality, values, medication)
    assert "outside the typical range" in caught.value.message_dict[field][0]
    assert "Confirm" in caught.value.message_dict[field][0]
    assert needs_confirmation(caught.value)
    check(modality, values, medication, confirm=True)  # confirmed: accepted


def test_hard_limit_errors_are_not_confirmable():
    with pytest.raises(ValidationError) as caught:
        check(
            Modality.IONTOPHORESIS,
            IONTO | {"current_ma": Decimal("5")},
            drug("Dexamethasone sodium phosphate"),
        )
    assert not needs_confirmation(caught.value)


def test_limits_come_from_the_clinic_rules():
    rules = ClinicRules.current()
    rules.ionto_current_max_ma = Decimal("3")
    rules.save()
    errors = errors_of(
        Modality.IONTOPHORESIS, IONTO | {"current_ma": Decimal("3.5")}, drug("Dexamethasone sodium phosphate")
    )
    assert "between 0.1 and 3 mA" in errors["current_ma"][0]


def codes_by_field(modality, values, medication, confirm=False) -> dict[str, set[str]]:
    with pytest.raises(ValidationError) as caught:
        check(modality, values, medication, confirm)
    return {field: {error.code for error in errors} for field, errors in caught.value.error_dict.items()}


@pytest.mark.parametrize(
    ("modality", "change", "medication", "confirm", "field", "code"),
    [
        (Modality.TAP_WATER, {"tray": ""}, None, False, "tray", RuleCode.R7_REQUIRED),
        (
            Modality.IONTOPHORESIS,
            {"current_ma": Decimal("5")},
            "Dexamethasone sodium phosphate",
            True,
            "current_ma",
            RuleCode.R7_LIMIT,
        ),
        (
            Modality.PHONOPHORESIS,
            {"frequency_mhz": 2},
            "Dexamethasone gel",
            True,
            "frequency_mhz",
            RuleCode.R7_LIMIT,
        ),
        (
            Modality.PHONOPHORESIS,
            {"duty_cycle_pct": 30},
            "Dexamethasone gel",
            True,
            "duty_cycle_pct",
            RuleCode.R7_LIMIT,
        ),
        (
            Modality.IONTOPHORESIS,
            {"dose_ma_min": Decimal("30")},
            "Dexamethasone sodium phosphate",
            False,
            "dose_ma_min",
            RuleCode.R7_TYPICAL,
        ),
        (Modality.IONTOPHORESIS, {}, "Dexamethasone gel", True, "medication", RuleCode.R7_MEDICATION),
        (Modality.PHONOPHORESIS, {}, None, True, "medication", RuleCode.R7_MEDICATION),
        (
            Modality.TAP_WATER,
            {},
            "Dexamethasone sodium phosphate",
            True,
            "medication",
            RuleCode.R7_MEDICATION,
        ),
        (
            Modality.IONTOPHORESIS,
            {"polarity": "positive"},
            "Dexamethasone sodium phosphate",
            True,
            "polarity",
            RuleCode.R8_POLARITY,
        ),
        (
            Modality.IONTOPHORESIS,
            {"polarity": "both"},
            "Lidocaine HCl",
            True,
            "polarity",
            RuleCode.R8_POLARITY,
        ),
    ],
)
def test_each_refusal_carries_its_rule_code(modality, change, medication, confirm, field, code):
    values = {Modality.IONTOPHORESIS: IONTO, Modality.PHONOPHORESIS: PHONO, Modality.TAP_WATER: TAP}[modality]
    codes = codes_by_field(modality, values | change, drug(medication) if medication else None, confirm)
    assert codes[field] == {code}


def test_a_drug_without_charge_cannot_be_driven_by_iontophoresis_r8():
    uncharged = Medication.objects.create(
        name="Uncharged test drug",
        polarity=Medication.Charge.NONE,
        modalities=[Modality.IONTOPHORESIS],
    )
    assert codes_by_field(Modality.IONTOPHORESIS, IONTO, uncharged, confirm=True) == {
        "medication": {RuleCode.R8_CHARGE}
    }
