"""The patient's side on a phone (Chromium, 390 × 844): the intake link and
the home-log link, each read from a real SMTP server (aiosmtpd), each page
checked with axe. Refusals are asserted visible, not only present."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from appointments import services as scheduling
from appointments.tests.scenario import next_monday, patient_plan, staff
from appointments.tests.test_browser_patient import inbox, send_due_reminders, text_of  # noqa: F401
from clinic.localtime import local_datetime
from clinic.tests.browser import assert_accessible, screenshot
from homecare import services
from homecare.models import HomeProgram, HomeSession, IntakeResponse
from homecare.tests.conftest import PROGRAM
from patients.screening import ANSWER_FIELDS
from treatments.models import TreatmentPlan

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def open_emailed_link(page, mailbox, settings, kind: str, heading: str) -> None:
    """Send what is due, read the one email from the SMTP server, open its
    `kind` link on a phone and check the page with axe."""
    send_due_reminders()
    (message,) = mailbox.wait_for(1)
    (link,) = set(re.findall(re.escape(settings.SITE_URL) + rf"/r/{kind}/[^\s\"'<>]+", text_of(message)))
    page.set_viewport_size(PHONE)
    page.goto(link)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert_accessible(page)


def test_a_new_patient_answers_the_intake_on_a_phone(page, inbox, settings):  # noqa: F811
    people = staff()
    plan = patient_plan("Noor", "Haddad", **{"tap_water": True})
    start = local_datetime(next_monday(), dt.time(10))
    scheduling.appointment_book(plan=plan, start=start, therapist=people["therapist"])
    open_emailed_link(page, inbox, settings, "intake", "Before your first visit")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Please answer yes or no.").first).to_be_visible()  # the refusal shows
    for name in ANSWER_FIELDS:
        page.locator(f"input[name={name}][value=no]").check()
    page.get_by_label(re.compile("3 — barely tolerable")).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("your answers reached the clinic")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "intake-phone")
    intake = IntakeResponse.objects.get()
    assert intake.hdss == 3 and not any(intake.answers.values())


def test_a_home_patient_logs_sessions_on_a_phone_and_a_blister_pauses_the_program(page, inbox, settings):  # noqa: F811
    people = staff()
    plan = patient_plan("Ivo", "Marsh", **{"tap_water": True})
    program = services.program_start(plan=plan, user=people["therapist"].user, values=PROGRAM)
    open_emailed_link(page, inbox, settings, "home", "My home program")
    page.get_by_label("Current the unit showed (mA)").fill("31")
    page.get_by_label("No reaction").check()
    page.get_by_role("button", name="Save this session").click()
    expect(page.get_by_text("up to 25 mA").first).to_be_visible()
    page.get_by_label("Current the unit showed (mA)").fill("14")
    page.get_by_label("No reaction").check()
    page.get_by_role("button", name="Save this session").click()
    expect(page.get_by_text(re.compile("Saved: your session of"))).to_be_visible()
    expect(page.get_by_role("cell", name="No reaction")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "home-log-phone", full_page=True)
    # The next day the skin blistered: the program pauses until the clinic reviews it.
    HomeSession.objects.update(date=HomeSession.objects.get().date - dt.timedelta(days=1))
    page.get_by_label("Blisters").check()
    page.get_by_role("button", name="Save this session").click()
    expect(page.get_by_text(re.compile("paused until the clinic has looked")).first).to_be_visible()
    expect(page.get_by_role("button", name="Save this session")).to_have_count(0)
    program.refresh_from_db()
    assert program.status == HomeProgram.Status.PAUSED
    assert program.plan.status == TreatmentPlan.Status.ON_HOLD
    assert_accessible(page)
