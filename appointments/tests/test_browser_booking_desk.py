"""The booking desk in a real browser (issue 16): refusals are visible next
to the field and in a summary on each form; a new patient's evaluation is
booked from the chart; the day by therapist books on a click; a drag asks,
shows the result and can be undone; a named therapist binds a series; axe
finds nothing serious on the calendar with a visit of every status."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments import services
from appointments.models import Appointment, ClinicClosure, TherapistException, WaitlistEntry
from appointments.tests.factories import TherapistFactory
from appointments.tests.scenario import ALL_WEEK, next_monday, patient_plan, staff
from clinic.localtime import clinic_tz, local_date, local_datetime
from clinic.tests.browser import assert_accessible, login

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _visible_twice(page, message: str) -> None:
    """The refusal is visible in the summary and next to its field."""
    expect(page.locator("[data-error-summary]").filter(has_text=message)).to_be_visible()
    expect(page.locator(".invalid-feedback").filter(has_text=message).first).to_be_visible()
    assert page.locator(".invalid-feedback").filter(has_text=message).first.is_visible()


def test_new_patient_evaluation_with_visible_refusals(page):
    staff()
    monday = next_monday()
    ClinicClosure.objects.create(start_date=monday, end_date=monday, reason="Christmas Day")
    login(page, "frontdesk")

    # Register the patient, as on the phone.
    page.goto("/patients/new/")
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Newcomer")
    page.get_by_label("Date of birth").fill("1985-03-04")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=re.compile("Newcomer, Nora"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Book an evaluation").click()
    expect(page.get_by_role("heading", name=re.compile("Book an evaluation"))).to_be_visible()
    # A closure is refused, visibly, and the input is kept.
    page.get_by_label("Start: Date").fill(monday.isoformat())
    page.get_by_label("Start: Time").fill("10:00")
    page.get_by_role("button", name="Book the evaluation").click()
    _visible_twice(page, f"The clinic is closed on {monday:%a %d %b %Y} (Christmas Day).")
    expect(page.get_by_label("Start: Date")).to_have_value(monday.isoformat())
    assert_accessible(page)

    # The slot finder, grouped by day, then a valid time.
    tuesday = monday + dt.timedelta(days=1)
    page.locator("#search_date_from").fill(tuesday.isoformat())
    page.locator("#search_date_to").fill(tuesday.isoformat())
    page.get_by_label("Starting after").fill("10:00")
    page.get_by_label("Ending by").fill("12:00")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-slot-total]")).to_contain_text("free slots on 1 day")
    page.get_by_role("button", name=re.compile(r"^Book .* 10:00")).first.click()
    expect(page.get_by_text("Evaluation (no plan yet)")).to_be_visible()
    visit = Appointment.objects.get(patient__last_name="Newcomer")
    assert visit.kind == Appointment.Kind.EVALUATION and visit.plan_id is None
    assert visit.start == local_datetime(tuesday, dt.time(10))
    assert_accessible(page)


@pytest.mark.parametrize("form", ["book", "reschedule", "series", "waitlist", "patient"])
def test_a_refused_value_is_visible_on_each_form(page, form):
    people = staff()
    plan = patient_plan("Vera", "Visible")
    monday = next_monday()
    saturday = monday + dt.timedelta(days=5)
    # Theo works every day 07:00–20:00 in the scenario: 21:00 is outside his hours.
    login(page, "frontdesk")
    if form == "book":
        page.goto(f"/schedule/book/?plan={plan.pk}")
        page.get_by_label("Start: Date").fill(monday.isoformat())
        page.get_by_label("Start: Time").fill("21:00")
        page.get_by_role("button", name="Book", exact=True).click()
        _visible_twice(page, "outside Theo Rapist, PT's working hours")
    elif form == "reschedule":
        visit = services.appointment_book(
            plan=plan, start=local_datetime(monday, dt.time(10)), therapist=people["therapist"]
        )
        page.goto(f"/schedule/{visit.pk}/")
        page.get_by_label("New start: Date").fill(saturday.isoformat())
        page.get_by_label("New start: Time").fill("21:00")
        page.get_by_role("button", name="Move visit").click()
        _visible_twice(page, "outside Theo Rapist, PT's working hours")
    elif form == "series":
        page.goto(f"/schedule/plans/{plan.pk}/series/")
        page.get_by_label("First session: Date").fill("2020-01-06")
        page.get_by_label("First session: Time").fill("10:00")
        page.get_by_role("button", name="Preview").click()
        _visible_twice(page, "The first session cannot be in the past.")
    elif form == "waitlist":
        page.goto(f"/schedule/waitlist/add/?plan={plan.pk}")
        page.locator("#id_preferred_time_from").fill("12:00")
        page.locator("#id_preferred_time_to").fill("09:00")
        page.get_by_role("button", name=re.compile("Add|Save")).click()
        _visible_twice(page, "The end of the window must be after its start.")
    elif form == "patient":
        page.goto("/patients/new/")
        page.get_by_label("First name").fill("Future")
        page.get_by_label("Last name").fill("Born")
        page.get_by_label("Date of birth").fill((timezone.localdate() + dt.timedelta(days=30)).isoformat())
        page.get_by_role("button", name="Save").click()
        expect(page.locator("[data-error-summary]")).to_be_visible()
        expect(page.locator(".invalid-feedback").first).to_be_visible()
    assert_accessible(page)


def test_click_on_free_time_in_the_day_by_therapist_books_a_prefilled_session(page):
    people = staff()
    tess = TherapistFactory(display_name="Tess Second, PT", hours=ALL_WEEK)
    plan = patient_plan("Carl", "Click")
    monday = next_monday()
    login(page, "frontdesk")
    page.goto(f"/schedule/?view=day&date={monday.isoformat()}")
    columns = page.locator(".resource-column")
    expect(columns).to_have_count(2)
    theo = page.get_by_role("region", name=people["therapist"].display_name)
    expect(theo.get_by_role("heading", name=people["therapist"].display_name)).to_be_visible()
    assert_accessible(page)
    # Click Tess's 10:00 line.
    column = page.get_by_role("region", name="Tess Second, PT")
    lane = column.locator('td.fc-timegrid-slot-lane[data-time="10:00:00"]')
    lane.click()
    page.wait_for_url(re.compile(r"/schedule/new/"))
    expect(page.get_by_role("heading", name=re.compile("with Tess Second"))).to_be_visible()
    page.get_by_label(re.compile("^Patient")).fill("click")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=re.compile("Session · Iontophoresis")).click()
    expect(page.get_by_label("Start: Date")).to_have_value(monday.isoformat())
    expect(page.get_by_label("Start: Time")).to_have_value("10:00")
    expect(page.locator("#id_therapist")).to_have_value(str(tess.pk))
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Booked")).to_be_visible()
    visit = Appointment.objects.get(plan=plan)
    assert visit.therapist == tess and visit.start == local_datetime(monday, dt.time(10))


def test_drag_asks_shows_the_result_and_undoes(page):
    people = staff()
    plan = patient_plan("Dora", "Drag")
    monday = next_monday()
    visit = services.appointment_book(
        plan=plan, start=local_datetime(monday, dt.time(10)), therapist=people["therapist"]
    )
    login(page, "frontdesk")
    page.goto(f"/schedule/?view=week&date={monday.isoformat()}")
    event = page.locator(".fc-event", has_text="Drag, D.")
    expect(event).to_be_visible()
    target = page.locator('td.fc-timegrid-slot-lane[data-time="12:00:00"]')
    box, goal = event.bounding_box(), target.bounding_box()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, goal["y"] + 5, steps=12)
    page.mouse.up()
    notice = page.locator("#calendar-notice")
    expect(notice).to_contain_text("Moved Drag, D.")
    assert dialogs and "Move Drag, D." in dialogs[0]
    visit.refresh_from_db()
    assert visit.start.astimezone(clinic_tz()).time() == dt.time(12)
    # A screen reader hears the moved event's new time, then its details.
    name = re.compile(r"^12:00 - 12:30\b.*Drag, D\..*Theo Rapist, PT · Room 1 · 1 of 6 · Scheduled$")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    assert_accessible(page)
    notice.get_by_role("button", name="Undo").click()
    expect(notice).to_contain_text("Moved back")
    visit.refresh_from_db()
    assert visit.start == local_datetime(monday, dt.time(10))


def test_a_named_therapist_binds_the_series_and_the_preview_says_where_not(page):
    people = staff()
    plan = patient_plan("Bea", "Binding")
    monday = next_monday()
    tuesday_next = monday + dt.timedelta(days=4)  # the series' second session (Mon, Fri, …)
    TherapistException.objects.create(
        therapist=people["therapist"],
        kind=TherapistException.Kind.LEAVE,
        start=local_datetime(tuesday_next, dt.time(0)),
        end=local_datetime(tuesday_next + dt.timedelta(days=1), dt.time(0)),
    )
    TherapistFactory(display_name="Other Therapist", hours=ALL_WEEK)
    login(page, "frontdesk")
    page.goto(f"/schedule/plans/{plan.pk}/series/")
    page.get_by_label("First session: Date").fill(monday.isoformat())
    page.get_by_label("First session: Time").fill("10:00")
    page.get_by_label("Therapist").select_option(label=people["therapist"].display_name)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Some sessions cannot be placed")).to_be_visible()
    expect(page.locator("tr.table-danger").first).to_contain_text("is away")
    expect(page.get_by_role("button", name=re.compile("^Book \\d+ sessions"))).to_have_count(0)
    assert_accessible(page)
    assert not Appointment.objects.exists()


def test_calendar_with_every_status_is_accessible(page):
    people = staff()
    now = timezone.now().astimezone(clinic_tz())
    day = local_date(now)
    statuses = [
        Appointment.Status.SCHEDULED,
        Appointment.Status.CONFIRMED,
        Appointment.Status.CHECKED_IN,
        Appointment.Status.COMPLETED,
        Appointment.Status.NO_SHOW,
        Appointment.Status.CANCELLED,
    ]
    for i, status in enumerate(statuses):
        plan = patient_plan("Stat", f"Us{i}")
        start = local_datetime(day, dt.time(8 + i * 2))
        Appointment.objects.create(
            patient=plan.patient,
            plan=plan,
            therapist=people["therapist"],
            room=people["room"],
            start=start,
            end=start + dt.timedelta(minutes=30),
            status=status,
        )
    waiting = patient_plan("Wait", "Ing")
    WaitlistEntry.objects.create(patient=waiting.patient, plan=waiting)
    login(page, "frontdesk")
    for view in ("week", "day"):
        page.goto(f"/schedule/?view={view}&date={day.isoformat()}")
        expect(page.locator(".fc-event:not(.fc-bg-event)").first).to_be_visible()
        assert_accessible(page)
    page.goto(f"/schedule/day/?date={day.isoformat()}")
    assert_accessible(page)


def test_a_refused_plan_is_visible_in_the_summary_and_by_the_field(page):
    staff()
    patient = patient_plan("Pia", "Planform").patient
    login(page, "therapist")
    page.goto(f"/plans/new/{patient.pk}/")
    page.get_by_role("button", name=re.compile("^Save")).click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    assert summary.locator("li").count() >= 1
    assert_accessible(page)
