"""The front desk's day in a real browser: find a patient, book a series
from the plan with a preview, see it on the calendar, move one session,
cancel another (and see who on the waitlist could take it), check a patient
in; and booking a session with the keyboard alone."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import expect

from appointments.models import Appointment, WaitlistEntry
from appointments.tests.scenario import next_monday, patient_plan, staff, visit_today
from clinic.localtime import local_date, local_datetime
from clinic.tests.browser import assert_accessible, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def when(moment: dt.datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def test_front_desk_books_a_series_moves_and_cancels_sessions_and_checks_a_patient_in(page):
    people = staff()
    plan = patient_plan("Maria", "Lopez")
    waiting = patient_plan("John", "Waiting")
    WaitlistEntry.objects.create(patient=waiting.patient, plan=waiting, notes="Any morning")
    arrival = visit_today(patient_plan("Sam", "Arrival"), people["therapist"], people["room"])
    first = next_monday()

    page.goto("/")
    expect(page.get_by_role("heading", name="Log in to")).to_be_visible()
    screenshot(page, "login")
    login(page, "frontdesk")
    expect(page.get_by_role("heading", name="Welcome, Fran Desk")).to_be_visible()
    expect(page.get_by_role("button", name="Check in Sam Arrival")).to_be_visible()

    # Find the patient and open the plan.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Search patients").fill("lopez")
    page.get_by_label("Search patients").press("Enter")
    page.get_by_role("link", name="Lopez, Maria").click()
    page.get_by_role("link", name=re.compile(r"^Iontophoresis · Lateral epicondyle")).click()
    page.get_by_role("link", name="Book series").click()

    # Preview the series, then book it.
    page.get_by_label("First session: Date").fill(first.isoformat())
    page.get_by_label("First session: Time").fill("10:00")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("All sessions fit. Check them, then book.")).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(6)
    screenshot(page, "series-preview")
    page.get_by_role("button", name="Book 6 sessions").click()
    expect(page.get_by_role("alert").filter(has_text="Booked 6 sessions")).to_be_visible()
    booked = list(Appointment.objects.filter(plan=plan).order_by("start"))
    assert len(booked) == 6 and local_date(booked[0].start) == first

    # See it on the calendar: the first week holds two of the sessions.
    page.get_by_role("link", name="Week on the calendar").click()
    events = page.locator(".fc-event", has_text="Lopez, M.")
    expect(events).to_have_count(2)
    screenshot(page, "calendar")

    # Move the second session to the afternoon of the same day.
    second, third = booked[1], booked[2]
    events.nth(1).click()
    expect(page.get_by_role("heading", name=re.compile("Maria Lopez"))).to_be_visible()
    page.get_by_label("New start: Time").fill("14:00")
    page.get_by_role("button", name="Move visit").click()
    expect(page.get_by_role("alert").filter(has_text="The visit is moved.")).to_be_visible()
    moved = local_datetime(local_date(second.start), dt.time(14))
    expect(page.get_by_text(when(moved))).to_be_visible()
    second.refresh_from_db()
    assert second.start == moved

    # Cancel the third: the page offers the next free slot and the waitlist.
    page.get_by_role("link", name="plan", exact=True).click()
    page.get_by_role("link", name=when(third.start)).click()
    page.get_by_label("Reason for cancelling").fill("Patient travelling")
    page.get_by_role("button", name="Cancel visit").click()
    expect(page.get_by_role("alert").filter(has_text="The visit is cancelled.")).to_be_visible()
    expect(page.get_by_text("Next free slot for this plan")).to_be_visible()
    matches = page.get_by_role("region", name="Waitlist patients who could take this slot")
    expect(matches.get_by_text("John Waiting")).to_be_visible()
    third.refresh_from_db()
    assert third.status == Appointment.Status.CANCELLED and not third.late_cancellation

    # Check today's patient in from the day sheet.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Day sheet").click()
    page.get_by_role("button", name="Check in Sam Arrival").click()
    expect(page.get_by_role("alert").filter(has_text="Sam Arrival is checked in.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Arrival, Sam")
    expect(row.get_by_text("Checked in", exact=True)).to_be_visible()
    arrival.refresh_from_db()
    assert arrival.status == Appointment.Status.CHECKED_IN
    assert_accessible(page)


def test_a_session_can_be_booked_with_the_keyboard_alone(page):
    staff()
    plan = patient_plan("Kim", "Keys")
    login(page, "frontdesk")
    page.goto(f"/schedule/book/?plan={plan.pk}")
    expect(page.get_by_role("heading", name="Book a session · Kim Keys")).to_be_visible()

    def tab_to(button: str, limit: int = 60) -> None:
        """Press Tab until a button whose name starts with `button` has the focus."""
        for _ in range(limit):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                """() => { const el = document.activeElement;
                  return el.tagName + ":" + (el.getAttribute("aria-label") || el.textContent).trim(); }"""
            )
            if focused.startswith(f"BUTTON:{button}"):
                return
        raise AssertionError(f"Tab never reached the button {button!r}")

    tab_to("Search")
    page.keyboard.press("Enter")
    first_slot = page.get_by_role("button", name=re.compile(r"^Book ")).first
    expect(first_slot).to_be_visible()
    tab_to("Book ")
    label = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="Booked")).to_be_visible()
    booked = Appointment.objects.get(plan=plan)
    assert label.startswith(f"Book {date_format(timezone.localtime(booked.start), 'DATETIME_FORMAT')}")
