"""The rhythm and wording of patient emails, through a real SMTP server: the
undo window, one email for a visit less than a day ahead, the policy
sentence that fits the time left, old and new time on a move, the app's date
format, List-Unsubscribe (RFC 8058), and a relay that is merely slow."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from appointments import reminders, services
from appointments.models import Appointment, Reminder
from appointments.reminders import content
from appointments.tests.reminders_support import reminder_id, smtp_sink_fixture  # noqa: F401
from patients.models import Patient

pytestmark = pytest.mark.django_db

Kind = Reminder.Kind
Status = Reminder.Status


@pytest.fixture
def undo(settings):
    settings.REMINDER_UNDO_MINUTES = 3
    return dt.timedelta(minutes=3)


def kinds(messages):
    by_id = dict(Reminder.objects.values_list("pk", "kind"))
    return [by_id[reminder_id(m)] for m in messages]


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def html(message) -> str:
    return message.get_body(("html",)).get_content()


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        return reminders.reminders_sweep()


# -- the undo window -----------------------------------------------------------------
def test_a_move_and_its_undo_within_the_window_send_nothing_and_one_after_it_sends_one(
    smtp_sink, undo, plan, therapist, room, device, at
):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
        assert reminders.reminders_sweep().sent == 0  # still inside the undo window
    sweep_at(now + undo + dt.timedelta(seconds=1))
    assert kinds(smtp_sink.wait_for(1)) == [Kind.CONFIRMATION]

    later = now + dt.timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        moved = services.appointment_reschedule(appointment=visit, start=at(1, "11:00"))
    with time_machine.travel(later + dt.timedelta(minutes=1), tick=False):
        services.appointment_reschedule(appointment=moved, start=at(0, "10:00"))  # undone
    sweep_at(later + undo + dt.timedelta(minutes=2))
    assert len(smtp_sink.settle(quiet=0.5)) == 1  # nothing new
    assert not Reminder.objects.filter(kind=Kind.RESCHEDULED, status=Status.PENDING).exists()
    # The reminder of the original time is planned again.
    assert Reminder.objects.get(kind=Kind.REMINDER, slot_start=at(0, "10:00")).status == Status.PENDING

    again = now + dt.timedelta(minutes=30)
    with time_machine.travel(again, tick=False):
        services.appointment_reschedule(
            appointment=Appointment.objects.get(pk=visit.pk), start=at(1, "11:00")
        )
        assert reminders.reminders_sweep().sent == 0
    sweep_at(again + undo + dt.timedelta(seconds=1))
    messages = smtp_sink.wait_for(2)
    assert kinds(smtp_sink.settle(quiet=0.5)) == [Kind.CONFIRMATION, Kind.RESCHEDULED]
    moved_text = plain(messages[1])
    assert content.when(at(0, "10:00")) in moved_text and content.when(at(1, "11:00")) in moved_text
    assert content.when(at(0, "10:00")) in html(messages[1])


def test_a_booking_cancelled_within_the_window_sends_nothing(
    smtp_sink, undo, plan, therapist, room, device, at
):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    with time_machine.travel(now + dt.timedelta(minutes=1), tick=False):
        services.appointment_cancel(appointment=visit, reason="Booked the wrong patient")
    sweep_at(now + undo + dt.timedelta(minutes=5))
    assert smtp_sink.settle(quiet=0.5) == []
    assert set(Reminder.objects.values_list("status", flat=True)) == {Status.VOID}


# -- one email, not two within minutes ---------------------------------------------------
@pytest.mark.parametrize("ahead", [dt.timedelta(hours=24, minutes=3), dt.timedelta(hours=5)])
def test_a_visit_less_than_a_day_ahead_gets_one_email_that_is_also_the_reminder(
    smtp_sink, undo, plan, therapist, room, device, at, ahead
):
    start = at(0, "10:00")
    booked_at = start - ahead
    with time_machine.travel(booked_at, tick=False):
        services.appointment_book(plan=plan, start=start, therapist=therapist)
    assert not Reminder.objects.filter(kind=Kind.REMINDER).exists()
    for minutes in (4, 10, 60, 120):
        sweep_at(booked_at + dt.timedelta(minutes=minutes))
    (message,) = smtp_sink.settle(quiet=0.5)
    assert kinds([message]) == [Kind.CONFIRMATION]
    assert "also your reminder" in plain(message) and "also your reminder" in html(message)


def test_a_visit_a_week_ahead_gets_a_confirmation_and_a_reminder(
    smtp_sink, undo, plan, therapist, room, device, at
):
    start = at(0, "10:00")
    with time_machine.travel(start - dt.timedelta(days=7), tick=False):
        services.appointment_book(plan=plan, start=start, therapist=therapist)
    sweep_at(start - dt.timedelta(days=7) + undo + dt.timedelta(seconds=1))
    sweep_at(start - dt.timedelta(hours=24))
    messages = smtp_sink.wait_for(2)
    assert kinds(messages) == [Kind.CONFIRMATION, Kind.REMINDER]
    assert "also your reminder" not in plain(messages[0])


# -- wording from one place --------------------------------------------------------------
def test_the_policy_sentence_fits_the_time_left():
    start = dt.datetime(2027, 3, 15, 14, 0, tzinfo=dt.UTC)
    week = content.policy_sentence(start=start, now=start - dt.timedelta(days=7), late_cancel_hours=24)
    assert "by Sun 14 Mar 2027, 10:00 EDT (24 hours ahead)" in week
    for left in (dt.timedelta(hours=24), dt.timedelta(hours=24, minutes=30), dt.timedelta(hours=3)):
        sentence = content.policy_sentence(start=start, now=start - left, late_cancel_hours=24)
        assert "24 hours ahead" not in sentence and "as soon as you can" in sentence


def test_the_reminder_sent_24_hours_before_does_not_ask_for_24_hours_notice(
    smtp_sink, plan, therapist, room, device, at
):
    start = at(0, "10:00")
    services.appointment_book(plan=plan, start=start, therapist=therapist)
    reminders.reminders_sweep()
    sweep_at(start - dt.timedelta(hours=24))
    confirmation, reminder = smtp_sink.wait_for(2)
    assert "(24 hours ahead)" in plain(confirmation)
    for text in (plain(reminder), html(reminder)):
        assert "at least 24 hours" not in text and "24 hours ahead" not in text
        assert "as soon as you can" in text


def test_dates_read_as_in_the_app_in_subject_text_and_html(smtp_sink, plan, therapist, room, device, monday):
    day = monday
    while day.day > 9:  # a single-digit day shows the difference: "3 Dec", never "03 Dec"
        day += dt.timedelta(days=7)
    from clinic.localtime import local_datetime

    start = local_datetime(day, dt.time(9))
    services.appointment_book(plan=plan, start=start, therapist=therapist)
    reminders.reminders_sweep()
    (message,) = smtp_sink.wait_for(1)
    expected = f"{day:%a} {day.day} {day:%b %Y}, 09:00"
    assert expected in message["subject"] and expected in plain(message) and expected in html(message)
    assert f"{day:%a} 0{day.day} " not in message["subject"] + plain(message)


def test_every_email_carries_a_one_click_list_unsubscribe(
    smtp_sink, plan, therapist, room, device, at, client
):
    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    reminders.reminders_sweep()
    (message,) = smtp_sink.wait_for(1)
    header = str(message["List-Unsubscribe"]).strip()  # a long header arrives folded
    assert header.startswith("<http://127.0.0.1:8000/r/unsubscribe/") and header.endswith("/>")
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    # What a mail provider does (RFC 8058 §3.2): a POST with only this body, no cookie.
    path = header[1:-1].removeprefix("http://127.0.0.1:8000")
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert Patient.objects.get(pk=visit.patient_id).reminder_opt_in is False
    # The next message is skipped, not sent.
    services.appointment_reschedule(appointment=visit, start=at(1, "10:00"))
    assert reminders.reminders_sweep().skipped == 1
    assert len(smtp_sink.settle(quiet=0.3)) == 1


# -- a slow relay ------------------------------------------------------------------------
def test_a_relay_slower_than_the_connect_timeout_still_delivers(
    smtp_sink, settings, plan, therapist, room, device, at
):
    settings.EMAIL_TIMEOUT = 1
    settings.REMINDER_SMTP_REPLY_TIMEOUT = 10
    smtp_sink.delay = 2.5  # answers the final dot after 2.5 s
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    outcome = reminders.reminders_sweep()
    assert (outcome.sent, outcome.failed) == (1, 0)
    row = Reminder.objects.get(kind=Kind.CONFIRMATION)
    assert (row.status, row.error) == (Status.SENT, "")
    assert len(smtp_sink.wait_for(1)) == 1
