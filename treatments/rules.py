"""R7 (device limits, typical ranges) and R8 (polarity follows the drug's
charge) on a plain dict of parameter values.

Independent of the plan model on purpose: a plan's targets and a session
note's delivered values go through the same checks. Every figure comes from
`ClinicRules` (editable by a clinic admin); the only constants here are the
discrete settings therapeutic ultrasound heads offer.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from clinic.models import ClinicRules
from clinic.rule_codes import Problem, RuleCode
from treatments.models import Medication, Modality, Polarity

# Ultrasound devices offer these settings only (DOMAIN.md "Phonophoresis").
FREQUENCIES_MHZ = (1, 3)
DUTY_CYCLES_PCT = (10, 20, 50, 100)

# The parameters each modality uses; the others stay empty (null).
PARAMETERS: dict[str, tuple[str, ...]] = {
    Modality.IONTOPHORESIS: ("dose_ma_min", "current_ma", "polarity", "electrode_type"),
    Modality.PHONOPHORESIS: ("frequency_mhz", "intensity_w_cm2", "duty_cycle_pct", "treatment_minutes"),
    Modality.TAP_WATER: (
        "tray",
        "current_ma",
        "treatment_minutes",
        "polarity_alternation",
        "maintenance_interval_days",
    ),
}
# The maintenance interval is set once sweating is under control (R15).
OPTIONAL_PARAMETERS = frozenset({"maintenance_interval_days"})
ALL_PARAMETERS: tuple[str, ...] = tuple(
    dict.fromkeys(name for names in PARAMETERS.values() for name in names)
)

# Booked time per session (set-up included) when the plan names none.
DEFAULT_SESSION_MINUTES = {Modality.IONTOPHORESIS: 30, Modality.PHONOPHORESIS: 20, Modality.TAP_WATER: 40}


def modalities_using(field: str) -> list[str]:
    return [modality for modality, names in PARAMETERS.items() if field in names]


def required_parameters(modality: str) -> tuple[str, ...]:
    return tuple(name for name in PARAMETERS[modality] if name not in OPTIONAL_PARAMETERS)


def default_session_minutes(modality: str) -> int:
    return DEFAULT_SESSION_MINUTES[modality]


def default_min_interval_hours(modality: str, rules: ClinicRules) -> int:
    """R5 defaults: 48 h iontophoresis with drug, 24 h phonophoresis and tap water."""
    return {
        Modality.IONTOPHORESIS: rules.ionto_min_interval_hours,
        Modality.PHONOPHORESIS: rules.phono_min_interval_hours,
        Modality.TAP_WATER: rules.tap_min_interval_hours,
    }[modality]


def fmt(value: Any) -> str:
    """4.00 → "4", 0.50 → "0.5": limits read as people write them."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class _Findings:
    """Collects hard errors and typical-range warnings, field by field."""

    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}
        self.warnings: dict[str, list[ValidationError]] = {}

    def error(self, field: str, message: str, code: RuleCode) -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def warn(self, field: str, message: str) -> None:
        self.warnings.setdefault(field, []).append(
            ValidationError(f"{message} Confirm to use it anyway.", code=RuleCode.R7_TYPICAL)
        )

    def limits(
        self,
        field: str,
        value: Decimal | None,
        *,
        label: str,
        unit: str,
        high: Any,
        low: Any = None,
        typical: tuple[Any, Any] | None = None,
        limit: str = "device limit",
    ) -> None:
        """A hard range (`low`–`high`, or above 0 up to `high` when `low` is
        None) refused outright, then a typical range that needs a confirmation."""
        if value is None:
            return
        if low is None:
            inside, span = 0 < value <= high, f"more than 0 and at most {fmt(high)}"
        else:
            inside, span = low <= value <= high, f"between {fmt(low)} and {fmt(high)}"
        if not inside:
            self.error(field, f"{label} must be {span} {unit} ({limit}).", RuleCode.R7_LIMIT)
        elif typical and not typical[0] <= value <= typical[1]:
            usual = f"{fmt(typical[0])}–{fmt(typical[1])} {unit}"
            self.warn(field, f"{fmt(value)} {unit} is outside the typical range ({usual}).")


def _check_medication(found: _Findings, modality: str, medication: Medication | None) -> None:
    label = Modality(modality).label
    if modality == Modality.TAP_WATER:
        if medication is not None and medication.is_drug:
            found.error(
                "medication",
                f"Tap-water iontophoresis uses no drug: leave the medication empty or choose "
                f"tap water, not {medication}.",
                RuleCode.R7_MEDICATION,
            )
        return
    if medication is None:
        found.error("medication", f"Choose the drug for {label.lower()}.", RuleCode.R7_MEDICATION)
        return
    if modality not in medication.modalities or not medication.is_drug:
        found.error("medication", f"{medication} is not used for {label.lower()}.", RuleCode.R7_MEDICATION)
        return
    if modality == Modality.IONTOPHORESIS and medication.polarity == Medication.Charge.NONE:
        found.error(
            "medication",
            f"{medication} carries no ionic charge: iontophoresis cannot drive it.",
            RuleCode.R8_CHARGE,
        )


def _check_polarity(found: _Findings, polarity: Any, medication: Medication | None) -> None:
    """R8: the drug goes under the electrode of the same sign."""
    if polarity is None or polarity == "":
        return
    if polarity not in Polarity.values:
        found.error("polarity", "Choose negative or positive polarity.", RuleCode.R8_POLARITY)
        return
    if medication is None or medication.polarity not in Polarity.values:
        return
    if polarity != medication.polarity:
        electrode = Polarity(medication.polarity).label.lower()
        found.error(
            "polarity",
            f"{medication} carries a {medication.polarity} charge: use {electrode} polarity, not {polarity}.",
            RuleCode.R8_POLARITY,
        )


def check_parameters(
    *,
    modality: str,
    values: Mapping[str, Any],
    medication: Medication | None,
    rules: ClinicRules,
    confirm_out_of_range: bool = False,
    required: Iterable[str] | None = None,
) -> None:
    """Raise ValidationError({field: message}) for every value outside the
    device limits (R7), a polarity that does not match the drug (R8), a
    medication that does not fit the modality, and — unless
    `confirm_out_of_range` — every value outside the typical range.

    `required` defaults to the modality's parameters; a session note may
    pass the subset it records."""
    if modality not in PARAMETERS:
        raise ValidationError({"modality": "Choose iontophoresis, phonophoresis or tap-water iontophoresis."})
    found = _Findings()
    label = Modality(modality).label
    for name in required_parameters(modality) if required is None else required:
        if values.get(name) in (None, ""):
            found.error(name, f"Required for {label.lower()}.", RuleCode.R7_REQUIRED)

    _check_medication(found, modality, medication)
    current = _number(values.get("current_ma"))
    minutes = _number(values.get("treatment_minutes"))

    if modality == Modality.IONTOPHORESIS:
        found.limits(
            "current_ma",
            current,
            label="Current",
            unit="mA",
            low=rules.ionto_current_min_ma,
            high=rules.ionto_current_max_ma,
        )
        found.limits(
            "dose_ma_min",
            _number(values.get("dose_ma_min")),
            label="Dose",
            unit="mA·min",
            high=rules.ionto_dose_max_ma_min,
            typical=(rules.ionto_dose_typical_min, rules.ionto_dose_typical_max),
            limit="buffered electrode limit",
        )
        _check_polarity(found, values.get("polarity"), medication)

    elif modality == Modality.PHONOPHORESIS:
        frequency = _number(values.get("frequency_mhz"))
        if frequency is not None and frequency not in FREQUENCIES_MHZ:
            found.error(
                "frequency_mhz",
                "Ultrasound frequency must be 1 MHz (deep) or 3 MHz (superficial).",
                RuleCode.R7_LIMIT,
            )
        duty = _number(values.get("duty_cycle_pct"))
        if duty is not None and duty not in DUTY_CYCLES_PCT:
            found.error("duty_cycle_pct", "Duty cycle must be 10, 20, 50 or 100 %.", RuleCode.R7_LIMIT)
        found.limits(
            "intensity_w_cm2",
            _number(values.get("intensity_w_cm2")),
            label="Intensity",
            unit="W/cm²",
            low=rules.us_intensity_min,
            high=rules.us_intensity_max,
            typical=(rules.us_intensity_typical_min, rules.us_intensity_typical_max),
        )
        found.limits(
            "treatment_minutes",
            minutes,
            label="Ultrasound time",
            unit="min",
            low=rules.us_minutes_min,
            high=rules.us_minutes_max,
            typical=(rules.us_minutes_typical_min, rules.us_minutes_typical_max),
        )

    elif modality == Modality.TAP_WATER:
        found.limits(
            "current_ma",
            current,
            label="Tap-water current",
            unit="mA",
            high=rules.tap_current_max_ma,
            typical=(rules.tap_current_typical_min, rules.tap_current_typical_max),
        )
        found.limits(
            "treatment_minutes",
            minutes,
            label="Treatment time",
            unit="min",
            low=rules.tap_minutes_min,
            high=rules.tap_minutes_max,
        )

    errors = found.errors
    if found.warnings and not confirm_out_of_range:
        for field, warnings in found.warnings.items():
            errors.setdefault(field, []).extend(warnings)
    if errors:
        raise ValidationError(errors)


def needs_confirmation(exc: ValidationError) -> bool:
    """True when some error of `exc` asks to confirm an out-of-range value."""
    if not hasattr(exc, "error_dict"):
        return False
    return any(error.code in CONFIRMABLE for errors in exc.error_dict.values() for error in errors)


# The codes a "confirm" answers: a typical-range value (R7) and more
# authorized sessions than prescribed (R19).
CONFIRMABLE = frozenset({RuleCode.R7_TYPICAL, RuleCode.R19_AUTHORIZED})


# -- R19: limits by patient and device ---------------------------------------------
def age_on(date_of_birth, day) -> int | None:
    """Whole years on `day` (a birthday on 29 February counts on 1 March)."""
    if date_of_birth is None or day is None:
        return None
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def limit_problems(
    *,
    modality: str,
    rules: ClinicRules,
    patient=None,
    on_date=None,
    current_ma: Any = None,
    electrode_type: str | None = None,
    wear_minutes: Any = None,
    wear_field: str = "treatment_minutes",
    medication: Medication | None = None,
    volume_ml: Any = None,
    frequency_per_week: Any = None,
) -> list:
    """R19, one definition for the plan, the booking and the note: tap water
    at most 15 mA under 18 (age on the session day), a wearable patch worn at
    most 4 h, tap water at most 5 a week, a drug volume within the catalog's
    maximum. Figures from ClinicRules. Returns Problems (field, code, message)."""
    problems = []
    current = _number(current_ma)
    if modality == Modality.TAP_WATER and current is not None and patient is not None:
        age = age_on(getattr(patient, "date_of_birth", None), on_date)
        if age is not None and age < rules.minor_age_years and current > rules.tap_current_max_minor_ma:
            problems.append(
                Problem(
                    RuleCode.R19_MINOR_CURRENT,
                    "current_ma",
                    f"The patient is {age} on {on_date:%Y-%m-%d}: tap-water current for a patient under "
                    f"{rules.minor_age_years} is at most {fmt(rules.tap_current_max_minor_ma)} mA.",
                )
            )
    wear = _number(wear_minutes)
    if (
        modality == Modality.IONTOPHORESIS
        and electrode_type == "wearable_patch"
        and wear is not None
        and wear > rules.patch_wear_max_minutes
    ):
        problems.append(
            Problem(
                RuleCode.R19_PATCH_WEAR,
                wear_field,
                f"A wearable patch is worn at most {rules.patch_wear_max_minutes} minutes "
                f"({fmt(Decimal(rules.patch_wear_max_minutes) / 60)} h); this is {fmt(wear)} minutes.",
            )
        )
    volume = _number(volume_ml)
    if volume is not None and medication is not None and medication.is_drug:
        most = medication.max_volume_ml if medication.max_volume_ml is not None else rules.drug_volume_max_ml
        if volume > most:
            problems.append(
                Problem(
                    RuleCode.R19_VOLUME,
                    "medication_volume_ml",
                    f"At most {fmt(most)} mL of {medication} a session (catalog maximum).",
                )
            )
    frequency = _number(frequency_per_week)
    if (
        modality == Modality.TAP_WATER
        and frequency is not None
        and frequency > rules.tap_sessions_max_per_week
    ):
        problems.append(
            Problem(
                RuleCode.R19_TAP_WEEK,
                "frequency_per_week",
                f"Tap water is given at most {rules.tap_sessions_max_per_week} times a week.",
            )
        )
    return problems
