"""axe-core on every main page, as each role sees it: no serious or critical
violation (labels, contrast, landmarks, names). The pages carry realistic
data: a booked series, today's visits, a freed slot with a waiting patient,
a device falling due and a plan running out of authorized sessions. The
README's screenshots are taken here too, the day sheet also on tablets."""

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from appointments import services
from appointments.models import Appointment, Device, WaitlistEntry
from appointments.tests.scenario import next_monday, patient_plan, staff, visit_today
from clinic.tests.browser import axe_violations, login, screenshot
from notes.models import SessionNote

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TABLET_LANDSCAPE = {"width": 1024, "height": 768}
TABLET_PORTRAIT = {"width": 768, "height": 1024}


@pytest.fixture
def clinic_day():
    """A clinic in mid-week: everything a page can show, shown once."""
    from clinic.localtime import local_datetime

    people = staff()
    therapist, room = people["therapist"], people["room"]
    series_plan = patient_plan("Maria", "Lopez", sessions_authorized=6)
    first = next_monday()
    booked = services.series_book(plan=series_plan, start=local_datetime(first, dt.time(10)))
    services.appointment_cancel(appointment=booked[-1], reason="Moving house")
    waiting = patient_plan("John", "Waiting")
    WaitlistEntry.objects.create(patient=waiting.patient, plan=waiting, notes="Mornings")
    sam = patient_plan("Sam", "Arrival")
    checked_in = visit_today(sam, therapist, room, status="checked_in", minutes_ago=40)
    SessionNote.objects.create(appointment=checked_in, current_ma=4, treatment_minutes=10, pain_before=6)
    visit_today(patient_plan("Kim", "Keys", phono=True), therapist, room, minutes_ago=5)
    no_show_plan = patient_plan("Noel", "Absent")
    start = timezone.now() - dt.timedelta(minutes=90)
    if timezone.localdate(start) == timezone.localdate():
        Appointment.objects.create(
            patient=no_show_plan.patient,
            plan=no_show_plan,
            therapist=therapist,
            room=room,
            start=start,
            end=start + dt.timedelta(minutes=30),
            status=Appointment.Status.NO_SHOW,
        )
    Device.objects.filter(kind=Device.Kind.ULTRASOUND).update(
        calibration_due=timezone.localdate() + dt.timedelta(days=12)
    )
    return {
        **people,
        "plan": series_plan,
        "booked": booked,
        "first": first,
        "checked_in": checked_in,
        "waiting": waiting,
    }


def findings_on(page, name: str) -> list[str]:
    return [f"{name} ({page.url}): {v['impact']} {v['id']} {v['nodes'][:3]}" for v in axe_violations(page)]


def visit_all(page, pages: list[tuple[str, str]]) -> list[str]:
    """Open each page (name, path), wait for it to settle, run axe; the
    findings of every page, so one run names them all."""
    findings = []
    for name, path in pages:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        findings += findings_on(page, name)
    return findings


def test_login_page_is_accessible(page):
    page.goto(reverse("login"))
    assert axe_violations(page) == []


def test_front_desk_pages_are_accessible(page, clinic_day):
    plan, first = clinic_day["plan"], clinic_day["first"]
    login(page, "frontdesk")
    search = urlencode({"plan": plan.pk, "date_from": first.isoformat(), "date_to": first.isoformat()})
    findings = visit_all(
        page,
        [
            ("dashboard", reverse("home")),
            ("patient list", reverse("patients:list")),
            ("patient chart", reverse("patients:detail", args=[plan.patient_id])),
            ("plan", reverse("treatments:detail", args=[plan.pk])),
            ("day sheet", reverse("appointments:day")),
            ("visit", reverse("appointments:detail", args=[clinic_day["booked"][1].pk])),
            ("cancelled visit", reverse("appointments:detail", args=[clinic_day["booked"][-1].pk])),
            ("book", f"{reverse('appointments:book')}?{search}"),
            ("waitlist", reverse("appointments:waitlist")),
            ("waitlist form", reverse("appointments:waitlist_add")),
        ],
    )
    page.goto(f"{reverse('appointments:calendar')}?date={first.isoformat()}")
    expect(page.locator(".fc-event").first).to_be_visible()
    findings += findings_on(page, "calendar")

    page.goto(reverse("appointments:series", args=[clinic_day["waiting"].pk]))
    page.get_by_label("First session: Date").fill(first.isoformat())
    page.get_by_label("First session: Time").fill("08:00")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("button", name="Book 6 sessions")).to_be_visible()
    findings += findings_on(page, "series preview")
    assert not findings, "\n".join(findings)

    page.goto(reverse("home"))
    screenshot(page, "dashboard-front-desk")
    page.goto(reverse("appointments:day"))
    screenshot(page, "day-sheet")
    tablets = ((TABLET_LANDSCAPE, "day-sheet-tablet-landscape"), (TABLET_PORTRAIT, "day-sheet-tablet"))
    for size, name in tablets:
        page.set_viewport_size(size)
        page.reload()
        check_in = page.get_by_role("button", name="Check in Kim Keys")
        expect(check_in).to_be_in_viewport(ratio=1)
        box = check_in.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, "touch targets of at least 44 px"
        screenshot(page, name)


def _home_patient(clinic_day):
    """A tap-water patient treating at home, with a log and intake answers."""
    from homecare import services as home
    from homecare.tests.conftest import PROGRAM
    from patients.screening import ANSWER_FIELDS

    plan = patient_plan("Hana", "Home", tap_water=True)
    program = home.program_start(plan=plan, user=clinic_day["therapist"].user, values=PROGRAM)
    today = timezone.localdate()
    home.home_session_log(
        program=program,
        values={
            "date": today,
            "site": "hands",
            "minutes": 20,
            "current_ma": 14,
            "skin_reaction": "none",
            "hdss": 3,
        },
    )
    intake = home.intake_submit(
        appointment=clinic_day["booked"][0], answers={name: False for name in ANSWER_FIELDS}, hdss=2
    )
    return plan, intake


def test_therapist_pages_are_accessible(page, clinic_day):
    plan = clinic_day["plan"]
    home_plan, intake = _home_patient(clinic_day)
    login(page, "therapist")
    findings = visit_all(
        page,
        [
            ("dashboard", reverse("home")),
            ("day sheet", reverse("appointments:day")),
            ("patient chart", reverse("patients:detail", args=[plan.patient_id])),
            ("plan", reverse("treatments:detail", args=[plan.pk])),
            ("plan form", reverse("treatments:edit", args=[plan.pk])),
            ("new plan form", reverse("treatments:create", args=[plan.patient_id])),
            ("note", reverse("notes:note", args=[clinic_day["checked_in"].pk])),
            ("progress", reverse("notes:progress", args=[clinic_day["checked_in"].plan_id])),
            ("home plan", reverse("treatments:detail", args=[home_plan.pk])),
            ("home program", reverse("homecare:program", args=[home_plan.pk])),
            ("home progress", reverse("notes:progress", args=[home_plan.pk])),
            ("intake review", reverse("homecare:intake_review", args=[intake.pk])),
        ],
    )
    assert not findings, "\n".join(findings)
    page.goto(reverse("home"))
    screenshot(page, "dashboard-therapist")


def test_admin_dashboard_is_accessible(page, clinic_day):
    login(page, "admin")
    expect(page.get_by_role("heading", name="Devices due for calibration")).to_be_visible()
    expect(page.get_by_text("Sonicator 740")).to_be_visible()
    assert visit_all(page, [("dashboard", reverse("home")), ("billing", reverse("notes:billing"))]) == []
    page.goto(reverse("home"))
    screenshot(page, "dashboard-admin")
