"""Session notes (DOMAIN.md R6–R11): every write to a note, its signing and
its addenda. Pages and the API call these; a signed note is never changed."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from appointments.holds import refuse_on_hold
from appointments.models import Appointment
from appointments.services import appointment_complete
from clinic.access import require_therapist
from clinic.exceptions import Locked
from clinic.localtime import local_day_bounds
from clinic.models import ClinicRules
from clinic.rule_codes import Problem, RuleCode
from notes import hooks
from notes.billing import CPT_IONTOPHORESIS, cpt_code_for, units_for_minutes
from notes.models import ADVERSE_SKIN, Addendum, AdverseEvent, SessionNote, SkinCondition
from patients.screening import current_screening, precautions, screening_problems
from treatments.models import Modality, TreatmentPlan
from treatments.rules import check_parameters, limit_problems
from treatments.services import plan_hold

# What a note records for each modality (beyond checks, SOAP and billing).
DELIVERED: dict[str, tuple[str, ...]] = {
    Modality.IONTOPHORESIS: (
        "current_ma",
        "treatment_minutes",
        "polarity",
        "electrode_type",
        "electrode_lot",
        "application_minutes",
        "medication_lot",
        "medication_expiry",
        "medication_volume_ml",
    ),
    Modality.PHONOPHORESIS: (
        "frequency_mhz",
        "intensity_w_cm2",
        "duty_cycle_pct",
        "treatment_minutes",
        "treatment_area_cm2",
        "coupling_medium",
        "medication_lot",
        "medication_expiry",
        "medication_volume_ml",
    ),
    Modality.TAP_WATER: (
        "tray",
        "current_ma",
        "treatment_minutes",
        "polarity_switched",
        "water_additive",
        "barrier_applied",
        "hdss",
    ),
}
# Values the device settings need before a note can be saved (R7).
REQUIRED: dict[str, tuple[str, ...]] = {
    Modality.IONTOPHORESIS: ("current_ma", "treatment_minutes", "polarity"),
    Modality.PHONOPHORESIS: ("frequency_mhz", "intensity_w_cm2", "duty_cycle_pct", "treatment_minutes"),
    Modality.TAP_WATER: ("tray", "current_ma", "treatment_minutes"),
}
COMMON = (
    "skin_before",
    "skin_after",
    "skin_notes",
    "pain_before",
    "pain_after",
    "subjective",
    "objective",
    "assessment",
    "care_plan",
    "home_instructions",
    "timed_minutes",
)
ALL_FIELDS = tuple(dict.fromkeys(f for fields in DELIVERED.values() for f in fields)) + COMMON
ADVERSE_KIND = {
    SkinCondition.BLISTER: AdverseEvent.Kind.BLISTER,
    SkinCondition.BURN: AdverseEvent.Kind.BURN,
    SkinCondition.OTHER: AdverseEvent.Kind.OTHER,
}


def session_date(note_or_appointment):
    appointment = getattr(note_or_appointment, "appointment", note_or_appointment)
    return timezone.localdate(appointment.start)


def session_precautions(appointment) -> list:
    """The screening's precautions (flags, not refusals) for this session's
    modality, shown on the note form at every session."""
    screening = current_screening(appointment.patient, on_date=session_date(appointment))
    if screening is None:
        return []
    return precautions(screening, appointment.plan.modality)


def _uses_drug(plan: TreatmentPlan) -> bool:
    return bool(plan.medication_id and plan.medication.is_drug and plan.modality != Modality.TAP_WATER)


def initial_values(plan: TreatmentPlan) -> dict[str, Any]:
    """A new note starts from the plan's targets."""
    values: dict[str, Any] = {}
    if plan.modality == Modality.IONTOPHORESIS:
        minutes = None
        if plan.dose_ma_min and plan.current_ma:
            minutes = (Decimal(plan.dose_ma_min) / Decimal(plan.current_ma)).quantize(Decimal("0.1"))
        values.update(
            current_ma=plan.current_ma,
            treatment_minutes=minutes,
            polarity=plan.polarity or "",
            electrode_type=plan.electrode_type or "",
        )
    elif plan.modality == Modality.PHONOPHORESIS:
        values.update(
            frequency_mhz=plan.frequency_mhz,
            intensity_w_cm2=plan.intensity_w_cm2,
            duty_cycle_pct=plan.duty_cycle_pct,
            treatment_minutes=plan.treatment_minutes,
        )
    else:
        values.update(
            tray=plan.tray or "", current_ma=plan.current_ma, treatment_minutes=plan.treatment_minutes
        )
    minutes = values.get("treatment_minutes")
    values["timed_minutes"] = int(minutes) if minutes is not None else None
    return values


def drug_record_problems(*, plan: TreatmentPlan, values: Mapping[str, Any], session_date) -> list[Problem]:
    """R9: a drug session records the lot, an expiry not passed on the
    session day, and the volume used."""
    if not _uses_drug(plan):
        return []
    problems = []
    if not values.get("medication_lot"):
        problems.append(Problem(RuleCode.R9_LOT, "medication_lot", "Record the lot of the drug used."))
    expiry = values.get("medication_expiry")
    if not expiry:
        problems.append(Problem(RuleCode.R9_EXPIRY, "medication_expiry", "Record the drug's expiry date."))
    elif expiry < session_date:
        problems.append(
            Problem(
                RuleCode.R9_EXPIRED,
                "medication_expiry",
                f"This lot expired on {expiry:%Y-%m-%d}, before the session ({session_date:%Y-%m-%d}): "
                "do not use it.",
            )
        )
    volume = values.get("medication_volume_ml")
    if volume in (None, "") or Decimal(volume) <= 0:
        problems.append(
            Problem(RuleCode.R9_VOLUME, "medication_volume_ml", "Record how much drug was used (mL).")
        )
    return problems


def is_patch(plan: TreatmentPlan, values: Mapping[str, Any]) -> bool:
    electrode = values.get("electrode_type") or plan.electrode_type
    return plan.modality == Modality.IONTOPHORESIS and electrode == TreatmentPlan.ElectrodeType.WEARABLE_PATCH


def billing_problems(*, plan: TreatmentPlan, values: Mapping[str, Any]) -> list[Problem]:
    """R18: timed minutes never exceed the delivered treatment time; a
    wearable patch bills only the attended application, never the wear time."""
    timed = values.get("timed_minutes")
    if is_patch(plan, values):
        application = values.get("application_minutes")
        if application in (None, ""):
            return [
                Problem(
                    RuleCode.R18_PATCH,
                    "application_minutes",
                    "Record the attended application minutes: a wearable patch bills those, "
                    "not the wear time.",
                )
            ]
        if timed not in (None, "") and int(timed) > int(application):
            return [
                Problem(
                    RuleCode.R18_PATCH,
                    "timed_minutes",
                    "A wearable patch bills the attended application only: "
                    f"at most {application} timed minutes.",
                )
            ]
        return []
    delivered = values.get("treatment_minutes")
    if timed not in (None, "") and delivered not in (None, "") and Decimal(timed) > Decimal(delivered):
        return [
            Problem(
                RuleCode.R18_TIMED,
                "timed_minutes",
                "Timed minutes cannot exceed the treatment time delivered "
                f"({Decimal(delivered).normalize():f} min).",
            )
        ]
    return []


def _check(
    *,
    plan: TreatmentPlan,
    values: Mapping[str, Any],
    session_date,
    confirm_out_of_range: bool,
    adverse: Mapping[str, str] | None,
    patient=None,
) -> None:
    """R7, R8 (shared with plans), R9, R18, R19 and the adverse-event rule, all errors at once."""
    errors: dict[str, list] = {}
    parameters = dict(values)
    if plan.modality == Modality.IONTOPHORESIS:
        parameters["dose_ma_min"] = SessionNote.dose_of(
            values.get("current_ma"), values.get("treatment_minutes")
        )
    try:
        check_parameters(
            modality=plan.modality,
            values=parameters,
            medication=plan.medication,
            rules=ClinicRules.current(),
            confirm_out_of_range=confirm_out_of_range,
            required=REQUIRED[plan.modality],
        )
    except ValidationError as exc:
        for field, field_errors in exc.error_dict.items():
            # A dose problem belongs to the values that make it: current × time.
            errors.setdefault("treatment_minutes" if field == "dose_ma_min" else field, []).extend(
                field_errors
            )
    rules = ClinicRules.current()
    problems = drug_record_problems(plan=plan, values=values, session_date=session_date)
    problems += billing_problems(plan=plan, values=values)
    problems += limit_problems(
        modality=plan.modality,
        rules=rules,
        patient=patient or plan.patient,
        on_date=session_date,
        current_ma=values.get("current_ma"),
        electrode_type=values.get("electrode_type") or plan.electrode_type,
        wear_minutes=values.get("treatment_minutes"),
        medication=plan.medication if _uses_drug(plan) else None,
        volume_ml=values.get("medication_volume_ml"),
    )
    for problem in problems:
        errors.setdefault(problem.field, []).append(problem.error())
    for field in ("pain_before", "pain_after"):
        pain = values.get(field)
        if pain not in (None, "") and not 0 <= int(pain) <= 10:
            errors.setdefault(field, []).append("Pain is scored from 0 to 10.")
    adverse = adverse or {}
    if (
        values.get("skin_after") in ADVERSE_SKIN
        or values.get("skin_before") in ADVERSE_SKIN
        or adverse.get("kind")
    ):
        if not (adverse.get("description") or "").strip():
            errors.setdefault("adverse_description", []).append(
                "A blister, burn or reported reaction is an adverse event: describe it."
            )
        if not (adverse.get("action_taken") or "").strip():
            errors.setdefault("adverse_action_taken", []).append("Record the action taken.")
    if errors:
        raise ValidationError(errors)


def _lock_note(appointment) -> SessionNote | None:
    # Row lock: two saves or two sign requests of one note run one after the
    # other. First in the lock order (appointments/locks.py): note → visit → plan.
    return SessionNote.objects.select_for_update().filter(appointment=appointment).first()


def _ensure_open(note: SessionNote | None) -> None:
    if note is not None and note.is_signed:
        raise Locked(
            "This note is signed and locked. Add an addendum to correct or complete it.",
        )


def daily_unit_cap(patient) -> int:
    """R18: the payer's daily 97033 cap, or the clinic's for a patient without one."""
    payer = getattr(patient, "payer", None)
    if payer is not None:
        return payer.daily_97033_unit_cap
    return ClinicRules.current().daily_97033_unit_cap


def billable_units(*, note: SessionNote, appointment) -> int:
    """The 8-minute rule (R11), then the 97033 cap per patient per day across
    visits (R18): what the patient's other notes that day bill counts first."""
    units = units_for_minutes(note.timed_minutes)
    if note.cpt_code != CPT_IONTOPHORESIS or not units:
        return units
    day_start, day_end = local_day_bounds(session_date(appointment))
    others = (
        SessionNote.objects.filter(
            appointment__patient_id=appointment.patient_id,
            appointment__start__gte=day_start,
            appointment__start__lt=day_end,
            cpt_code=CPT_IONTOPHORESIS,
        )
        .exclude(appointment__status__in=(Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW))
        .exclude(pk=note.pk)
        .aggregate(total=Sum("billing_units"))["total"]
        or 0
    )
    return max(0, min(units, daily_unit_cap(appointment.patient) - others))


@hooks.reports_refusals
@transaction.atomic
def note_save(
    *,
    appointment,
    values: Mapping[str, Any],
    user,
    confirm_out_of_range: bool = False,
    adverse: Mapping[str, str] | None = None,
) -> SessionNote:
    """Create or update the draft note of an appointment."""
    appointment = Appointment.objects.select_related("plan__medication", "patient__payer").get(
        pk=appointment.pk
    )
    if appointment.status in (Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW):
        raise ValidationError(
            {"status": f"A {appointment.get_status_display().lower()} visit has no session note."}
        )
    note = _lock_note(appointment)
    _ensure_open(note)
    # Stock (supplies): a chosen lot fills the lot number and expiry checked below.
    values = hooks.prepare(appointment=appointment, note=note, values=values)
    plan = appointment.plan
    refuse_on_hold(appointment=appointment, plan=plan)
    allowed = set(DELIVERED[plan.modality]) | set(COMMON)
    clean = {name: values.get(name) for name in allowed if name in values}
    _check(
        plan=plan,
        values=clean,
        session_date=session_date(appointment),
        confirm_out_of_range=confirm_out_of_range,
        adverse=adverse,
        patient=appointment.patient,
    )
    note = note or SessionNote(appointment=appointment, created_by=user)
    for name in ALL_FIELDS:
        field = SessionNote._meta.get_field(name)
        if name in clean:
            value = clean[name]
            setattr(note, name, "" if value is None and not field.null else value)
    if plan.modality == Modality.IONTOPHORESIS:
        note.dose_ma_min = SessionNote.dose_of(note.current_ma, note.treatment_minutes)
    else:
        note.dose_ma_min = None
    if note.timed_minutes is None:
        if is_patch(plan, {"electrode_type": note.electrode_type}):
            note.timed_minutes = note.application_minutes
        elif note.treatment_minutes is not None:
            note.timed_minutes = int(note.treatment_minutes)
    note.cpt_code = cpt_code_for(plan.modality)
    note.billing_units = billable_units(note=note, appointment=appointment)
    note.confirmed_out_of_range = confirm_out_of_range
    note.full_clean(exclude=["appointment", "created_by", "signed_by"])
    note.save()
    adverse = adverse or {}
    if (adverse.get("description") or "").strip():
        kind = adverse.get("kind") or ADVERSE_KIND.get(note.skin_after) or AdverseEvent.Kind.REACTION
        AdverseEvent.objects.update_or_create(
            note=note,
            kind=kind,
            defaults={
                "plan": plan,
                "patient_id": appointment.patient_id,
                "description": adverse["description"].strip(),
                "action_taken": (adverse.get("action_taken") or "").strip(),
                "reported_by": user,
            },
        )
    if (
        note.adverse_events.filter(kind=AdverseEvent.Kind.BURN).exists()
        and plan.status == TreatmentPlan.Status.ACTIVE
    ):
        # R16: on hold as soon as the burn is recorded, not only at signing.
        # Lock order note → plan (appointments/locks.py); the visit is not locked here.
        plan_hold(plan=plan, user=user, reason=BURN_REASON)
    hooks.saved(note=note, values=values, user=user)
    return note


BURN_REASON = "Burn reported in a session: a therapist must review the plan."


@transaction.atomic
def note_sign(*, appointment, user, password: str, override_reason: str = "") -> SessionNote:
    """Sign after re-authentication: the note locks (R10), the appointment
    completes and the plan's counters move. A burn puts the plan on hold."""
    require_therapist(user, "sign a session note")
    if not password or not user.check_password(password):
        # A message, not a password.
        raise ValidationError({"password": "Enter your own password to sign."})  # nosec B105
    note = _lock_note(appointment)
    if note is None:
        raise ValidationError({"note": "Write the note before signing it."})
    _ensure_open(note)
    visit = note.appointment
    plan = visit.plan
    refuse_on_hold(appointment=visit, plan=plan)
    now = timezone.now()
    if now < visit.start:
        raise ValidationError(
            {
                "note": ValidationError(
                    "A note is signed once the visit has started (R17): sign it after the session.",
                    code=RuleCode.R17_NOT_STARTED,
                )
            }
        )
    values = {name: getattr(note, name) for name in ALL_FIELDS}
    missing = signing_problems(plan=plan, values=values)
    if missing:
        raise ValidationError({p.field: p.error() for p in missing})
    adverse = note.adverse_events.first()
    _check(
        plan=plan,
        values=values,
        session_date=session_date(note),
        confirm_out_of_range=note.confirmed_out_of_range,
        adverse={"description": adverse.description, "action_taken": adverse.action_taken}
        if adverse
        else None,
        patient=visit.patient,
    )
    problems = screening_problems(
        patient=note.appointment.patient, modality=plan.modality, on_date=session_date(note)
    )
    override_reason = (override_reason or "").strip()
    if problems and not override_reason:
        raise ValidationError(
            {
                "override_reason": [
                    *(problem.error() for problem in problems),
                    "Record an override reason to sign anyway.",
                ]
            }
        )
    note.status = SessionNote.Status.SIGNED
    note.signed_by = user
    note.signed_at = now
    note.screening_override_reason = override_reason if problems else ""
    # The cap may have moved since the draft: another visit that day was billed.
    note.billing_units = billable_units(note=note, appointment=visit)
    note.save()
    if visit.status != Appointment.Status.COMPLETED:
        # R17: a visit already completed without a note stays completed.
        appointment_complete(appointment=visit, user=user)
    plan.refresh_from_db(fields=["status"])
    if (
        note.adverse_events.filter(kind=AdverseEvent.Kind.BURN).exists()
        and plan.status == TreatmentPlan.Status.ACTIVE
    ):
        plan_hold(plan=plan, user=user, reason=BURN_REASON)
    return note


# R17: what a note must record before it can be signed.
SIGN_REQUIRED = {
    "skin_before": "Record the skin check before the session.",
    "skin_after": "Record the skin check after the session.",
    "pain_before": "Record the pain score before the session (0–10).",
    "pain_after": "Record the pain score after the session (0–10).",
}


def signing_problems(*, plan: TreatmentPlan, values: Mapping[str, Any]) -> list[Problem]:
    problems = [
        Problem(RuleCode.R17_CHECKS, field, message)
        for field, message in SIGN_REQUIRED.items()
        if values.get(field) in (None, "")
    ]
    if plan.modality == Modality.TAP_WATER and values.get("hdss") in (None, ""):
        problems.append(
            Problem(RuleCode.R21_HDSS, "hdss", "Record the HDSS (1–4) for this hyperhidrosis session.")
        )
    return problems


@transaction.atomic
def addendum_add(*, appointment, user, text: str) -> Addendum:
    """Corrections to a signed note are dated, signed addenda (R10)."""
    require_therapist(user, "add an addendum")
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum."})
    note = SessionNote.objects.filter(appointment=appointment).first()
    if note is None or not note.is_signed:
        raise ValidationError({"text": "Addenda are for signed notes; edit the draft instead."})
    return Addendum.objects.create(note=note, text=text, author=user)
