"""The therapist's session in a real browser: the day sheet, the checked-in
visit's note, the out-of-range confirmation (R7), signing with the password
(R10), and the plan's progress chart."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from appointments.tests.scenario import patient_plan, staff, visit_today
from clinic.tests.browser import assert_accessible, login, screenshot
from notes.models import SessionNote

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def earlier_sessions(plan, therapist, room, pains):
    """Signed notes of earlier visits, so the chart has a trend to show."""
    user = therapist.user
    for weeks_ago, (before, after) in zip(range(len(pains), 0, -1), pains, strict=True):
        start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=3 * weeks_ago + 1)
        visit = Appointment.objects.create(
            patient=plan.patient,
            plan=plan,
            therapist=therapist,
            room=room,
            start=start,
            end=start + dt.timedelta(minutes=30),
            status=Appointment.Status.COMPLETED,
        )
        SessionNote.objects.create(
            appointment=visit,
            status=SessionNote.Status.SIGNED,
            signed_by=user,
            signed_at=start + dt.timedelta(minutes=40),
            current_ma=Decimal("4"),
            treatment_minutes=Decimal("10"),
            dose_ma_min=Decimal("40"),
            polarity="negative",
            skin_before="normal",
            skin_after="erythema",
            pain_before=before,
            pain_after=after,
            timed_minutes=10,
            cpt_code="97033",
            billing_units=1,
        )


def test_therapist_writes_confirms_and_signs_a_note_then_sees_the_progress_chart(page):
    people = staff()
    plan = patient_plan("Maria", "Lopez")
    earlier_sessions(plan, people["therapist"], people["room"], [(7, 5), (6, 4)])
    visit = visit_today(plan, people["therapist"], people["room"], status=Appointment.Status.CHECKED_IN)

    login(page, "therapist")
    expect(page.get_by_role("heading", name="My day")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Day sheet").click()
    row = page.get_by_role("row").filter(has_text="Lopez, Maria")
    expect(row.get_by_text("Checked in", exact=True)).to_be_visible()
    row.get_by_role("link", name="Write note").click()
    expect(page.get_by_role("heading", name="Session note · Maria Lopez")).to_be_visible()

    # 4 mA for 8 min is 32 mA·min: below the typical 40–80, so it needs a confirmation.
    page.get_by_label("Current (mA)").fill("4")
    page.get_by_label("Treatment time (min)").fill("8")
    page.get_by_label("Medication lot").fill("DX-4471")
    page.get_by_label("Medication expiry").fill((timezone.localdate() + dt.timedelta(days=200)).isoformat())
    page.get_by_label("Medication volume (mL)").fill("1.5")
    page.get_by_label("Skin before").select_option("normal")
    page.get_by_label("Skin after").select_option("erythema")
    page.get_by_label("Pain before").fill("5")
    page.get_by_label("Pain after").fill("3")
    page.get_by_label("Subjective").fill("Elbow pain easing since last session.")
    page.get_by_role("button", name="Save note").click()
    confirm = page.get_by_label("I confirm the values outside the typical range")
    expect(page.get_by_text("typical", exact=False).first).to_be_visible()
    # R18: the timed minutes (10, from the plan) exceed the 8 minutes delivered.
    expect(page.get_by_text("Timed minutes cannot exceed the treatment time delivered")).to_be_visible()
    assert not SessionNote.objects.filter(appointment=visit).exists()
    assert_accessible(page)

    page.get_by_label("Timed minutes").fill("8")
    confirm.check()
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_role("alert").filter(has_text="Note saved.")).to_be_visible()
    screenshot(page, "note")

    page.get_by_label("Your password").fill("phoresis-demo")
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_role("alert").filter(has_text="Note signed. The visit is completed.")).to_be_visible()
    note = SessionNote.objects.get(appointment=visit)
    assert note.status == SessionNote.Status.SIGNED and note.dose_ma_min == Decimal("32")
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED

    page.get_by_role("link", name="Plan progress").click()
    expect(page.get_by_role("heading", name="Treatment summary · Maria Lopez")).to_be_visible()
    chart = page.get_by_role("img", name="Pain before and after each session")
    expect(chart).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart('pain-chart')")
    points = page.evaluate("() => Chart.getChart('pain-chart').data.datasets.map((d) => d.data)")
    assert points == [[7, 6, 5], [5, 4, 3]]
    expect(page.get_by_role("row")).to_have_count(4)  # header and three sessions
    screenshot(page, "progress")
    assert_accessible(page)


def test_a_held_plan_is_flagged_at_the_front_desk_and_a_therapist_starts_maintenance(page):
    from django.urls import reverse

    from treatments import services as plans

    people = staff()
    held = patient_plan("Nora", "Held")
    visit_today(held, people["therapist"], people["room"], minutes_ago=-60)
    plans.plan_hold(plan=held, user=people["therapist"].user, reason="Burn review")
    sweat = patient_plan("Sam", "Sweat", tap_water=True, maintenance_interval_days=None)

    login(page, "frontdesk")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Day sheet").click()
    row = page.get_by_role("row").filter(has_text="Held, Nora")
    expect(row.get_by_text("Plan on hold — ask the therapist")).to_be_visible()
    expect(row.get_by_role("button", name="Check in Nora Held")).to_have_count(0)
    assert_accessible(page)

    page.context.clear_cookies()
    login(page, "therapist")
    page.goto(reverse("treatments:detail", kwargs={"pk": sweat.pk}))
    page.get_by_role("link", name="Start maintenance").first.click()
    page.get_by_label("Maintenance interval (days)").fill("400")
    page.get_by_role("button", name="Start maintenance").click()
    expect(page.get_by_text("Give the maintenance interval in days")).to_be_visible()
    expect(page.get_by_label("Maintenance interval (days)")).to_have_value("400")
    assert_accessible(page)
    page.get_by_label("Maintenance interval (days)").fill("14")
    page.get_by_role("button", name="Start maintenance").click()
    expect(page.get_by_role("alert").filter(has_text="Plan in maintenance")).to_be_visible()
    sweat.refresh_from_db()
    assert (sweat.phase, sweat.maintenance_interval_days) == ("maintenance", 14)
