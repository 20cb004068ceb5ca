"""Every write of the patients app: demographics and safety screenings."""

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber, to_python

from clinic.access import require_therapist
from patients.models import Patient, Payer, Screening
from patients.screening import ANSWER_FIELDS
from patients.selectors import Duplicate, likely_duplicates

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
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
    "notes",
)
# Asked again on a change: the fields duplicate detection compares.
IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth", "phone", "email")
SCREENING_FIELDS = (*ANSWER_FIELDS, "drug_allergy_details", "notes")
MRN_ATTEMPTS = 10


def _new_mrn() -> str:
    """Eight digits, no leading zero: easy to read out on the phone."""
    return str(10_000_000 + secrets.randbelow(90_000_000))


def _phone(value: Any, field: str = "phone") -> PhoneNumber | str:
    if value in (None, ""):
        return ""
    number = value if isinstance(value, PhoneNumber) else to_python(str(value), region=PHONE_REGION)
    if not number or not number.is_valid():
        raise ValidationError({field: "Enter a valid phone number, e.g. 202-555-0143 or +44 20 7946 0018."})
    return number


class DuplicateWarning(ValidationError):
    """A likely duplicate (see patients.selectors.likely_duplicates): a
    ValidationError on `confirm_duplicate` that also names the candidates,
    so pages and the API can link to them."""

    def __init__(self, duplicates: list[Duplicate]):
        self.duplicates = duplicates
        names = "; ".join(
            f"{d.patient.last_name}, {d.patient.first_name} (MRN {d.patient.mrn}: {', '.join(d.reasons)})"
            for d in duplicates
        )
        super().__init__(
            {
                "confirm_duplicate": ValidationError(
                    f"This may be a patient already registered: {names}. Open that chart instead, "
                    f"or confirm this is a different person.",
                    code="duplicate",
                )
            }
        )


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
    twins = likely_duplicates(
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth,
        phone=patient.phone,
        email=patient.email,
        exclude_pk=patient.pk,
    )
    if twins:
        raise DuplicateWarning(twins)


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
    address_line1: str = "",
    address_line2: str = "",
    city: str = "",
    state: str = "",
    postal_code: str = "",
    emergency_contact_name: str = "",
    emergency_contact_phone: Any = "",
    confirm_duplicate: bool = False,
) -> Patient:
    """Register a patient with a new MRN; refuses a likely duplicate (similar
    name and same date of birth, same phone or email) unless
    `confirm_duplicate`."""
    patient = Patient(
        address_line1=(address_line1 or "").strip(),
        address_line2=(address_line2 or "").strip(),
        city=(city or "").strip(),
        state=(state or "").strip(),
        postal_code=(postal_code or "").strip(),
        emergency_contact_name=(emergency_contact_name or "").strip(),
        emergency_contact_phone=_phone(emergency_contact_phone, "emergency_contact_phone"),
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
    """Change demographics (never the MRN); a change of name, date of birth,
    phone or email that makes a likely duplicate needs `confirm_duplicate`."""
    unknown = set(data) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    # Work on the stored row (a bound ModelForm may have changed the caller's
    # instance already); the lock keeps two edits from interleaving.
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if not patient.is_active:
        raise ValidationError(
            f"This record was merged into MRN {patient.merged_into.mrn}: edit that one.",
            code="merged",
        )

    def identity() -> tuple:
        return tuple(str(getattr(patient, name) or "").lower() for name in IDENTITY_FIELDS)

    identity_before = identity()
    for name, value in data.items():
        if name in ("phone", "emergency_contact_phone"):
            value = _phone(value, name)
        elif isinstance(value, str):
            value = value.strip()
        setattr(patient, name, value)
    identity_after = identity()
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
    of what was asked, when and by whom is kept. A screening review is a
    clinical act (R20): the therapist group itself."""
    require_therapist(screened_by, "record or review a screening")
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


# Copied onto the kept record when it has none: the merged record's phone,
# address or coverage is better than nothing. Names and birth date are the
# kept record's own.
MERGE_FILL_FIELDS = tuple(
    name for name in DEMOGRAPHIC_FIELDS if name not in ("first_name", "last_name", "date_of_birth", "notes")
)


@transaction.atomic
def patient_merge(*, patient: Patient, into: Patient, user: AbstractBaseUser | None = None) -> Patient:
    """Merge a duplicate record into the one kept: every row that points at
    `patient` (plans, visits, screenings, notes' adverse events, messages,
    waitlist entries — whatever app holds it) moves to `into` in this one
    transaction; blank demographics of `into` are filled from `patient`; the
    merged record stays, inactive, pointing at `into`. Nothing clinical is
    deleted. The move is audit-logged on both records."""
    if patient.pk == into.pk:
        raise ValidationError({"into": "Choose another record: a record cannot be merged into itself."})
    # Both rows locked in id order: two merges of the same pair (either way
    # round) cannot deadlock, and no edit slips in between check and move.
    locked = Patient.objects.select_for_update().filter(pk__in=[patient.pk, into.pk]).order_by("pk")
    rows = {p.pk: p for p in locked}
    if len(rows) != 2:
        raise ValidationError({"into": "That record no longer exists."})
    patient, into = rows[patient.pk], rows[into.pk]
    if not patient.is_active:
        raise ValidationError({"into": f"MRN {patient.mrn} was already merged."}, code="merged")
    if not into.is_active:
        raise ValidationError(
            {"into": f"MRN {into.mrn} was itself merged into another record: merge into that one."},
            code="merged",
        )
    moved: dict[str, int] = {}
    try:
        with transaction.atomic():
            for relation in Patient._meta.related_objects:
                if relation.related_model is Patient or not (relation.one_to_many or relation.one_to_one):
                    continue
                name = relation.field.name
                count = relation.related_model._base_manager.filter(**{name: patient}).update(**{name: into})
                if count:
                    moved[str(relation.related_model._meta.verbose_name_plural)] = count
    except IntegrityError as exc:
        # PostgreSQL's R1 exclusion constraint: both records have visits
        # at the same time, which one person cannot attend.
        raise ValidationError(
            {"into": "Both records have visits at the same time: cancel one of them, then merge."},
            code="merged_overlap",
        ) from exc
    filled = [name for name in MERGE_FILL_FIELDS if not getattr(into, name) and getattr(patient, name)]
    for name in filled:
        setattr(into, name, getattr(patient, name))
    if filled:
        into.save()
    patient.is_active = False
    patient.merged_into = into
    patient.merged_at = timezone.now()
    patient.save()
    actor = user if user is not None and user.is_authenticated else None
    summary = {"merged_from": patient.mrn, "merged_into": into.mrn, "moved": moved, "filled": filled}
    entries = (
        (into, {"merged_from": [None, f"MRN {patient.mrn}"]}),
        (patient, {"merged_into": [None, f"MRN {into.mrn}"]}),
    )
    for record, changes in entries:
        LogEntry.objects.log_create(
            record,
            force_log=True,
            action=LogEntry.Action.UPDATE,
            changes=changes,
            additional_data=summary,
            actor=actor,
        )
    return into


@transaction.atomic
def patient_set_reminder_opt_in(*, patient_id: int, opt_in: bool) -> Patient:
    """The patient's own choice about reminder emails (the one-click opt-out
    in every email, and its undo). Idempotent: a second click changes nothing."""
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    if patient.reminder_opt_in != opt_in:
        patient.reminder_opt_in = opt_in
        patient.save(update_fields=["reminder_opt_in", "updated_at"])
    return patient
