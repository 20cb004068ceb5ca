"""Reads of patients used by several views and the API."""

import contextlib
import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery

from clinic.models import ClinicRules
from patients.models import Patient, Screening
from patients.names import fold, name_key
from patients.screening import screening_status

PHONE_LIKE = re.compile(r"[+(]?\d[\d\s().-]{5,}")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")


def _parse_date(text: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return None


def _word_filter(word: str) -> Q:
    date = _parse_date(word)
    if date is not None:
        return Q(date_of_birth=date)
    digits = re.sub(r"\D", "", word)
    if len(digits) >= 4 and len(digits) * 2 >= len(word):
        return Q(mrn__istartswith=word) | Q(mrn__startswith=digits) | Q(phone__contains=digits)
    folded = fold(word)
    return (
        # The start of any word of the name, without case or accents.
        Q(name_key__startswith=folded)
        | Q(name_key__contains=f" {folded}")
        | Q(name_key__contains=f"-{folded}")
        # Rows written around the model (bulk inserts) before their key.
        | Q(name_key="", first_name__istartswith=word)
        | Q(name_key="", last_name__istartswith=word)
        | Q(mrn__iexact=word)
    )


def patients_search(
    *, query: str = "", queryset: QuerySet[Patient] | None = None, include_inactive: bool = False
) -> QuerySet[Patient]:
    """Patients matching every word of `query`: a word is a date of birth
    (2024-01-31 or 01/31/2024), an MRN, part of a phone number (4+ digits;
    "(202) 555-0143" counts as one number) or the start of any part of the
    name, accents and case ignored, so "Ashdown, Avery" (the list's own
    format), "Avery Ashdown", "ash av" and "José" / "Jose" all find the same
    chart. Merged (inactive) records are left out unless asked for."""
    patients = Patient.objects.all() if queryset is None else queryset
    if not include_inactive:
        patients = patients.filter(is_active=True)
    query = query.strip()
    if PHONE_LIKE.fullmatch(query) and _parse_date(query) is None:
        return patients.filter(_word_filter(re.sub(r"\D", "", query)))
    for word in query.replace(",", " ").split():
        patients = patients.filter(_word_filter(word))
    return patients


# Likely duplicates (same date of birth and a similar name). PostgreSQL
# compares trigrams (pg_trgm); elsewhere difflib's ratio on the same folded
# key, over the few patients born that day. Both thresholds were set on the
# cases the front desk met ("Avery Ashdowne" / "Avery Ashdown") and on a
# sibling with another first name, who must stay silent.
TRIGRAM_THRESHOLD = 0.5
RATIO_THRESHOLD = 0.8
# A date of birth mistyped by a day, or with day and month swapped.
DOB_SLIP = dt.timedelta(days=1)


@dataclass(frozen=True)
class Duplicate:
    patient: Patient
    reasons: tuple[str, ...]


def _dob_variants(dob: dt.date) -> list[dt.date]:
    found = [dob - DOB_SLIP, dob + DOB_SLIP]
    if dob.day <= 12 and dob.day != dob.month:
        with contextlib.suppress(ValueError):
            found.append(dob.replace(month=dob.day, day=dob.month))
    return found


def likely_duplicates(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date | None,
    phone: object = "",
    email: str = "",
    exclude_pk: int | None = None,
    limit: int = 5,
) -> list[Duplicate]:
    """Active patients who are probably this person, in one query: born the
    same day with a similar name; the same name born a slip of the pen away
    (a day off, day and month swapped); or the same phone or email. A
    different person who only shares a common surname matches none."""
    key = name_key(first_name, last_name)
    email = (email or "").strip()
    has_identity = isinstance(date_of_birth, dt.date) and bool(first_name and last_name)
    trigram = connection.vendor == "postgresql"
    wanted = Q(pk__in=[])
    candidates = Patient.objects.filter(is_active=True)
    if has_identity:
        if trigram:
            from django.contrib.postgres.search import TrigramSimilarity

            candidates = candidates.annotate(name_similarity=TrigramSimilarity("name_key", key))
            wanted |= Q(date_of_birth=date_of_birth, name_similarity__gte=TRIGRAM_THRESHOLD)
        else:
            wanted |= Q(date_of_birth=date_of_birth)  # compared in Python below
        wanted |= Q(name_key=key, date_of_birth__in=_dob_variants(date_of_birth))
    if phone:
        wanted |= Q(phone=phone)
    if email:
        wanted |= Q(email__iexact=email)
    candidates = candidates.filter(wanted)
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    found = []
    for patient in candidates[:50]:
        reasons = []
        if has_identity and patient.date_of_birth == date_of_birth:
            similar = (
                patient.name_similarity >= TRIGRAM_THRESHOLD
                if trigram
                else difflib.SequenceMatcher(None, patient.name_key, key).ratio() >= RATIO_THRESHOLD
            )
            if similar:
                reasons.append("same date of birth, similar name")
        elif has_identity and patient.name_key == key:
            reasons.append("same name, date of birth nearly the same")
        if phone and patient.phone == phone:
            reasons.append("same phone")
        if email and patient.email.lower() == email.lower():
            reasons.append("same email")
        if reasons:
            found.append(Duplicate(patient=patient, reasons=tuple(reasons)))
    found.sort(key=lambda d: (-len(d.reasons), d.patient.last_name, d.patient.first_name, d.patient.pk))
    return found[:limit]


def with_current_screening_id(queryset: QuerySet[Patient]) -> QuerySet[Patient]:
    newest = Screening.objects.filter(patient=OuterRef("pk")).order_by("-screened_at", "-id")
    return queryset.annotate(current_screening_id=Subquery(newest.values("id")[:1]))


def attach_screening_status(patients: Iterable[Patient], rules: ClinicRules | None = None) -> list[Patient]:
    """Set `current_screening` and `screening_status` on each patient of a
    page (annotated by `with_current_screening_id`) with one query."""
    patients = list(patients)
    rules = rules or ClinicRules.current()
    ids = [p.current_screening_id for p in patients if p.current_screening_id]
    screenings = Screening.objects.in_bulk(ids) if ids else {}
    for patient in patients:
        patient.current_screening = screenings.get(patient.current_screening_id)
        patient.screening_status = screening_status(patient.current_screening, rules)
    return patients
