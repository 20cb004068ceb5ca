"""Every write of the patients app: demographics and safety screenings."""

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber, to_python

from patients.models import Patient, Payer, Screening
from patients.screening import ANSWER_FIELDS
from patients.selectors import likely_duplicates

# National numbers ("202-555-0143") are read in the clinic's country.
PHONE_REGION = getattr(settings, "PHONENUMBER_DEFAULT_REGION", None) or "US"

DEMOGRAPHIC_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "email",
    "phone",
    "reminder_opt_in",
    "referring_provider",
    "payer",
    "member_id",
    "notes",
)
SCREENING_FIELDS = (*ANSWER_FIELDS, "drug_allergy_details", "notes")
MRN_ATTEMPTS = 10


def _new_mrn() -> str:
    """Eight digits, no leading zero: easy to read out on the phone."""
    return str(10_000_000 + secrets.randbelow(90_000_000))


def _phone(value: Any) -> PhoneNumber | str:
    if value in (None, ""):
        return ""
    number = value if isinstance(value, PhoneNumber) else to_python(str(value), region=PHONE_REGION)
    if not number or not number.is_valid():
        raise ValidationError({"phone": "Enter a valid phone number, e.g. 202-555-0143 or +44 20 7946 0018."})
    return number


def _check(patient: Patient, *, confirm_duplicate: bool) -> None:
    errors: dict[str, list[str]] = {}
    try:
        patient.full_clean(exclude=["mrn"])
    except ValidationError as exc:
        errors = exc.message_dict
    dob = patient.date_of_birth
    if isinstance(dob, dt.date) and "date_of_birth" not in errors:
        if dob > timezone.localdate():
            errors["date_of_birth"] = ["The date of birth is in the future."]
        elif dob.year < 1900:
            errors["date_of_birth"] = ["Check the year of birth."]
    if errors:
        raise ValidationError(errors)
    if confirm_duplicate:
        return
    twins = list(
        likely_duplicates(
            first_name=patient.first_name,
            last_name=patient.last_name,
            date_of_birth=patient.date_of_birth,
            exclude_pk=patient.pk,
        )[:3]
    )
    if twins:
        mrns = ", ".join(p.mrn for p in twins)
        raise ValidationError(
            {
                "confirm_duplicate": ValidationError(
                    f"A patient with this name and date of birth already exists (MRN {mrns}). "
                    f"Open that chart instead, or confirm this is a different person.",
                    code="duplicate",
                )
            }
        )


@transaction.atomic
def patient_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    sex: str = "",
    email: str = "",
    phone: Any = "",
    reminder_opt_in: bool = True,
    referring_provider: str = "",
    notes: str = "",
    payer: Payer | None = None,
    member_id: str = "",
    confirm_duplicate: bool = False,
) -> Patient:
    """Register a patient with a new MRN; refuses a likely duplicate (same
    name and date of birth) unless `confirm_duplicate`."""
    patient = Patient(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        sex=sex or "",
        email=(email or "").strip(),
        phone=_phone(phone),
        reminder_opt_in=reminder_opt_in,
        payer=payer,
        member_id=(member_id or "").strip(),
        referring_provider=referring_provider or "",
        notes=notes or "",
    )
    _check(patient, confirm_duplicate=confirm_duplicate)
    for _ in range(MRN_ATTEMPTS):
        patient.mrn = _new_mrn()
        if Patient.objects.filter(mrn=patient.mrn).exists():
            continue
        try:
            # The unique index settles a race with a concurrent registration
            # that drew the same number between the check and the insert.
            with transaction.atomic():
                patient.save()
        except IntegrityError:
            patient.pk = None
            continue
        return patient
    raise RuntimeError("Could not draw an unused MRN; try again.")


@transaction.atomic
def patient_update(*, patient: Patient, data: Mapping[str, Any], confirm_duplicate: bool = False) -> Patient:
    """Change demographics (never the MRN); a change of name or date of birth
    that makes a likely duplicate needs `confirm_duplicate`."""
    unknown = set(data) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    # Work on the stored row (a bound ModelForm may have changed the caller's
    # instance already); the lock keeps two edits from interleaving.
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    identity_before = (patient.first_name.lower(), patient.last_name.lower(), patient.date_of_birth)
    for name, value in data.items():
        if name == "phone":
            value = _phone(value)
        elif isinstance(value, str):
            value = value.strip()
        setattr(patient, name, value)
    identity_after = (patient.first_name.lower(), patient.last_name.lower(), patient.date_of_birth)
    _check(patient, confirm_duplicate=confirm_duplicate or identity_after == identity_before)
    patient.save()
    return patient


@transaction.atomic
def screening_record(
    *,
    patient: Patient,
    screened_by: AbstractBaseUser,
    answers: Mapping[str, Any],
    screened_at: dt.datetime | None = None,
) -> Screening:
    """Record a screening or a review of it: always a new row, so the history
    of what was asked, when and by whom is kept."""
    unknown = set(answers) - set(SCREENING_FIELDS)
    if unknown:
        raise ValidationError({name: "Not a screening question." for name in sorted(unknown)})
    now = timezone.now()
    screening = Screening(patient=patient, screened_by=screened_by, screened_at=screened_at or now)
    for name, value in answers.items():
        setattr(
            screening,
            name,
            value if value is not None else ("" if name.endswith(("details", "notes")) else False),
        )
    screening.drug_allergy_details = (screening.drug_allergy_details or "").strip()
    errors: dict[str, str] = {}
    if screening.drug_allergy and not screening.drug_allergy_details:
        errors["drug_allergy_details"] = (
            "Name the drug or ingredient (e.g. dexamethasone, sulfites, lidocaine)."
        )
    if screening.screened_at > now:
        errors["screened_at"] = "A screening cannot be dated in the future."
    if errors:
        raise ValidationError(errors)
    screening.full_clean()
    screening.save()
    return screening


@transaction.atomic
def patient_set_reminder_opt_in(*, patient_id: int, opt_in: bool) -> Patient:
    """The patient's own choice about reminder emails (the one-click opt-out
    in every email, and its undo). Idempotent: a second click changes nothing."""
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    if patient.reminder_opt_in != opt_in:
        patient.reminder_opt_in = opt_in
        patient.save(update_fields=["reminder_opt_in", "updated_at"])
    return patient
