"""In the browser: a therapist finds their calendar feed on the dashboard,
replaces its address, and the old address is refused at once."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from appointments.models import Therapist
from appointments.tests.scenario import staff
from clinic.tests.browser import assert_accessible, login

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_therapist_replaces_their_calendar_feed_from_the_dashboard(page):
    theo = staff()["therapist"]
    old = theo.calendar_token
    login(page, "therapist")
    feed = page.get_by_label("Feed address")
    assert feed.input_value().endswith(f"calendar.ics?token={old}")
    assert_accessible(page)
    page.get_by_role("button", name="Replace the address").click()
    expect(page.get_by_text("The old one no longer works")).to_be_visible()
    new = Therapist.objects.get(pk=theo.pk).calendar_token
    assert new != old
    assert page.get_by_label("Feed address").input_value().endswith(f"calendar.ics?token={new}")
    assert Client().get("/api/v1/calendar.ics", {"token": old}).status_code == 403
    assert Client().get("/api/v1/calendar.ics", {"token": new}).status_code == 200
    assert_accessible(page)
