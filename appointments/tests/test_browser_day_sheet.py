"""The day sheet's shared action form in a real browser (issue 19): each
row's button posts the one form to its own visit; a visit that has not
started offers no no-show; the day ahead offers no check-in; axe finds no
serious violation."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from appointments.tests.scenario import patient_plan, staff, visit_today
from clinic.localtime import clinic_tz, local_datetime
from clinic.tests.browser import assert_accessible, login

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_front_desk_checks_in_and_marks_a_no_show_from_the_day_sheet(page, time_machine):
    # Midday in the clinic, whenever the suite runs: the visit three hours on is still today.
    time_machine.move_to(local_datetime(timezone.localdate(), dt.time(12)), tick=True)
    people = staff()
    arrived = visit_today(patient_plan("Ann", "Early"), people["therapist"], people["room"], minutes_ago=20)
    missed = visit_today(patient_plan("Bob", "Absent"), people["therapist"], people["room"], minutes_ago=60)
    # Later today (made directly, like visit_today): may be checked in, cannot be a no-show yet.
    later_start = arrived.start + dt.timedelta(hours=3)
    assert later_start.astimezone(clinic_tz()).date() == timezone.localdate()
    later_plan = patient_plan("Cy", "Later")
    later = Appointment.objects.create(
        patient=later_plan.patient,
        plan=later_plan,
        therapist=people["therapist"],
        room=people["room"],
        device=arrived.device,
        start=later_start,
        end=later_start + dt.timedelta(minutes=later_plan.session_minutes),
    )

    login(page, "frontdesk")
    page.goto(reverse("appointments:day"))
    expect(page.get_by_role("button", name="Check in Cy Later")).to_be_visible()
    expect(page.get_by_role("button", name="Mark Cy Later as no-show")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("button", name="Check in Ann Early").click()
    expect(page.get_by_role("alert").filter(has_text="Ann Early is checked in.")).to_be_visible()
    page.get_by_role("button", name="Mark Bob Absent as no-show").click()
    expect(page.get_by_role("alert").filter(has_text="Bob Absent")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Early, Ann").get_by_role("button")).to_have_count(0)
    for visit, status in ((arrived, "checked_in"), (missed, "no_show"), (later, "scheduled")):
        visit.refresh_from_db()
        assert visit.status == status, (visit, visit.status)

    # Tomorrow, seen ahead: rows without actions.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    later.start, later.end = later.start + dt.timedelta(days=1), later.end + dt.timedelta(days=1)
    later.save(update_fields=["start", "end"])
    page.goto(f"{reverse('appointments:day')}?date={tomorrow.isoformat()}")
    expect(page.get_by_role("link", name="Later, Cy")).to_be_visible()
    expect(page.get_by_role("button", name="Check in Cy Later")).to_have_count(0)
