"""The benchmark plumbing: statistics, the table, and bare views that really
return what our views return (so the ratios compare like with like)."""

import datetime as dt

import pytest

from bench import harness, report, seeding
from bench.calendar_feed import event_rows
from bench.context import Stage, busiest_week


def test_percentile_interpolates_like_numpy():
    values = [float(v) for v in range(1, 101)]
    assert harness.percentile(values, 0.5) == 50.5
    assert harness.percentile(values, 0.95) == pytest.approx(95.05)
    assert harness.percentile([3.0], 0.95) == 3.0


def test_interleaving_alternates_the_order():
    calls = []
    harness.interleaved(lambda: calls.append("a"), lambda: calls.append("b"), reps=4, warmup=0)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]


def test_table_marks_missed_goals_and_unavailable_benchmarks():
    rows = [
        harness.result(
            "Day sheet", "PostgreSQL", 1000, rows=3, median_ms=9.0, p95_ms=10.0, queries=6,
            bare_median_ms=3.0, bare_p95_ms=3.5, bare_queries=3, ratio=3.0, goal="≤ 2× bare", met=False,
        ),
        harness.result("Reminder sweep", "PostgreSQL", 1000, unavailable="not available in this build"),
    ]  # fmt: skip
    text = report.table(rows)
    assert (
        "| Day sheet | PostgreSQL | 1,000 | 9.0 ms (p95 10.0 ms) · 3 rows | 6 | 3.0 ms (3 q) | 3.00× |"
        in text
    )
    assert "**no**" in text
    assert "not available in this build" in text


@pytest.fixture
def stage(db):
    report_ = seeding.seed(appointments=1500, patients=200, anchor=dt.date(2026, 3, 4))
    return Stage.make(n=1500, anchor=report_.anchor, largest=False)


@pytest.mark.urls("bench.urls")
def test_bare_views_return_the_same_rows_as_ours(stage):
    monday, therapist, day = busiest_week(stage.anchor)
    start = dt.datetime.combine(monday, dt.time.min).isoformat()
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min).isoformat()
    for params in ({"start": start, "end": end, "therapist": therapist}, {"start": start, "end": end}):
        ours = stage.client.get("/schedule/events/", params).json()
        assert ours and event_rows(ours) == event_rows(stage.client.get("/bench/bare/events/", params).json())
    ours = stage.client.get("/schedule/day/", {"date": day.isoformat()}).content
    bare = stage.client.get("/bench/bare/day/", {"date": day.isoformat()}).content
    assert ours.count(b"MRN ") == bare.count(b"MRN ") > 0


@pytest.mark.urls("bench.urls")
def test_the_bare_insert_writes_the_row_a_booking_writes(stage):
    from appointments.models import Appointment

    visit = Appointment.objects.filter(plan__isnull=False, device__isnull=False).first()
    body = {
        "patient": visit.patient_id,
        "plan": visit.plan_id,
        "therapist": visit.therapist_id,
        "room": visit.room_id,
        "device": visit.device_id,
        "start": "2030-01-07T10:00:00-05:00",
        "end": "2030-01-07T10:30:00-05:00",
    }
    response = stage.client.post("/bench/bare/insert/", body, content_type="application/json")
    assert response.status_code == 201
    assert Appointment.objects.get(pk=response.json()["id"]).kind == Appointment.Kind.SESSION


def test_the_sweep_benchmarks_sink_receives_each_message_as_sent_and_counts_it():
    """The sink reads DATA in blocks (bench/reminder_sweep.py): what it
    records is the message as written, dot-stuffing undone, one message per
    DATA on a kept connection, and the row each is about."""
    import smtplib

    from bench.reminder_sweep import Sink

    bodies = [
        b"X-Phoresis-Reminder: 7\r\nSubject: one\r\n\r\n.starts with a dot\r\n..two dots\r\nend\r\n",
        b"X-Phoresis-Reminder: 8\r\nSubject: two\r\n\r\n" + b"a line\r\n" * 5000 + b".\r\n.\r\n",
    ]
    received = []
    with Sink() as sink:
        handler = sink.controller.handler
        original = handler.handle_DATA

        async def keep(server, session, envelope):
            received.append(envelope.original_content)
            return await original(server, session, envelope)

        handler.handle_DATA = keep
        with smtplib.SMTP("127.0.0.1", sink.port) as client:
            for body in bodies:
                client.sendmail("desk@example.org", ["patient@example.org"], body)
            client.sendmail("desk@example.org", ["patient@example.org"], b"")
        assert sink.count == 3
        assert sink.exactly_once({7, 8})
    assert received[:2] == bodies
    assert received[2] in (b"", b"\r\n")  # smtplib ends even an empty message with CRLF
