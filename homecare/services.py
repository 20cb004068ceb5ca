"""Every write of the home program: intake answers and their review, the
program itself, its link, the patient's home sessions, and the recalls when
they go quiet or the HDSS climbs (R15 extended). Pages and link views call
these; nothing else writes the models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appointments.models import Appointment, Reminder
from appointments.reminders.planning import RECALL_HOUR, nudge_on_commit
from clinic.access import require_therapist
from clinic.localtime import local_date, local_datetime
from clinic.models import ClinicRules
from clinic.rule_codes import RuleCode
from homecare import selectors
from homecare.models import HomeProgram, HomeSession, IntakeResponse
from patients.screening import ANSWER_FIELDS
from patients.services import screening_record
from treatments import services as plans
from treatments.models import Modality, TreatmentPlan
from treatments.rules import fmt, limit_problems

Kind = Reminder.Kind
RECALL_KINDS = (Kind.HOME_SILENCE_RECALL, Kind.HOME_HDSS_RECALL)
# How far back a patient may log a session they forgot to log.
LOG_BACK_DAYS = 30


# -- intake ----------------------------------------------------------------------
@transaction.atomic
def intake_submit(
    *,
    appointment: Appointment,
    answers: Mapping[str, bool],
    drug_allergy_details: str = "",
    hdss: int | None = None,
    comments: str = "",
    now: dt.datetime | None = None,
) -> IntakeResponse:
    """The patient's answers before the visit: a proposed screening. A second
    submission before a therapist reviewed it replaces the first."""
    now = now or timezone.now()
    unknown = set(answers) - set(ANSWER_FIELDS)
    if unknown:
        raise ValidationError({name: "Not a screening question." for name in sorted(unknown)})
    details = (drug_allergy_details or "").strip()
    if answers.get("drug_allergy") and not details:
        raise ValidationError({"drug_allergy_details": "Tell us which medicine or ingredient you react to."})
    if hdss is not None and not 1 <= int(hdss) <= 4:
        raise ValidationError({"hdss": "Choose one of the four answers."})
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if locked.status not in Appointment.UPCOMING_STATUSES or now >= locked.start:
        raise ValidationError("This visit is no longer ahead: bring your answers to the clinic.")
    intake = IntakeResponse.objects.filter(appointment=locked, status=IntakeResponse.Status.PROPOSED).first()
    intake = intake or IntakeResponse(appointment=locked, patient_id=locked.patient_id)
    intake.answers = {name: bool(answers.get(name, False)) for name in ANSWER_FIELDS}
    intake.drug_allergy_details = details
    intake.hdss = hdss
    intake.comments = (comments or "").strip()[:2000]
    intake.submitted_at = now
    intake.save()
    return intake


def _lock_intake(intake: IntakeResponse) -> IntakeResponse:
    locked = IntakeResponse.objects.select_for_update().select_related("patient").get(pk=intake.pk)
    if locked.status != IntakeResponse.Status.PROPOSED:
        raise ValidationError(f"This intake was already reviewed ({locked.get_status_display().lower()}).")
    return locked


@transaction.atomic
def intake_accept(
    *, intake: IntakeResponse, user: AbstractBaseUser, answers: Mapping[str, Any], notes: str = ""
) -> IntakeResponse:
    """A therapist reviews the proposal: the screening is recorded as the
    therapist's (R6, R20), with whatever the therapist corrected."""
    require_therapist(user, "review a screening")
    locked = _lock_intake(intake)
    values = {name: bool(answers.get(name, False)) for name in ANSWER_FIELDS}
    details = (answers.get("drug_allergy_details") or "").strip()
    corrected = values != {n: bool(locked.answers.get(n, False)) for n in ANSWER_FIELDS} or (
        details != locked.drug_allergy_details
    )
    screening = screening_record(
        patient=locked.patient,
        screened_by=user,
        answers={**values, "drug_allergy_details": details, "notes": (notes or "").strip()},
    )
    locked.status = IntakeResponse.Status.CORRECTED if corrected else IntakeResponse.Status.ACCEPTED
    locked.screening = screening
    locked.reviewed_by = user
    locked.reviewed_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def intake_dismiss(*, intake: IntakeResponse, user: AbstractBaseUser) -> IntakeResponse:
    require_therapist(user, "review a screening")
    locked = _lock_intake(intake)
    locked.status = IntakeResponse.Status.DISMISSED
    locked.reviewed_by = user
    locked.reviewed_at = timezone.now()
    locked.save()
    return locked


# -- the program -----------------------------------------------------------------
PROGRAM_FIELDS = ("device", "site", "current_ma", "minutes", "sessions_per_week", "polarity_alternation")


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _check_program(plan: TreatmentPlan, values: Mapping[str, Any], *, on_date: dt.date) -> dict:
    """The program's settings within the clinic's tap-water limits (R19), the
    same figures as a clinic session."""
    rules = ClinicRules.current()
    errors: dict[str, list] = {}
    clean = {name: values.get(name) for name in PROGRAM_FIELDS}
    clean["device"] = (clean["device"] or "").strip()
    if not clean["device"]:
        errors.setdefault("device", []).append("Name the patient's home unit.")
    if clean["site"] not in HomeProgram.Site.values:
        errors.setdefault("site", []).append("Choose hands, feet or both.")
    if clean["polarity_alternation"] not in TreatmentPlan.PolarityAlternation.values:
        errors.setdefault("polarity_alternation", []).append("Choose how polarity alternates.")
    current = _decimal(clean["current_ma"])
    if current is None or not Decimal("1") <= current <= rules.tap_current_max_ma:
        errors.setdefault("current_ma", []).append(f"Between 1 and {fmt(rules.tap_current_max_ma)} mA.")
    clean["current_ma"] = current
    minutes = clean["minutes"]
    if not isinstance(minutes, int) or not rules.tap_minutes_min <= minutes <= rules.tap_minutes_max:
        errors.setdefault("minutes", []).append(
            f"Between {rules.tap_minutes_min} and {rules.tap_minutes_max} minutes."
        )
    per_week = clean["sessions_per_week"]
    if not isinstance(per_week, int) or per_week < 1:
        errors.setdefault("sessions_per_week", []).append("At least one session a week.")
        per_week = None
    for problem in limit_problems(
        modality=Modality.TAP_WATER,
        rules=rules,
        patient=plan.patient,
        on_date=on_date,
        current_ma=current,
        frequency_per_week=per_week,
    ):
        field = "sessions_per_week" if problem.field == "frequency_per_week" else problem.field
        errors.setdefault(field, []).append(problem.error())
    if errors:
        raise ValidationError(errors)
    return clean


def _link_email(program: HomeProgram, *, now: dt.datetime) -> None:
    # A link email still waiting carries the old link: it goes void.
    Reminder.objects.filter(plan=program.plan, kind=Kind.HOME_LINK, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.VOID, skip_reason="A newer link was sent."
    )
    row = Reminder.objects.create(
        kind=Kind.HOME_LINK,
        plan=program.plan,
        patient_id=program.plan.patient_id,
        slot_start=now,
        due_at=now,
    )
    nudge_on_commit([row.pk])


@transaction.atomic
def program_start(*, plan: TreatmentPlan, user: AbstractBaseUser, values: Mapping[str, Any]) -> HomeProgram:
    """A therapist moves an active tap-water plan to home treatment; the
    patient is emailed their logging link."""
    require_therapist(user, "start a home program")
    locked = TreatmentPlan.objects.select_for_update(of=("self",)).select_related("patient").get(pk=plan.pk)
    if locked.modality != Modality.TAP_WATER:
        raise ValidationError(
            ValidationError("Only a tap-water plan can be treated at home.", code=RuleCode.R21_MODALITY)
        )
    if locked.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(
            f"The plan is {locked.get_status_display().lower()}: only an active plan goes home."
        )
    now = timezone.now()
    clean = _check_program(locked, values, on_date=local_date(now))
    program = HomeProgram.objects.filter(plan=locked).first()
    if program is not None and program.status != HomeProgram.Status.ENDED:
        raise ValidationError("This plan already has a home program.")
    if program is None:
        program = HomeProgram(plan=locked)
    else:  # a program that ended starts again with a new link
        program.link_version += 1
    for name, value in clean.items():
        setattr(program, name, value)
    program.status = HomeProgram.Status.ACTIVE
    program.status_reason = ""
    program.started_at = now
    program.started_by = user
    program.link_revoked_at = None
    program.save()
    _link_email(program, now=now)
    return program


def _lock(program: HomeProgram) -> HomeProgram:
    return (
        HomeProgram.objects.select_for_update(of=("self",)).select_related("plan__patient").get(pk=program.pk)
    )


@transaction.atomic
def program_update(*, program: HomeProgram, user: AbstractBaseUser, values: Mapping[str, Any]) -> HomeProgram:
    require_therapist(user, "change a home program")
    locked = _lock(program)
    if locked.status == HomeProgram.Status.ENDED:
        raise ValidationError("The home program has ended.")
    for name, value in _check_program(locked.plan, values, on_date=local_date(timezone.now())).items():
        setattr(locked, name, value)
    locked.save()
    return locked


@transaction.atomic
def program_rotate_link(*, program: HomeProgram, user: AbstractBaseUser) -> HomeProgram:
    """A new link (e.g. the old one was forwarded): the old one answers 403 at
    once; the patient is emailed the new one."""
    require_therapist(user, "replace a home program link")
    locked = _lock(program)
    if locked.status == HomeProgram.Status.ENDED:
        raise ValidationError("The home program has ended.")
    locked.link_version += 1
    locked.link_revoked_at = None
    locked.save()
    _link_email(locked, now=timezone.now())
    return locked


@transaction.atomic
def program_revoke_link(*, program: HomeProgram, user: AbstractBaseUser) -> HomeProgram:
    require_therapist(user, "revoke a home program link")
    locked = _lock(program)
    locked.link_revoked_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def program_end(*, program: HomeProgram, user: AbstractBaseUser, reason: str = "") -> HomeProgram:
    require_therapist(user, "end a home program")
    locked = _lock(program)
    locked.status = HomeProgram.Status.ENDED
    locked.status_reason = (reason or "Ended by the therapist.").strip()[:200]
    locked.save()
    return locked


@transaction.atomic
def program_review(*, program: HomeProgram, user: AbstractBaseUser, override_reason: str = "") -> HomeProgram:
    """A therapist reviewed the skin reaction that paused the program: home
    sessions may go on, and the plan leaves its hold (R16; the screening gate
    applies again, as on any resume)."""
    require_therapist(user, "review a home program")
    locked = _lock(program)
    if locked.status != HomeProgram.Status.PAUSED:
        raise ValidationError("The home program is not waiting for a review.")
    now = timezone.now()
    locked.sessions.filter(skin_reaction__in=HomeSession.NEEDS_REVIEW, reviewed_at__isnull=True).update(
        reviewed_by=user, reviewed_at=now
    )
    if locked.plan.status == TreatmentPlan.Status.ON_HOLD:
        plans.plan_resume(plan=locked.plan, user=user, override_reason=override_reason)
    locked.status = HomeProgram.Status.ACTIVE
    locked.status_reason = ""
    locked.save()
    return locked


# -- what the patient logs -----------------------------------------------------------
def paused_message() -> str:
    return (
        "Your home program is paused until the clinic has looked at your last session. "
        f"Please do not treat at home until then; call us at {settings.CLINIC_PHONE}."
    )


@transaction.atomic
def home_session_log(
    *, program: HomeProgram, values: Mapping[str, Any], now: dt.datetime | None = None
) -> HomeSession:
    """One home session, as the patient logs it from the link. A skin reaction
    beyond redness pauses the program and holds the plan until a therapist
    reviews it (R16)."""
    now = now or timezone.now()
    locked = _lock(program)
    if locked.status != HomeProgram.Status.ACTIVE:
        raise ValidationError(ValidationError(paused_message(), code=RuleCode.R16_HOME_PAUSED))
    if locked.plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(ValidationError(paused_message(), code=RuleCode.R16_HOME_PAUSED))
    rules = ClinicRules.current()
    today = local_date(now)
    errors: dict[str, list] = {}
    day = values.get("date")
    if not isinstance(day, dt.date):
        errors["date"] = ["Enter the day of the session."]
    elif day > today:
        errors["date"] = ["That day is still ahead: log a session once you have done it."]
    elif day < (earliest := max(local_date(locked.started_at), today - dt.timedelta(days=LOG_BACK_DAYS))):
        errors["date"] = [
            f"Sessions can be logged from {earliest:%d %b %Y} on; tell us of older ones at your next visit."
        ]
    elif locked.sessions.filter(date=day).exists():
        errors["date"] = [
            ValidationError(
                "You already logged a session on that day (one a day at most). If you treated twice, "
                "please tell us at your next visit.",
                code=RuleCode.R19_TAP_DAY,
            )
        ]
    if values.get("site") not in HomeProgram.Site.values:
        errors["site"] = ["Choose hands, feet or both."]
    minutes = values.get("minutes")
    if not isinstance(minutes, int) or not 1 <= minutes <= rules.tap_minutes_max:
        errors["minutes"] = [f"Enter the minutes of treatment, 1 to {rules.tap_minutes_max}."]
    current = _decimal(values.get("current_ma"))
    if current is None or not Decimal("0") < current <= rules.tap_current_max_ma:
        errors["current_ma"] = [
            f"Enter the current the unit showed, up to {fmt(rules.tap_current_max_ma)} mA."
        ]
    elif isinstance(day, dt.date):
        for problem in limit_problems(
            modality=Modality.TAP_WATER,
            rules=rules,
            patient=locked.plan.patient,
            on_date=day,
            current_ma=current,
        ):
            errors.setdefault(problem.field, []).append(
                ValidationError(
                    f"At most {fmt(rules.tap_current_max_minor_ma)} mA for you: turn the current down "
                    "next time and tell us how it went.",
                    code=problem.code,
                )
            )
    if values.get("skin_reaction") not in HomeSession.Skin.values:
        errors["skin_reaction"] = ["Tell us how your skin looked after the session."]
    hdss = values.get("hdss")
    if hdss not in (None, "") and (not isinstance(hdss, int) or not 1 <= hdss <= 4):
        errors["hdss"] = ["Choose one of the four answers."]
    if errors:
        raise ValidationError(errors)
    session = HomeSession.objects.create(
        program=locked,
        date=day,
        site=values["site"],
        minutes=minutes,
        current_ma=current,
        skin_reaction=values["skin_reaction"],
        hdss=hdss or None,
        comments=(values.get("comments") or "").strip()[:500],
        logged_at=now,
    )
    if session.skin_reaction in HomeSession.NEEDS_REVIEW:
        reason = f"Home session {day:%d %b}: {session.get_skin_reaction_display().lower()} — review (R16)"
        locked.status = HomeProgram.Status.PAUSED
        locked.status_reason = reason[:200]
        locked.save()
        plans.plan_hold(plan=locked.plan, user=None, reason=reason)
    return session


# -- recalls (R15 extended) ----------------------------------------------------------
@transaction.atomic
def plan_home_recalls(*, now: dt.datetime | None = None) -> int:
    """One recall per program and episode: home logs silent for
    HOME_SILENCE_DAYS (the episode starts at the last log), or two HDSS of 3–4
    in a row (the episode starts at the second). Running again adds nothing
    (the outbox's unique constraint); a patient who opted out gets none
    (the sweep skips the row, and the message log says why)."""
    now = now or timezone.now()
    due = [(program, Kind.HOME_SILENCE_RECALL, day) for program, day in selectors.silent_programs(now=now)]
    due += [(program, Kind.HOME_HDSS_RECALL, day) for program, day in selectors.hdss_rising_programs()]
    rows = [_recall(program, kind, day, now) for program, kind, day in due]
    planned = set(
        Reminder.objects.filter(kind__in=RECALL_KINDS, plan_id__in=[row.plan_id for row in rows]).values_list(
            "plan_id", "kind", "slot_start"
        )
    )
    rows = [row for row in rows if (row.plan_id, row.kind, row.slot_start) not in planned]
    # Two planners at once: the unique constraint (plan, kind, episode) makes
    # the loser's rows no-ops.
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _recall(program: HomeProgram, kind: str, day: dt.date, now: dt.datetime) -> Reminder:
    return Reminder(
        kind=kind,
        plan_id=program.plan_id,
        patient_id=program.plan.patient_id,
        slot_start=local_datetime(day, RECALL_HOUR),
        due_at=now,
    )
