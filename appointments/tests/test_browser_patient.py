"""The patient's side in a real browser: the confirmation email (read from
a real SMTP server, aiosmtpd, in this process) carries a signed link; the
patient opens it, confirms the visit, then cancels it.

Needs the reminders feature (appointments.links: the /r/ pages, and the
reminder sweep that sends the confirmation). Until that branch is merged the
module is skipped with that reason; nothing else is.
"""

import datetime as dt
import email
import importlib
import re
import socket
import time
from email.policy import default as default_policy

import pytest
from playwright.sync_api import expect

from appointments import services
from appointments.models import Appointment
from appointments.tests.scenario import next_monday, patient_plan, staff
from clinic.localtime import local_datetime
from clinic.tests.browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONFIRM = re.compile(r"confirm|coming", re.IGNORECASE)
CANCEL = re.compile(r"cancel", re.IGNORECASE)


class Inbox:
    """aiosmtpd handler: keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"expected {count} message(s), got {len(self.messages)}"
        return self.messages


@pytest.fixture
def inbox(settings, live_server):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port (the controller's start-up check needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.SITE_URL = live_server.url
    yield handler
    controller.stop()


def send_due_reminders() -> None:
    """Run the reminder sweep once, whatever the reminders feature named it."""
    reminders = importlib.import_module("appointments.reminders")
    for name in ("reminders_sweep", "sweep", "send_due"):
        if callable(getattr(reminders, name, None)):
            getattr(reminders, name)()
            return
    importlib.import_module("appointments.tasks").reminders_sweep()


def text_of(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else message.get_payload()


def act(page, name: re.Pattern) -> None:
    """Press the page's button for `name`; where the page offers a link to a
    page with that button instead, follow it first."""
    button = page.get_by_role("button", name=name)
    if button.count() == 0:
        page.get_by_role("link", name=name).first.click()
        button = page.get_by_role("button", name=name)
    expect(button.first).to_be_visible()
    button.first.click()


def wait_for_status(appointment: Appointment, status: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        appointment.refresh_from_db()
        if appointment.status == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"appointment is {appointment.status}, expected {status}")


def test_patient_confirms_then_cancels_from_the_confirmation_email(page, inbox, settings):
    people = staff()
    plan = patient_plan("Maria", "Lopez")
    start = local_datetime(next_monday(), dt.time(10))
    visit = services.appointment_book(plan=plan, start=start, therapist=people["therapist"])

    send_due_reminders()
    (message,) = inbox.wait_for(1)
    assert message["To"].addresses[0].addr_spec == plan.patient.email
    links = re.findall(re.escape(settings.SITE_URL) + r"/r/[^\s\"'<>]+", text_of(message))
    assert links, "the confirmation email carries a signed link to the visit"

    page.goto(links[0])
    expect(page.get_by_text(re.compile(r"\b10:00\b")).first).to_be_visible()
    assert_accessible(page)
    act(page, CONFIRM)
    wait_for_status(visit, Appointment.Status.CONFIRMED)

    page.goto(links[0])
    act(page, CANCEL)
    wait_for_status(visit, Appointment.Status.CANCELLED)
    assert not visit.late_cancellation
    expect(page.get_by_text(re.compile("cancelled", re.IGNORECASE)).first).to_be_visible()
