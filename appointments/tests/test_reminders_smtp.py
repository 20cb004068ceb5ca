"""Sending through a real SMTP server (aiosmtpd, in this process): the
commit point, temporary and permanent refusals, unconfirmed hand-overs."""

import smtplib

import pytest

from appointments import reminders, services
from appointments.models import Appointment, Reminder
from appointments.reminders import mail, sending
from appointments.tests import reminders_support
from appointments.tests.reminders_support import message_id, reminder_id, smtp_sink_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

Status = Reminder.Status


@pytest.fixture
def visit(plan, therapist, room, device, at):
    return services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)


def confirmation():
    return Reminder.objects.get(kind="confirmation")


def test_a_new_connection_to_the_test_server_reads_nothing_it_received(smtp_sink, monkeypatch):
    """aiosmtpd inspects its handler's members on every connection; when that
    parsed every message received so far, greetings grew slower with each
    message until the 3,000-message kill test's workers timed out connecting."""
    smtp_sink.raw.append(b"Subject: received earlier\r\n\r\nHello\r\n")
    parsed = []
    with monkeypatch.context() as patch:  # undone before the fixture's own scan
        patch.setattr(reminders_support, "parse", parsed.append)
        with smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=5) as client:
            assert client.noop()[0] == 250
    assert parsed == []


def test_the_sweep_delivers_over_smtp_and_records_the_message_id(smtp_sink, visit):
    assert reminders.reminders_sweep().sent == 1
    (message,) = smtp_sink.wait_for(1)
    row = confirmation()
    assert (row.status, reminder_id(message)) == (Status.SENT, row.pk)
    assert row.message_id == message_id(message) and row.send_started_at <= row.sent_at
    assert message["To"] == visit.patient.email


def test_one_connection_carries_a_batch(smtp_sink, plan, therapist, room, device, at):
    from treatments.tests.factories import PlanFactory

    for day in (0, 1, 2):
        other = PlanFactory(patient=plan.patient)
        services.appointment_book(plan=other, start=at(day, "10:00"), therapist=therapist)
    assert reminders.reminders_sweep().sent == 3
    assert len(smtp_sink.wait_for(3)) == 3


def test_a_temporary_refusal_is_retried_later(smtp_sink, visit):
    smtp_sink.fail_next.append("451 4.3.0 Try again later")
    assert reminders.reminders_sweep().retried == 1
    row = confirmation()
    assert (row.status, row.send_started_at) == (Status.PENDING, None)
    assert "451" in row.error


def test_a_permanent_refusal_fails_at_once(smtp_sink, visit):
    smtp_sink.fail_next.append("554 5.7.1 Message rejected")
    assert reminders.reminders_sweep().failed == 1
    assert confirmation().status == Status.FAILED
    assert smtp_sink.messages == []


def test_a_move_at_the_commit_point_drops_the_message_before_its_end(smtp_sink, visit, at, monkeypatch):
    """The body reached the server, but without the final dot it is discarded."""
    real = sending.build_message

    def build_then_move(reminder, **kwargs):
        message = real(reminder, **kwargs)
        Appointment.objects.filter(pk=visit.pk).update(start=at(1, "10:00"), end=at(1, "10:30"))
        return message

    monkeypatch.setattr(sending, "build_message", build_then_move)
    assert reminders.reminders_sweep().void == 1
    assert smtp_sink.settle(quiet=0.3) == []
    monkeypatch.undo()
    services.appointment_book(plan=visit.plan, start=at(3, "10:00"))
    assert reminders.reminders_sweep().sent == 1  # the next message gets a fresh connection
    assert len(smtp_sink.wait_for(1)) == 1


def test_no_answer_after_the_final_dot_is_unconfirmed_and_not_retried(smtp_sink, visit, monkeypatch):
    real_send = mail.CommitPointSMTP.send

    def send(self, data):
        if data == b".\r\n":
            real_send(self, data)
            raise ConnectionResetError("connection reset by peer")
        return real_send(self, data)

    monkeypatch.setattr(mail.CommitPointSMTP, "send", send)
    outcome = reminders.reminders_sweep()
    assert (outcome.failed, outcome.sent) == (1, 0)
    row = confirmation()
    assert row.status == Status.FAILED and row.error.startswith(sending.UNCONFIRMED)
    assert row.message_id and row.send_started_at
    monkeypatch.undo()
    assert reminders.reminders_sweep().sent == 0  # never sent again on its own
    assert len(smtp_sink.wait_for(1, timeout=2)) == 1  # it had in fact arrived


def test_an_idle_connection_dropped_by_the_server_is_reopened(smtp_sink, visit, settings):
    backend = mail.open_backend()
    backend.open()
    backend.connection.sock.close()  # the server hung up while we were idle
    message = sending.build_message(confirmation())
    marked = []
    mail.send_one(backend, message, lambda: marked.append(True))
    mail.reset_backend(backend)
    assert marked == [True]
    assert len(smtp_sink.wait_for(1)) == 1


def test_the_commit_point_backend_replaces_the_plain_smtp_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert isinstance(mail.open_backend(), mail.CommitPointSMTPBackend)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert not isinstance(mail.open_backend(), mail.CommitPointSMTPBackend)
    assert issubclass(mail.DeliveryUnconfirmed, smtplib.SMTPException)


def test_a_sweep_sends_all_its_batches_over_one_connection(
    smtp_sink, plan, therapist, room, device, at, settings
):
    for day in (0, 2, 7):
        services.appointment_book(plan=plan, start=at(day, "10:00"), therapist=therapist)
    settings.REMINDER_SWEEP_BATCH = 1
    connects = []
    real = mail.CommitPointSMTP.connect

    def connect(self, *args, **kwargs):
        connects.append(args)
        return real(self, *args, **kwargs)

    mail.CommitPointSMTP.connect = connect
    try:
        assert reminders.reminders_sweep().sent == 3
    finally:
        mail.CommitPointSMTP.connect = real
    assert len(smtp_sink.wait_for(3)) == 3
    assert len(connects) == 1
