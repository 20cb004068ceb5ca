"""The API's contract for errors: every error body is an object —
`{"field": [...]}` or `{"detail": "..."}` (plus `conflicts` on 409 and the
rule `codes`) — never a bare list or Django's `__all__`; invalid filter
values are 400s, not silently ignored."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.test import APIClient

from clinic.api import error_body, exception_handler
from clinic.rule_codes import RuleCode


def _handled(exc):
    return exception_handler(exc, {})


@pytest.mark.parametrize(
    ("exc", "body"),
    [
        (
            exceptions.ValidationError(["A visit cannot be completed before its day."]),
            {"non_field_errors": ["A visit cannot be completed before its day."]},
        ),
        (exceptions.ValidationError("One message"), {"non_field_errors": ["One message"]}),
        (
            DjangoValidationError({NON_FIELD_ERRORS: ["Both dates are needed."]}),
            {"non_field_errors": ["Both dates are needed."]},
        ),
        (DjangoValidationError("A plain message"), {"non_field_errors": ["A plain message"]}),
        (DjangoValidationError({"start": "Too early"}), {"start": ["Too early"]}),
        (exceptions.NotFound(), {"detail": "Not found."}),
        (exceptions.PermissionDenied(), {"detail": "You do not have permission to perform this action."}),
    ],
)
def test_every_error_body_is_an_object_of_fields_or_a_detail(exc, body):
    response = _handled(exc)
    assert response.data == body


def test_codes_stay_beside_the_fields():
    exc = DjangoValidationError({"start": DjangoValidationError("Outside hours", code=RuleCode.R2_HOURS)})
    data = _handled(exc).data
    assert data["start"] == ["Outside hours"] and data["codes"] == [RuleCode.R2_HOURS]


def test_error_body_keeps_the_reserved_keys():
    assert error_body({"detail": "x", "conflicts": [{"a": 1}], "codes": ["R1.room"]}) == {
        "detail": "x",
        "conflicts": [{"a": 1}],
        "codes": ["R1.room"],
    }
    assert error_body({"__all__": ["x"], "start": "y"}) == {"non_field_errors": ["x"], "start": ["y"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/medications/?active=-619", "active"),
        ("/api/v1/medications/?active=maybe", "active"),
        ("/api/v1/medications/?modality=laser", "modality"),
        ("/api/v1/appointments/?status=lost", "status"),
        ("/api/v1/appointments/?therapist=abc", "therapist"),
        ("/api/v1/plans/?status=sleeping", "status"),
        ("/api/v1/appointments/?date_from=tomorrow", "date_from"),
    ],
)
def test_invalid_filter_values_are_400_field_errors(front_desk, path, field):
    api = APIClient()
    api.force_authenticate(front_desk)
    response = api.get(path)
    assert response.status_code == 400, response.content
    assert isinstance(response.json()[field], list)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "active"), [("true", {True}), ("1", {True}), ("false", {False}), ("", {True, False})]
)
def test_the_active_filter_still_filters(front_desk, value, active):
    from treatments.tests.factories import MedicationFactory

    MedicationFactory(name="Zyx old drug", is_active=False)
    api = APIClient()
    api.force_authenticate(front_desk)
    response = api.get("/api/v1/medications/", {"active": value})
    assert response.status_code == 200
    assert {m["is_active"] for m in response.json()["results"]} == active
