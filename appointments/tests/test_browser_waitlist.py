"""The front desk cancels a visit, sees who on the waitlist could take the
slot, and books them from the prefilled form; a duplicate patient warning;
the authorization page — in a real browser."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from appointments import services
from appointments.models import Appointment, WaitlistEntry
from appointments.tests.scenario import next_monday, patient_plan, staff
from clinic.localtime import local_datetime
from clinic.tests.browser import assert_accessible, login

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_cancel_a_visit_see_the_match_and_book_it_from_the_prefilled_form(page):
    people = staff()
    plan = patient_plan("Maria", "Lopez")
    waiting = patient_plan("John", "Waiting")
    services.waitlist_add(plan=waiting)
    start = local_datetime(next_monday(), dt.time(10))
    visit = services.appointment_book(plan=plan, start=start, therapist=people["therapist"])

    login(page, "frontdesk")
    page.goto(f"/schedule/{visit.pk}/")
    page.get_by_label("Reason for cancelling").fill("Patient travelling")
    page.get_by_role("button", name="Cancel visit").click()
    expect(page.get_by_role("alert").filter(has_text="The visit is cancelled.")).to_be_visible()
    matches = page.get_by_role("region", name="Waitlist patients who could take this slot")
    matches.get_by_role("link", name="book John Waiting into this slot").click()

    expect(page.get_by_role("heading", name="Book a session · John Waiting")).to_be_visible()
    expect(page.get_by_label("Start: Date")).to_have_value(start.date().isoformat())
    expect(page.get_by_label("Start: Time")).to_have_value("10:00")
    assert_accessible(page)
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Booked")).to_be_visible()
    booked = Appointment.objects.get(plan=waiting)
    assert booked.start == start and booked.therapist == people["therapist"]
    assert not WaitlistEntry.objects.get(plan=waiting).is_active


def test_duplicate_warning_lists_the_chart_and_a_nav_search_finds_it(page):
    staff()
    existing = patient_plan("Avery", "Ashdown").patient
    login(page, "frontdesk")
    page.goto("/patients/new/")
    page.get_by_label("First name").fill("Avery")
    page.get_by_label("Last name").fill("Ashdowne")
    page.get_by_label("Date of birth").fill(existing.date_of_birth.isoformat())
    page.get_by_role("button", name="Save").click()
    warning = page.get_by_role("alert").filter(has_text="Possible duplicate")
    expect(warning.get_by_role("link", name="Ashdown, Avery")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Find patient").fill("Ashdown, Avery")
    page.get_by_label("Find patient").press("Enter")
    expect(page.get_by_role("link", name="Ashdown, Avery")).to_be_visible()
    assert_accessible(page)
