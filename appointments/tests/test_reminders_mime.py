"""The sweep's SMTP backend writes a message's bytes itself (mail.message_bytes):
the same bytes Django's backend sends, byte for byte, only cheaper."""

from io import BytesIO

import pytest
from django.core.mail import EmailMultiAlternatives

from appointments import services
from appointments.models import Reminder
from appointments.reminders import mail
from appointments.reminders.content import build_message
from patients.models import Patient

pytestmark = pytest.mark.django_db


def django_bytes_and_ours(message) -> tuple[bytes, bytes]:
    """Django's bytes (message(), as_bytes with CRLF) and ours, with the same
    boundaries (random in both) and the same Date and Message-ID."""
    reference = message.message()
    message.extra_headers.setdefault("Date", reference["Date"])
    message.extra_headers.setdefault("Message-ID", reference["Message-ID"])
    reference = message.message()
    expected = reference.as_bytes(linesep="\r\n")
    boundaries = iter([part.get_boundary() for part in reference.walk() if part.is_multipart()])
    ours = message.message()
    for part in ours.walk():
        if part.is_multipart():
            part.set_boundary(next(boundaries))
    out = BytesIO()
    mail._Generator(out, mangle_from_=False).flatten(ours, linesep="\r\n")
    return expected, out.getvalue()


def test_a_reminder_is_written_byte_for_byte_as_django_writes_it(plan, therapist, room, device, at):
    Patient.objects.filter(pk=plan.patient_id).update(
        first_name="Zoë-Łucja Ünder", email="zoe.lucja.under.with.a.rather.long.address@example.com"
    )
    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    services.appointment_cancel(appointment=visit, reason="Patient ill")
    for row in Reminder.objects.select_related("appointment", "patient", "plan").all():
        expected, ours = django_bytes_and_ours(build_message(row))
        assert ours == expected, row.kind


def test_awkward_headers_are_written_as_django_writes_them():
    message = EmailMultiAlternatives(
        subject="Ünïcödé, and a subject long enough to be folded over two lines " * 3,
        body="A line\n.starting with a dot\nFrom the start of a line\n",
        from_email="Clinic Ü <clinic@example.com>",
        to=["Zoë Ünder <z@example.com>", "plain@example.com"],
        reply_to=["Front desk <desk@example.com>"],
        headers={
            "X-Long": "a" * 200,
            "X-Long-Words": "word " * 30,
            "X-Spaces": "a  b   c",
            "X-Tab": "a\tb",
            "X-Empty": "",
            "X-Exactly-At-The-Limit": "b" * (78 - len("X-Exactly-At-The-Limit: ")),
            "X-One-Over-The-Limit": "b" * (79 - len("X-One-Over-The-Limit: ")),
        },
    )
    message.attach_alternative("<p>ü</p>", "text/html")
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    message.attach("appointment.ics", ics, "text/calendar; method=PUBLISH")
    expected, ours = django_bytes_and_ours(message)
    assert ours == expected


def test_message_bytes_chooses_a_fresh_boundary_per_multipart():
    message = EmailMultiAlternatives(subject="s", body="b", from_email="a@example.com", to=["b@example.com"])
    message.attach_alternative("<p>b</p>", "text/html")
    message.attach("a.ics", b"BEGIN:VCALENDAR\r\n", "text/calendar")
    first, second = mail.message_bytes(message), mail.message_bytes(message)
    boundaries = [line for line in first.split(b"\r\n") if b'boundary="' in line]
    assert len(boundaries) == 2 and boundaries[0] != boundaries[1]
    assert first != second  # random each time, as Django's are
