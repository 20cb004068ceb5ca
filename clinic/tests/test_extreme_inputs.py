"""Every input the server cannot represent is a 400 with a field error,
never a 500: dates in year 1 and 9999, times in a DST gap, huge integers,
NaN and infinities, fed to each date/time/number parameter of the API's
endpoints and the pages."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from clinic.tests.test_permissions import _Clock
from clinic.tests.world import World, build_world

DATES = ["9999-12-31", "0001-01-01", "2030-02-30", "99999-01-01", "-1", "nan"]
DATETIMES = [
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00Z",
    "2030-03-10T02:30:00",  # in the spring-forward gap in New York
    "2030-11-03T01:30:00",  # ambiguous: the fall-back hour
    "2030-01-07T10:00:00+25:00",
]
NUMBERS = [
    "99999999999999999999999",
    "-99999999999999999999",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-619",
]
TIMES = ["24:00", "99:99", "-1:00", "nan"]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    clock = _Clock()
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world(clock)
        transaction.set_rollback(True)
    clock.stop()


def _api(world: World, role: str = "clinic_admin") -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(world.users[role])
    return client


def _call(client, method: str, path: str, data):
    with transaction.atomic():
        if method == "GET":
            response = client.get(path, data)
        elif isinstance(client, APIClient):
            response = getattr(client, method.lower())(path, data, format="json")
        else:
            response = client.post(path, data)
        transaction.set_rollback(True)
    return response


def _requests(world: World):
    """(method, path, {parameter: value}) for each parameter × extreme value."""
    plan, appt = world.plan.pk, world.appointment.pk
    th = world.therapist.pk
    q = {"plan": plan, "date_from": "2030-01-07", "date_to": "2030-01-08"}
    for value in DATES:
        for name in ("date_from", "date_to"):
            yield "GET", "/api/v1/slots/", {**q, name: value}
            yield "GET", "/api/v1/appointments/", {name: value}
        yield "GET", "/api/v1/reminders/", {"due_from": value}
        yield "PUT", f"/api/v1/appointments/{appt}/note/", {"medication_expiry": value}
        yield "POST", "/api/v1/patients/", {"first_name": "A", "last_name": "B", "date_of_birth": value}
    for value in DATETIMES:
        yield "POST", "/api/v1/appointments/", {"plan": plan, "start": value}
        yield "POST", f"/api/v1/appointments/{appt}/reschedule/", {"start": value}
        yield "POST", f"/api/v1/plans/{plan}/book-series/", {"start": value}
        yield "POST", f"/api/v1/plans/{plan}/book-series/", {"start": value, "therapist": th}
    for value in NUMBERS:
        for name in ("plan", "therapist", "room", "patient", "status"):
            yield "GET", "/api/v1/appointments/", {name: value}
        yield "GET", "/api/v1/slots/", {**q, "plan": value}
        yield "GET", "/api/v1/slots/", {**q, "therapist": value}
        yield "GET", "/api/v1/plans/", {"patient": value}
        yield "GET", "/api/v1/medications/", {"active": value}
        yield "GET", "/api/v1/patients/", {"page": value}
        yield "GET", "/api/v1/reminders/", {"appointment": value}
        yield "POST", "/api/v1/appointments/", {"plan": value, "start": "2030-01-07T10:00:00Z"}
        yield (
            "POST",
            f"/api/v1/plans/{plan}/book-series/",
            {"start": "2030-01-07T10:00:00Z", "therapist": value},
        )
        for field in (
            "current_ma",
            "dose_ma_min",
            "sessions_prescribed",
            "frequency_per_week",
            "min_interval_hours",
        ):
            yield "PATCH", f"/api/v1/plans/{plan}/", {field: value}
        for field in (
            "current_ma",
            "treatment_minutes",
            "pain_before",
            "timed_minutes",
            "medication_volume_ml",
        ):
            yield "PUT", f"/api/v1/appointments/{appt}/note/", {field: value}
    # pages
    for value in DATES:
        yield "PAGE", "/schedule/day/", {"date": value}
        yield "PAGE", "/schedule/events/", {"start": value, "end": "2030-01-13"}
        yield "PAGE", "/schedule/events/", {"start": "2030-01-06", "end": value}
        yield "PAGE", "/schedule/book/", {"plan": plan, "date_from": value, "date_to": value}
        yield "PAGE", "/schedule/waitlist/", {"date": value}
    for value in DATETIMES:
        yield "PAGE", "/schedule/events/", {"start": value, "end": "2030-01-13T00:00:00Z"}
        yield "PAGEPOST", f"/schedule/{appt}/move/", {"start": value}
        yield "PAGEPOST", f"/schedule/{appt}/reschedule/", {"start": value}
    for value in NUMBERS:
        yield "PAGE", "/patients/", {"page": value}
        yield "PAGE", "/plans/", {"page": value}
        yield "PAGE", "/schedule/events/", {"start": "2030-01-06", "end": "2030-01-13", "therapist": value}
        yield "PAGE", "/schedule/book/", {"plan": value}
        yield "PAGE", "/schedule/day/", {"therapist": value}
        yield "PAGE", f"/schedule/plans/{plan}/series/", {"start_date": "2030-01-07", "therapist": value}
    for value in TIMES:
        yield "GET", "/api/v1/slots/", {**q, "after": value, "before": value}


@pytest.mark.django_db
def test_no_extreme_value_is_a_server_error(world: World):
    failures = []
    for method, path, data in _requests(world):
        if method.startswith("PAGE"):
            client = Client(raise_request_exception=False)
            client.force_login(world.users["clinic_admin"])
            response = _call(client, "GET" if method == "PAGE" else "POST", path, data)
        else:
            response = _call(_api(world), method, path, data)
        if response.status_code >= 500:
            failures.append(f"{method} {path} {data}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "data", "field"),
    [
        ("POST", "/api/v1/appointments/", {"plan": "{plan}", "start": "9999-12-31T23:59:59Z"}, "start"),
        ("POST", "/api/v1/plans/{plan}/book-series/", {"start": "9999-12-31T10:00:00Z"}, "start"),
        (
            "GET",
            "/api/v1/slots/",
            {"plan": "{plan}", "date_from": "9999-12-31", "date_to": "9999-12-31"},
            "date_from",
        ),
        (
            "GET",
            "/api/v1/slots/",
            {"plan": "{plan}", "date_from": "0001-01-01", "date_to": "0001-01-02"},
            "date_from",
        ),
        ("GET", "/api/v1/appointments/", {"date_from": "9999-12-31"}, "date_from"),
        ("GET", "/api/v1/appointments/", {"date_to": "0001-01-01"}, "date_to"),
    ],
)
def test_out_of_range_dates_are_field_errors(world: World, method, path, data, field):
    path = path.format(plan=world.plan.pk)
    data = {k: str(v).format(plan=world.plan.pk) for k, v in data.items()}
    response = _call(_api(world), method, path, data)
    assert response.status_code == 400
    assert response.json()[field] == ["Enter a date between 1900 and 2999."]


@pytest.mark.django_db
def test_pages_answer_out_of_range_dates_without_a_server_error(world: World):
    client = Client()
    client.force_login(world.users["front_desk"])
    assert client.get("/schedule/day/", {"date": "9999-12-31"}).status_code == 200  # today's sheet instead
    events = client.get("/schedule/events/", {"start": "9999-12-30", "end": "9999-12-31"})
    assert events.status_code == 400 and "detail" in events.json()
    form = client.get(
        "/schedule/book/", {"plan": world.plan.pk, "date_from": "9999-12-31", "date_to": "9999-12-31"}
    )
    assert form.status_code == 200 and "Enter a date between 1900 and 2999." in form.content.decode()
