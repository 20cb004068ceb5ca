"""Reads of patients used by several views and the API."""

import datetime as dt
import re
from collections.abc import Iterable

from django.db.models import OuterRef, Q, QuerySet, Subquery

from clinic.models import ClinicRules
from patients.models import Patient, Screening
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
    return Q(first_name__istartswith=word) | Q(last_name__istartswith=word) | Q(mrn__iexact=word)


def patients_search(*, query: str = "", queryset: QuerySet[Patient] | None = None) -> QuerySet[Patient]:
    """Patients matching every word of `query`: a word is a date of birth
    (2024-01-31 or 01/31/2024), an MRN, part of a phone number (4+ digits;
    "(202) 555-0143" counts as one number) or the start of a first or last
    name."""
    patients = Patient.objects.all() if queryset is None else queryset
    query = query.strip()
    if PHONE_LIKE.fullmatch(query) and _parse_date(query) is None:
        return patients.filter(_word_filter(re.sub(r"\D", "", query)))
    for word in query.split():
        patients = patients.filter(_word_filter(word))
    return patients


def likely_duplicates(
    *, first_name: str, last_name: str, date_of_birth: dt.date | None, exclude_pk: int | None = None
) -> QuerySet[Patient]:
    """Same name (any case) and same date of birth: probably the same person."""
    if not (first_name and last_name and date_of_birth):
        return Patient.objects.none()
    found = Patient.objects.filter(
        first_name__iexact=first_name.strip(),
        last_name__iexact=last_name.strip(),
        date_of_birth=date_of_birth,
    )
    return found.exclude(pk=exclude_pk) if exclude_pk else found


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
