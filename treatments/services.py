"""Every write of the treatments app: the medication catalog and treatment
plans with their status machine."""

import re
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.access import require_therapist
from clinic.exceptions import IllegalTransition
from clinic.models import ClinicRules
from clinic.rule_codes import RuleCode
from patients.models import Patient
from patients.screening import screening_problems
from treatments import hooks
from treatments import rules as parameter_rules
from treatments.authorizations import sync_sessions_authorized
from treatments.models import Medication, Modality, Polarity, TreatmentPlan

# ---------------------------------------------------------------- medications

MEDICATION_FIELDS = (
    "name",
    "concentration",
    "polarity",
    "modalities",
    "is_drug",
    "max_volume_ml",
    "is_active",
    "notes",
)


def _medication_check(medication: Medication) -> None:
    errors: dict[str, str] = {}
    modalities = medication.modalities
    if not isinstance(modalities, list) or not modalities:
        errors["modalities"] = "Choose at least one modality."
    elif any(m not in Modality.values for m in modalities):
        errors["modalities"] = f"Modalities are {', '.join(Modality.values)}."
    elif len(set(modalities)) != len(modalities):
        errors["modalities"] = "Each modality once."
    else:
        if not medication.is_drug and modalities != [Modality.TAP_WATER]:
            errors["is_drug"] = "Only the tap-water entry may be “no drug”."
        if medication.is_drug and Modality.TAP_WATER in modalities:
            errors["modalities"] = "Tap-water iontophoresis uses no drug."
        if Modality.IONTOPHORESIS in modalities and medication.polarity == Medication.Charge.NONE:
            errors["polarity"] = "Iontophoresis drives ions: give the drug's charge (R8)."
        if not medication.is_drug and medication.polarity != Medication.Charge.NONE:
            errors["polarity"] = "Tap water carries no drug ion: polarity none."
    try:
        medication.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages[0])
    if errors:
        raise ValidationError(errors)


def medication_validate(*, data: Mapping[str, Any], instance: Medication | None = None) -> None:
    """The catalog rules without saving (the admin's form uses it)."""
    medication = Medication(**{**_medication_values(instance), **data})
    medication.pk = instance.pk if instance else None
    _medication_check(medication)


def _medication_values(instance: Medication | None) -> dict[str, Any]:
    if instance is None:
        return {}
    return {name: getattr(instance, name) for name in MEDICATION_FIELDS}


@transaction.atomic
def medication_create(
    *,
    name: str,
    polarity: str,
    modalities: list[str],
    concentration: str = "",
    is_drug: bool = True,
    notes: str = "",
    max_volume_ml=None,
) -> Medication:
    medication = Medication(
        max_volume_ml=max_volume_ml,
        name=name.strip(),
        concentration=concentration.strip(),
        polarity=polarity,
        modalities=list(modalities),
        is_drug=is_drug,
        notes=notes,
    )
    _medication_check(medication)
    medication.save()
    return medication


@transaction.atomic
def medication_update(*, medication: Medication, data: Mapping[str, Any]) -> Medication:
    """Edit a catalog entry. Plans keep pointing at it, so a plan's drug is
    what the entry now says: fix typos, do not turn one drug into another."""
    unknown = set(data) - set(MEDICATION_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    for name, value in data.items():
        setattr(medication, name, list(value) if name == "modalities" else value)
    _medication_check(medication)
    medication.save()
    return medication


@transaction.atomic
def medication_deactivate(*, medication: Medication) -> Medication:
    """Hide the entry from new plans; plans that use it keep it (a medication
    used by a plan is never deleted: PROTECT)."""
    medication.is_active = False
    medication.save(update_fields=["is_active", "updated_at"])
    return medication


# ---------------------------------------------------------------------- plans

PLAN_FIELDS = (
    "modality",
    "medication",
    "indication",
    "icd10_code",
    "body_site",
    "side",
    "prescriber",
    "prescription_date",
    "start_date",
    "sessions_prescribed",
    "sessions_authorized",
    "frequency_per_week",
    "min_interval_hours",
    "session_minutes",
    *parameter_rules.ALL_PARAMETERS,
)
# Changing these changes the treatment itself: only while the plan is a draft.
DRAFT_ONLY_FIELDS = frozenset({"modality"})
# ICD-10-CM: a letter, two characters, then optionally a dot and up to four.
ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")


def _apply(plan: TreatmentPlan, data: Mapping[str, Any], rules: ClinicRules) -> None:
    for name, value in data.items():
        setattr(plan, name, value)
    modality = plan.modality
    if modality in parameter_rules.PARAMETERS:
        used = parameter_rules.PARAMETERS[modality]
        for name in parameter_rules.ALL_PARAMETERS:
            if name not in used:
                setattr(plan, name, None)  # "null where the modality has none"
        if plan.session_minutes in (None, ""):
            plan.session_minutes = parameter_rules.default_session_minutes(modality)
        if plan.min_interval_hours in (None, ""):
            plan.min_interval_hours = parameter_rules.default_min_interval_hours(modality, rules)
        medication = plan.medication
        if modality == Modality.IONTOPHORESIS and not plan.polarity and medication:
            # R8: the drug's charge decides; a drug without one is refused below.
            plan.polarity = medication.polarity if medication.polarity in Polarity.values else None
    for name in ("indication", "icd10_code", "body_site", "prescriber"):
        setattr(plan, name, (getattr(plan, name) or "").strip())
    plan.icd10_code = plan.icd10_code.upper()


def _validate(
    plan: TreatmentPlan, *, rules: ClinicRules, confirm_out_of_range: bool, new_medication: bool
) -> None:
    errors: dict[str, list[str]] = {}
    try:
        plan.full_clean(exclude=["patient", "created_by", "override_by", "status_changed_by"])
    except ValidationError as exc:
        errors = exc.message_dict
    if plan.icd10_code and not ICD10.match(plan.icd10_code):
        errors.setdefault("icd10_code", []).append("Enter an ICD-10 code such as M77.1 or L74.510.")
    if plan.prescription_date and plan.prescription_date > timezone.localdate():
        errors.setdefault("prescription_date", []).append("The prescription date is in the future.")
    if plan.prescription_date and plan.start_date and plan.start_date < plan.prescription_date:
        errors.setdefault("start_date", []).append("The plan cannot start before its prescription.")
    if new_medication and plan.medication and not plan.medication.is_active:
        errors.setdefault("medication", []).append(f"{plan.medication} is no longer in the catalog.")
    if errors:
        raise ValidationError(errors)
    found: dict[str, list[ValidationError]] = {}
    try:
        parameter_rules.check_parameters(
            modality=plan.modality,
            values={name: getattr(plan, name) for name in parameter_rules.ALL_PARAMETERS},
            medication=plan.medication,
            rules=rules,
            confirm_out_of_range=confirm_out_of_range,
        )
    except ValidationError as exc:
        found = exc.error_dict
    for problem in _limit_problems(plan, rules):
        found.setdefault(problem.field, []).append(problem.error())
    if (
        not confirm_out_of_range
        and plan.sessions_authorized is not None
        and plan.sessions_prescribed
        and plan.sessions_authorized > plan.sessions_prescribed
    ):
        found.setdefault("sessions_authorized", []).append(
            ValidationError(
                f"{plan.sessions_authorized} sessions authorized is more than the "
                f"{plan.sessions_prescribed} prescribed. Confirm to record it anyway.",
                code=RuleCode.R19_AUTHORIZED,
            )
        )
    if found:
        raise ValidationError(found)


def _limit_problems(plan: TreatmentPlan, rules: ClinicRules) -> list:
    """R19 on a plan's targets: the patient's age on the start date (today
    when none), the patch's wear time (dose ÷ current), tap water a week."""
    return parameter_rules.limit_problems(
        modality=plan.modality,
        rules=rules,
        patient=plan.patient if plan.patient_id else None,
        on_date=plan.start_date or timezone.localdate(),
        current_ma=plan.current_ma,
        electrode_type=plan.electrode_type,
        wear_minutes=plan.delivery_minutes,
        wear_field="dose_ma_min",
        frequency_per_week=plan.frequency_per_week,
    )


def _only_plan_fields(data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})


@transaction.atomic
def plan_create(
    *,
    patient: Patient,
    user: AbstractBaseUser,
    data: Mapping[str, Any],
    confirm_out_of_range: bool = False,
    evaluation: int | None = None,
) -> TreatmentPlan:
    """A draft plan. Session minutes and the minimum interval default per
    modality; iontophoresis polarity defaults to the drug's charge. Written
    from an evaluation visit (its id), the visit is linked to the plan."""
    _only_plan_fields(data)
    rules = ClinicRules.current()
    plan = TreatmentPlan(patient=patient, created_by=user, status=TreatmentPlan.Status.DRAFT)
    _apply(plan, data, rules)
    _validate(plan, rules=rules, confirm_out_of_range=confirm_out_of_range, new_medication=True)
    plan.save()
    if evaluation is not None:
        hooks.plan_created(plan=plan, user=user, evaluation=evaluation)
    if plan.sessions_authorized is not None:
        sync_sessions_authorized(plan=plan, value=plan.sessions_authorized)
    return plan


@transaction.atomic
def plan_update(
    *,
    plan: TreatmentPlan,
    user: AbstractBaseUser,
    data: Mapping[str, Any],
    confirm_out_of_range: bool = False,
) -> TreatmentPlan:
    """Change a plan that is not closed; the modality only while a draft."""
    _only_plan_fields(data)
    # Work on the stored row (a bound ModelForm may have changed the caller's
    # instance already); the lock keeps an edit and a status change apart.
    plan = TreatmentPlan.objects.select_for_update(of=("self",)).select_related("medication").get(pk=plan.pk)
    if plan.is_closed:
        raise IllegalTransition({"status": f"A {plan.get_status_display().lower()} plan cannot be changed."})
    if plan.status != TreatmentPlan.Status.DRAFT:
        changed = [n for n in DRAFT_ONLY_FIELDS if n in data and data[n] != getattr(plan, n)]
        if changed:
            raise ValidationError({n: "Only a draft plan can change its modality." for n in changed})
    rules = ClinicRules.current()
    medication_before = plan.medication_id
    _apply(plan, data, rules)
    _validate(
        plan,
        rules=rules,
        confirm_out_of_range=confirm_out_of_range,
        new_medication=plan.medication_id != medication_before,
    )
    plan.save()
    if "sessions_authorized" in data:
        sync_sessions_authorized(plan=plan, value=plan.sessions_authorized)
    return plan


# The status machine: action → (statuses it starts from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "activate": (frozenset({TreatmentPlan.Status.DRAFT}), TreatmentPlan.Status.ACTIVE),
    "hold": (frozenset({TreatmentPlan.Status.ACTIVE}), TreatmentPlan.Status.ON_HOLD),
    "resume": (frozenset({TreatmentPlan.Status.ON_HOLD}), TreatmentPlan.Status.ACTIVE),
    "complete": (
        frozenset({TreatmentPlan.Status.ACTIVE, TreatmentPlan.Status.ON_HOLD}),
        TreatmentPlan.Status.COMPLETED,
    ),
    "cancel": (
        frozenset({TreatmentPlan.Status.DRAFT, TreatmentPlan.Status.ACTIVE, TreatmentPlan.Status.ON_HOLD}),
        TreatmentPlan.Status.CANCELLED,
    ),
}
VERBS = {
    "activate": "activated",
    "hold": "put on hold",
    "resume": "resumed",
    "complete": "completed",
    "cancel": "cancelled",
}


def allowed_actions(plan: TreatmentPlan) -> list[str]:
    return [action for action, (sources, _) in TRANSITIONS.items() if plan.status in sources]


def _lock(plan: TreatmentPlan, action: str) -> TreatmentPlan:
    # Row lock: two staff pressing buttons at once cannot both pass the status
    # check (e.g. one completes while the other resumes).
    locked = (
        TreatmentPlan.objects.select_for_update(of=("self",))
        .select_related("medication", "patient")
        .get(pk=plan.pk)
    )
    sources, _ = TRANSITIONS[action]
    if locked.status not in sources:
        raise IllegalTransition(
            {"status": f"A {locked.get_status_display().lower()} plan cannot be {VERBS[action]}."}
        )
    return locked


def _move(plan: TreatmentPlan, action: str, user: AbstractBaseUser, reason: str = "") -> TreatmentPlan:
    plan.status = TRANSITIONS[action][1]
    plan.status_changed_at = timezone.now()
    plan.status_changed_by = user
    plan.status_reason = reason.strip()[:200]
    plan.save()
    return plan


def _pass_screening_gate(plan: TreatmentPlan, user: AbstractBaseUser, override_reason: str) -> str:
    """R6, or an override recorded with its reason, who and when. Returns
    what was overridden ("" when the gate passed)."""
    problems = screening_problems(patient=plan.patient, modality=plan.modality)
    if not problems:
        return ""
    override_reason = override_reason.strip()
    if not override_reason:
        raise ValidationError(
            {
                "override_reason": [
                    *(problem.error() for problem in problems),
                    "A therapist may override with a reason; otherwise update the screening first.",
                ]
            }
        )
    # R20: an override is a clinical act: the therapist group itself.
    require_therapist(user, "override the screening")
    plan.override_reason = override_reason
    plan.override_by = user
    plan.override_at = timezone.now()
    return "Screening overridden: " + " ".join(problem.message for problem in problems)


def _check_ready(plan: TreatmentPlan) -> None:
    """What an active plan must have beyond a draft: a prescription for the
    drug (DOMAIN.md "Safety") and parameters still within today's limits."""
    rules = ClinicRules.current()
    errors: dict[str, str] = {}
    if plan.medication and plan.medication.is_drug:
        if not plan.prescriber:
            errors["prescriber"] = "Record who prescribed the drug before activating."
        if not plan.prescription_date:
            errors["prescription_date"] = "Record the prescription date before activating."
    if errors:
        raise ValidationError(errors)
    # Typical-range values were confirmed when the plan was saved; device
    # limits and polarity are checked again in case the clinic's rules changed.
    _validate(plan, rules=rules, confirm_out_of_range=True, new_medication=False)


@transaction.atomic
def plan_activate(*, plan: TreatmentPlan, user: AbstractBaseUser, override_reason: str = "") -> TreatmentPlan:
    """draft → active, once the patient's screening allows the modality (R6)
    or a therapist overrides with a reason. Scheduling books active plans only."""
    locked = _lock(plan, "activate")
    _check_ready(locked)
    overridden = _pass_screening_gate(locked, user, override_reason)
    return _move(locked, "activate", user, overridden)


@transaction.atomic
def plan_hold(*, plan: TreatmentPlan, user: AbstractBaseUser, reason: str = "") -> TreatmentPlan:
    """active → on hold (e.g. a burn, until a therapist reviews it)."""
    return _move(_lock(plan, "hold"), "hold", user, reason)


@transaction.atomic
def plan_resume(*, plan: TreatmentPlan, user: AbstractBaseUser, override_reason: str = "") -> TreatmentPlan:
    """on hold → active: the screening gate applies again, as at activation."""
    locked = _lock(plan, "resume")
    overridden = _pass_screening_gate(locked, user, override_reason)
    return _move(locked, "resume", user, overridden)


def _cancel_upcoming(plan: TreatmentPlan, user: AbstractBaseUser, why: str) -> None:
    """A closed plan keeps no future visits: scheduling, a layer above,
    registered what that means (treatments.hooks), in this transaction."""
    hooks.plan_closed(plan=plan, user=user, reason=why)


@transaction.atomic
def plan_complete(*, plan: TreatmentPlan, user: AbstractBaseUser, reason: str = "") -> TreatmentPlan:
    locked = _move(_lock(plan, "complete"), "complete", user, reason)
    _cancel_upcoming(locked, user, "Plan completed")
    return locked


@transaction.atomic
def plan_cancel(*, plan: TreatmentPlan, user: AbstractBaseUser, reason: str = "") -> TreatmentPlan:
    locked = _move(_lock(plan, "cancel"), "cancel", user, reason)
    _cancel_upcoming(locked, user, "Plan cancelled")
    return locked


def can_enter_maintenance(plan: TreatmentPlan) -> bool:
    return (
        plan.modality == Modality.TAP_WATER
        and plan.status == TreatmentPlan.Status.ACTIVE
        and plan.phase == TreatmentPlan.Phase.INITIAL
    )


@transaction.atomic
def plan_enter_maintenance(
    *, plan: TreatmentPlan, user: AbstractBaseUser, interval_days: int
) -> TreatmentPlan:
    """R21: a therapist moves a hyperhidrosis plan from its initial phase to
    maintenance, every `interval_days`; from then R15 recalls apply."""
    require_therapist(user, "move a plan to maintenance")
    # Row lock: a maintenance move and a status change (hold, complete) of the
    # same plan run one after the other.
    locked = TreatmentPlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
    if locked.modality != Modality.TAP_WATER:
        raise ValidationError(
            {
                "phase": ValidationError(
                    "Only hyperhidrosis (tap-water) plans have a maintenance phase.",
                    code=RuleCode.R21_MODALITY,
                )
            }
        )
    if locked.status != TreatmentPlan.Status.ACTIVE:
        raise IllegalTransition(
            {"status": f"A {locked.get_status_display().lower()} plan cannot enter maintenance."}
        )
    rules = ClinicRules.current()
    try:
        days = int(interval_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= rules.maintenance_interval_max_days:
        raise ValidationError(
            {
                "interval_days": ValidationError(
                    f"Give the maintenance interval in days, 1 to {rules.maintenance_interval_max_days} "
                    "(typically 7–28).",
                    code=RuleCode.R21_INTERVAL,
                )
            }
        )
    locked.phase = TreatmentPlan.Phase.MAINTENANCE
    locked.maintenance_interval_days = days
    locked.status_changed_at = timezone.now()
    locked.status_changed_by = user
    locked.status_reason = f"Maintenance every {days} days."
    locked.save()
    return locked
