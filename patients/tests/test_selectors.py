"""Patient search (name, MRN, date of birth, phone)."""

import datetime as dt

import pytest

from patients.selectors import patients_search
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "ada": PatientFactory(
            first_name="Ada", last_name="Lovelace", mrn="31415926", date_of_birth=dt.date(1985, 12, 10),
            phone="+12025550101",
        ),
        "alan": PatientFactory(
            first_name="Alan", last_name="Turing", mrn="27182818", date_of_birth=dt.date(1982, 6, 23),
            phone="+12025550177",
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lovel", {"ada"}),
        ("ada lovelace", {"ada"}),
        ("LOVELACE ADA", {"ada"}),
        ("a", {"ada", "alan"}),
        ("31415926", {"ada"}),
        ("1985-12-10", {"ada"}),
        ("06/23/1982", {"alan"}),
        ("(202) 555-0177", {"alan"}),
        ("555-0101", {"ada"}),
        ("2025550101", {"ada"}),
        ("nobody", set()),
        ("", {"ada", "alan"}),
    ],
)
def test_search_by_name_mrn_birth_date_or_phone(people, query, expected):
    found = set(patients_search(query=query).values_list("pk", flat=True))
    assert found == {people[name].pk for name in expected}
