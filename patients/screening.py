"""Safety screening (DOMAIN.md "Safety", rule R6): which answers block or flag
which modality, a screening's status, and the gate a plan's activation (and,
later, a session note's signing) must pass.

Modalities are named by their stored values: patients must not import
treatments (apps depend one way); a test checks they match
`treatments.models.Modality`.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from django.utils import timezone

from clinic.models import ClinicRules
from clinic.rule_codes import Problem, RuleCode
from patients.models import Patient, Screening

IONTOPHORESIS = "iontophoresis"
PHONOPHORESIS = "phonophoresis"
TAP_WATER = "tap_water"
MODALITIES = (IONTOPHORESIS, PHONOPHORESIS, TAP_WATER)
MODALITY_LABELS = {
    IONTOPHORESIS: "iontophoresis",
    PHONOPHORESIS: "phonophoresis",
    TAP_WATER: "tap-water iontophoresis",
}
ELECTRICAL = frozenset({IONTOPHORESIS, TAP_WATER})  # direct current through the skin
DRUG = frozenset({IONTOPHORESIS, PHONOPHORESIS})  # a drug is delivered
ALL = frozenset(MODALITIES)
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Answer:
    field: str
    blocks: frozenset[str]  # contraindication: R6 refuses the modality
    flags: frozenset[str]  # precaution: shown to the therapist, not refused
    why: str


# A "yes" to each question, modality by modality. Sources: the usual
# electrotherapy/ultrasound contraindication lists (device manuals for
# iontophoresis generators, tap-water units and therapeutic ultrasound).
# When in doubt we block: a therapist can still override with a reason (R6).
ANSWERS: tuple[Answer, ...] = (
    # Direct current may disturb an implanted device; ultrasound is only
    # contraindicated over the device and the chest, which the never-across-
    # the-chest rule already covers, so it is a precaution there.
    Answer("pacemaker", ELECTRICAL, frozenset({PHONOPHORESIS}), "electronic implant"),
    # Drug effects on the fetus are unknown and ultrasound must never reach a
    # pregnant uterus; tap-water unit manuals also list pregnancy.
    Answer("pregnancy", ALL, NONE, "pregnancy"),
    # Current concentrates on metal (burn risk); ultrasound over metal heats
    # the interface, a precaution (lower intensity, pulsed).
    Answer("metal_implant_at_site", ELECTRICAL, frozenset({PHONOPHORESIS}), "metal implant at the site"),
    # Current density peaks at breaks in the skin (burns) and the drug dose is
    # uncontrolled; tap-water protocols cover small cuts with Vaseline, and
    # gel on irritated skin needs care: precautions.
    Answer(
        "broken_skin_at_site",
        frozenset({IONTOPHORESIS}),
        frozenset({PHONOPHORESIS, TAP_WATER}),
        "broken or irritated skin at the site",
    ),
    # The patient cannot feel a galvanic burn building; with ultrasound the
    # heat warning is missing too, so use pulsed mode: a precaution.
    Answer("impaired_sensation", ELECTRICAL, frozenset({PHONOPHORESIS}), "impaired sensation at the site"),
    # Never over a malignancy, whatever the energy.
    Answer("malignancy_at_site", ALL, NONE, "malignancy in the area"),
    # Ultrasound and current may spread an infection or dislodge a thrombus.
    Answer("infection_or_thrombosis_at_site", ALL, NONE, "active infection, DVT or thrombophlebitis"),
    # Electrical stimulation is a precaution with epilepsy (stay away from
    # head and neck); ultrasound is not concerned.
    Answer("epilepsy", NONE, ELECTRICAL, "epilepsy"),
    # Ultrasound over open growth plates (epiphyses) of a child.
    Answer("open_growth_plates", frozenset({PHONOPHORESIS}), NONE, "open growth plates under the site"),
    # The question is about the plan's drug; tap water delivers none.
    Answer("drug_allergy", DRUG, NONE, "allergy or sensitivity to the drug"),
)
ANSWER_FIELDS: tuple[str, ...] = tuple(answer.field for answer in ANSWERS)

Status = Literal["current", "due", "blocked"]
CURRENT: Status = "current"
DUE: Status = "due"
BLOCKED: Status = "blocked"


def valid_until(screening: Screening, rules: ClinicRules) -> dt.date:
    """The last clinic-local day on which the screening counts as current."""
    return timezone.localdate(screening.screened_at) + dt.timedelta(days=rules.screening_valid_days)


def positive_answers(screening: Screening) -> list[Answer]:
    return [answer for answer in ANSWERS if getattr(screening, answer.field)]


def contraindications(screening: Screening, modality: str | None = None) -> list[Answer]:
    """Positive answers that block `modality` (any modality when None)."""
    return [a for a in positive_answers(screening) if a.blocks and (modality is None or modality in a.blocks)]


def precautions(screening: Screening, modality: str | None = None) -> list[Answer]:
    return [a for a in positive_answers(screening) if a.flags and (modality is None or modality in a.flags)]


def blocked_modalities(screening: Screening | None) -> list[str]:
    """The labels of the modalities a contraindication rules out."""
    if screening is None:
        return []
    blocked = {m for answer in contraindications(screening) for m in answer.blocks}
    return [MODALITY_LABELS[m] for m in MODALITIES if m in blocked]


def screening_status(
    screening: Screening | None, rules: ClinicRules, *, on_date: dt.date | None = None
) -> Status:
    """ "due" when missing or expired (a stale answer is no answer), else
    "blocked" when any answer contraindicates a modality, else "current"."""
    on_date = on_date or timezone.localdate()
    if screening is None or on_date > valid_until(screening, rules):
        return DUE
    if contraindications(screening):
        return BLOCKED
    return CURRENT


def current_screening(patient: Patient, *, on_date: dt.date | None = None) -> Screening | None:
    """The newest screening recorded on or before `on_date` (default: any)."""
    screenings = patient.screenings.all()
    if on_date is not None:
        screenings = screenings.filter(screened_at__date__lte=on_date)
    return screenings.order_by("-screened_at", "-id").first()


def screening_problems(
    *, patient: Patient, modality: str, on_date: dt.date | None = None, rules: ClinicRules | None = None
) -> list[Problem]:
    """R6: why `modality` may not go ahead for `patient` on `on_date` (today
    by default); empty when it may. Filed under "screening": the caller
    decides which field an override goes in."""
    rules = rules or ClinicRules.current()
    on_date = on_date or timezone.localdate()
    screening = current_screening(patient, on_date=on_date)
    if screening is None:
        return [Problem(RuleCode.R6_MISSING, "screening", "No safety screening is recorded.")]
    problems = []
    if on_date > valid_until(screening, rules):
        problems.append(
            Problem(
                RuleCode.R6_EXPIRED,
                "screening",
                f"The screening of {timezone.localdate(screening.screened_at):%Y-%m-%d} is older than "
                f"{rules.screening_valid_days} days: review it.",
            )
        )
    label = MODALITY_LABELS.get(modality, modality)
    problems += [
        Problem(
            RuleCode.R6_CONTRAINDICATION,
            "screening",
            f"The screening is positive for {answer.why}, a contraindication of {label}.",
        )
        for answer in contraindications(screening, modality)
    ]
    return problems


def screening_gate(
    *, patient: Patient, modality: str, on_date: dt.date | None = None, rules: ClinicRules | None = None
) -> list[str]:
    """R6's reasons as text, for pages (see screening_problems)."""
    problems = screening_problems(patient=patient, modality=modality, on_date=on_date, rules=rules)
    return [problem.message for problem in problems]
