"""Metrics (/metrics behind a token, booking/sweep/email counters), request
ids (response header, log lines, Celery headers) and JSON log lines."""

from __future__ import annotations

import datetime as dt
import json
import logging
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from clinic import metrics
from clinic.celery import _request_id_done, _request_id_in, _request_id_out
from clinic.exceptions import SchedulingConflict
from clinic.logfilters import RedactFilter
from clinic.logjson import JsonFormatter
from clinic.requestid import REQUEST_ID, RequestIdFilter

TOKEN = "metrics-test-token-0123456789"


def samples(body: bytes) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(body: bytes, name: str, **labels) -> float:
    return samples(body).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_refuse_a_missing_or_wrong_token_even_for_a_signed_in_admin(client, clinic_admin):
    client.force_login(clinic_admin)
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 403


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_count_bookings_by_outcome_and_show_the_outbox(client, django_assert_max_num_queries):
    def book_ok():
        return "ok"

    def book_taken():
        raise SchedulingConflict({"start": "taken"}, conflicts=[])

    def book_refused():
        raise ValidationError({"start": "closed"})

    before = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content
    metrics.count_bookings(book_ok)()
    for fn in (book_taken, book_refused):
        with pytest.raises(ValidationError):
            metrics.count_bookings(fn)()
    with django_assert_max_num_queries(3):
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    after = response.content
    for outcome in ("booked", "conflict", "refused"):
        name = "phoresis_bookings_total"
        assert value(after, name, outcome=outcome) == value(before, name, outcome=outcome) + 1
    assert ("phoresis_outbox_messages", (("status", "pending"),)) in samples(after)
    assert ("phoresis_outbox_oldest_due_seconds", ()) in samples(after)


@pytest.mark.django_db
def test_booking_through_the_service_is_counted(time_machine):
    from appointments import services as scheduling
    from appointments.tests.conftest import next_weekday
    from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
    from clinic.localtime import local_datetime
    from patients.tests.factories import ScreeningFactory
    from treatments.tests.factories import PlanFactory

    day = next_weekday(1)
    start = local_datetime(day, dt.time(10))
    time_machine.move_to(start - dt.timedelta(days=2), tick=False)
    plan = PlanFactory()
    ScreeningFactory(patient=plan.patient)
    DeviceFactory(home_room=RoomFactory())
    TherapistFactory()
    booked = metrics.BOOKINGS.labels("booked")._value.get()
    scheduling.appointment_book(plan=plan, start=start)
    assert metrics.BOOKINGS.labels("booked")._value.get() == booked + 1


def test_a_sweep_counts_itself_and_its_emails():
    sweeps, sent = metrics.SWEEPS._value.get(), metrics.EMAILS.labels("sent")._value.get()
    failed = metrics.EMAILS.labels("failed")._value.get()
    metrics.sweep_done(seconds=0.2, outcome={"sent": 3, "failed": 1, "lost": 2})
    assert metrics.SWEEPS._value.get() == sweeps + 1
    assert metrics.EMAILS.labels("sent")._value.get() == sent + 3
    assert metrics.EMAILS.labels("failed")._value.get() == failed + 1


def test_the_bearer_token_is_compared_whole():
    assert metrics.token_ok(f"Bearer {TOKEN}", TOKEN)
    assert not metrics.token_ok(f"Bearer {TOKEN[:-1]}", TOKEN)
    assert not metrics.token_ok("Bearer ", TOKEN)
    assert not metrics.token_ok("", TOKEN)


# -- request ids ---------------------------------------------------------------
@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_keeps_a_plain_one_from_the_proxy(client):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    assert (
        client.get("/healthz", headers={"X-Request-ID": "proxy-1234abcd"})["X-Request-ID"] == "proxy-1234abcd"
    )
    odd = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})["X-Request-ID"]
    assert odd != "<script>alert(1)</script>" and len(odd) == 32


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id(client, caplog, monkeypatch):
    from clinic import views

    def failing_db() -> bool:
        logging.getLogger("clinic.views").warning("healthz: database unreachable")
        return False

    monkeypatch.setattr(views, "database_ok", failing_db)
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="clinic.views"):
        response = client.get("/healthz", headers={"X-Request-ID": "trace-abcdef12"})
    assert response.status_code == 503
    assert [r.request_id for r in caplog.records if "database unreachable" in r.getMessage()] == [
        "trace-abcdef12"
    ]


def test_a_task_published_during_a_request_carries_its_id_into_the_worker():
    token = REQUEST_ID.set("req-0123456789")
    headers: dict = {}
    try:
        _request_id_out(headers=headers)
    finally:
        REQUEST_ID.reset(token)
    assert headers == {"request_id": "req-0123456789"}
    # In the worker: Celery puts custom headers on the task's request.
    task = SimpleNamespace(request=SimpleNamespace(request_id=headers["request_id"], headers=None))
    _request_id_in(task_id="t-1", task=task)
    assert REQUEST_ID.get() == "req-0123456789"
    _request_id_done(task_id="t-1")
    assert REQUEST_ID.get() == ""


def test_outside_a_request_nothing_is_added():
    headers: dict = {}
    _request_id_out(headers=headers)
    assert headers == {}


# -- JSON lines -----------------------------------------------------------------
def test_json_log_lines_hold_ids_and_no_email_or_query_string():
    record = logging.LogRecord(
        "appointments",
        logging.WARNING,
        __file__,
        1,
        "GET /patients/?q=%s for %s",
        ("Smith", "jo@x.org"),
        None,
    )
    RequestIdFilter().filter(record)
    RedactFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert set(line) >= {"ts", "level", "logger", "message", "request_id", "task_id"}
    assert line["level"] == "WARNING" and line["logger"] == "appointments"
    assert "Smith" not in line["message"] and "jo@x.org" not in line["message"]
    assert line["ts"].endswith("+00:00")
