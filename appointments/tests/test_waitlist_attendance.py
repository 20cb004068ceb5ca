"""Waitlist matches that can be booked, attendance (R12) and the message log
links (issue 17, items 5–7)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from appointments import reminders, selectors, services
from appointments.models import Appointment, Reminder, WaitlistEntry
from appointments.tests.factories import TherapistFactory
from appointments.tests.reminders_support import scan_outbox_fixture  # noqa: F401
from patients.models import Payer
from patients.tests.factories import ScreeningFactory
from treatments import services as plans
from treatments.authorizations import authorization_create
from treatments.models import TreatmentPlan
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def other_plan(**kwargs):
    plan = PlanFactory(**kwargs)
    ScreeningFactory(patient=plan.patient)
    return plan


@pytest.fixture
def freed(plan, therapist, room, device, at):
    """Tuesday 09:00 with Theo, booked then cancelled: the slot is free."""
    visit = services.appointment_book(plan=plan, start=at(1, "09:00"), therapist=therapist)
    return services.appointment_cancel(appointment=visit, reason="Patient is travelling")


def slot_matches(freed):
    return selectors.waitlist_matches(
        start=freed.start,
        end=freed.end,
        modality=freed.plan.modality,
        exclude_plan=freed.plan_id,
        therapist=freed.therapist_id,
        bookable=services.entry_bookable,
    )


# -- matches pass every booking rule ------------------------------------------------
def test_a_waiting_patient_who_can_be_booked_is_matched(freed):
    waiting = services.waitlist_add(plan=other_plan())
    assert slot_matches(freed) == [waiting]


def test_a_session_21_hours_earlier_rules_the_match_out_r5(freed, therapist, at):
    other = other_plan()
    services.appointment_book(plan=other, start=at(0, "12:00"), therapist=TherapistFactory())
    services.waitlist_add(plan=other)
    assert slot_matches(freed) == []
    assert any(
        p.code == "R5.interval"
        for p in services.match_problems(WaitlistEntry.objects.get(), freed.start, therapist=therapist)
    )


def test_a_used_up_authorization_rules_the_match_out_r22(freed, monday):
    other = other_plan()
    services.waitlist_add(plan=other)
    payer = Payer.objects.create(name="Synthetic Mutual")
    authorization_create(
        plan=other,
        data={
            "payer": payer,
            "number": "X",
            "visits_authorized": 1,
            "valid_from": monday + dt.timedelta(days=5),
            "valid_to": monday + dt.timedelta(days=9),
        },
    )
    assert slot_matches(freed) == []


def test_a_patient_with_another_visit_that_day_is_not_matched(freed):
    other = other_plan()
    services.waitlist_add(plan=other)
    second = other_plan(patient=other.patient)
    later = freed.start + dt.timedelta(hours=6)
    Appointment.objects.create(
        patient=other.patient,
        plan=second,
        therapist=TherapistFactory(),
        room=freed.room,
        start=later,
        end=later + dt.timedelta(minutes=30),
    )
    assert slot_matches(freed) == []


def test_one_entry_per_active_plan_and_no_drafts(plan):
    services.waitlist_add(plan=plan)
    with pytest.raises(ValidationError) as caught:
        services.waitlist_add(plan=plan)
    assert "already on the waitlist" in caught.value.messages[0]
    draft = other_plan(status=TreatmentPlan.Status.DRAFT)
    with pytest.raises(ValidationError):
        services.waitlist_add(plan=draft)
    assert WaitlistEntry.objects.filter(is_active=True).count() == 1


def test_entries_leave_when_booked_into_the_slot_fully_booked_or_closed(freed, therapist, therapist_user, at):
    waiting = services.waitlist_add(plan=other_plan())
    services.appointment_book(plan=waiting.plan, start=freed.start, therapist=therapist)
    waiting.refresh_from_db()
    assert waiting.is_active is False
    small = other_plan(sessions_prescribed=1)
    entry = services.waitlist_add(plan=small, preferred_weekdays=[4])
    services.appointment_book(plan=small, start=at(0, "14:00"), therapist=therapist)
    entry.refresh_from_db()
    assert entry.is_active is False  # fully booked, though Monday was not its preferred day
    closing = other_plan()
    entry = services.waitlist_add(plan=closing)
    plans.plan_cancel(plan=closing, user=therapist_user, reason="Moved away")
    entry.refresh_from_db()
    assert entry.is_active is False


# -- pages: Book prefilled, plan list, weekday names --------------------------------
def test_visit_page_book_link_carries_the_freed_slot_and_prefills_the_form(client, front_desk, freed):
    waiting = services.waitlist_add(plan=other_plan())
    client.force_login(front_desk)
    page = client.get(reverse("appointments:detail", kwargs={"pk": freed.pk})).content.decode()
    assert waiting.patient.full_name in page
    start = timezone.localtime(freed.start)
    book = client.get(
        reverse("appointments:book"),
        {
            "plan": waiting.plan_id,
            "start": start.isoformat(),
            "therapist": freed.therapist_id,
            "room": freed.room_id,
        },
    )
    body = book.content.decode()
    assert f'value="{start:%Y-%m-%d}"' in body and f'value="{start:%H:%M}"' in body


def test_waitlist_form_lists_active_plans_by_patient_and_page_names_days(client, front_desk, plan):
    draft = other_plan(status=TreatmentPlan.Status.DRAFT)
    client.force_login(front_desk)
    form = client.get(reverse("appointments:waitlist_add")).content.decode()
    assert plan.patient.last_name in form and f'<option value="{draft.pk}"' not in form
    response = client.post(
        reverse("appointments:waitlist_add"), {"plan": plan.pk, "preferred_weekdays": ["1", "3"]}
    )
    assert response.status_code == 302
    page = client.get(reverse("appointments:waitlist")).content.decode()
    assert "Tue, Thu" in page
    again = client.post(reverse("appointments:waitlist_add"), {"plan": plan.pk})
    assert again.status_code == 400


# -- API --------------------------------------------------------------------------
def test_waitlist_api_adds_lists_and_matches(front_desk, plan, therapist, device):
    client = APIClient()
    client.force_authenticate(front_desk)
    response = client.post(
        "/api/v1/waitlist/",
        {"plan": plan.pk, "preferred_days": ["tuesday"], "earliest": "09:00", "latest": "12:00"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["preferred_days"] == ["tuesday"] and body["earliest"] == "09:00"
    assert client.post("/api/v1/waitlist/", {"plan": plan.pk}, format="json").status_code == 400
    matches = client.get(f"/api/v1/waitlist/{body['id']}/matches/").json()["results"]
    assert matches
    for slot in matches:
        start = dt.datetime.fromisoformat(slot["start"]).astimezone(timezone.get_current_timezone())
        assert start.weekday() == 1 and dt.time(9) <= start.time()
    bad = client.post("/api/v1/waitlist/", {"plan": plan.pk, "preferred_days": ["someday"]}, format="json")
    assert bad.status_code == 400 and "preferred_days" in bad.json()


# -- attendance (R12) ----------------------------------------------------------------
def test_only_a_scheduled_or_confirmed_visit_counts_as_a_late_cancellation(plan, therapist, room, device, at):
    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    now = visit.start - dt.timedelta(minutes=10)
    Appointment.objects.filter(pk=visit.pk).update(status=Appointment.Status.CHECKED_IN)
    visit.refresh_from_db()
    cancelled = services.appointment_cancel(appointment=visit, reason="Left before treatment", now=now)
    assert cancelled.late_cancellation is False
    other = services.appointment_book(plan=plan, start=at(3, "10:00"), therapist=therapist)
    late = services.appointment_cancel(
        appointment=other, reason="Sick", now=other.start - dt.timedelta(hours=2)
    )
    assert late.late_cancellation is True


def test_attendance_counts_the_last_twelve_months(plan, therapist, room, device, at):
    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    services.appointment_cancel(appointment=visit, reason="Sick", now=visit.start - dt.timedelta(hours=1))
    counts = selectors.attendance_for([plan.patient_id])[plan.patient_id]
    assert (counts.late_cancellations, counts.no_shows) == (1, 0)
    later = selectors.attendance_for([plan.patient_id], now=timezone.now() + dt.timedelta(days=400))
    assert not later[plan.patient_id].any


def test_a_late_cancellation_counts_from_when_it_was_cancelled(plan, therapist, room, device, at):
    # A visit left open after its time and cancelled today counts today, however
    # long ago its start was: the count bounds the cancellation, not the start.
    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    long_ago = dt.timedelta(days=500)
    Appointment.objects.filter(pk=visit.pk).update(start=visit.start - long_ago, end=visit.end - long_ago)
    visit.refresh_from_db()
    cancelled = services.appointment_cancel(appointment=visit, reason="Never came, never called")
    assert cancelled.late_cancellation is True
    counts = selectors.attendance_for([plan.patient_id])[plan.patient_id]
    assert (counts.late_cancellations, counts.no_shows) == (1, 0)


@pytest.mark.postgres
def test_attendance_reads_a_year_of_misses_through_its_own_indexes(plan, therapist, room, device, at):
    """On PostgreSQL the R12 count is a BitmapOr of the two partial indexes (a
    year of late cancellations and no-shows), not a scan of each patient's whole
    history, which at a million visits made the day sheet slower every month."""
    from django.db import connection

    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    history = []  # years of attended visits, as a long-standing patient has
    for days in range(1, 1500):
        start = visit.start - dt.timedelta(days=days)
        history.append(
            Appointment(
                kind=visit.kind, plan=plan, patient_id=plan.patient_id, therapist=therapist, room=room,
                device=device, start=start, end=start + (visit.end - visit.start),
                status=Appointment.Status.COMPLETED,
            )
        )  # fmt: skip
    Appointment.objects.bulk_create(history)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE appointments_appointment")
        plan_text = selectors.attendance_rows([plan.patient_id], now=timezone.now()).explain()
    assert "appt_patient_late_idx" in plan_text and "appt_patient_noshow_idx" in plan_text, plan_text


def test_late_cancel_warning_before_a_front_desk_cancel(
    client, front_desk, plan, therapist, room, device, at, time_machine
):
    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    client.force_login(front_desk)
    url = reverse("appointments:detail", kwargs={"pk": visit.pk})
    assert "late-cancel-warning" not in client.get(url).content.decode()
    time_machine.move_to(visit.start - dt.timedelta(hours=3))
    client.force_login(front_desk)  # the idle timeout ended the first session
    page = client.get(url).content.decode()
    assert "late-cancel-warning" in page and "late cancellation" in page


def test_attendance_shows_on_chart_day_sheet_and_booking_form(
    client, front_desk, plan, therapist, room, device, at
):
    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    services.appointment_cancel(appointment=visit, reason="Sick", now=visit.start - dt.timedelta(hours=1))
    again = services.appointment_book(plan=plan, start=at(2, "10:00"), therapist=therapist)
    client.force_login(front_desk)
    chart = client.get(reverse("patients:detail", kwargs={"pk": plan.patient_id})).content.decode()
    assert "1 late cancellation" in chart
    day = client.get(
        reverse("appointments:day"),
        {"date": again.start.astimezone(timezone.get_current_timezone()).date().isoformat()},
    ).content.decode()
    assert "<li>1 late cancellation, 0 no-shows in the last 12 months<" in day
    book = client.get(reverse("appointments:book"), {"plan": plan.pk}).content.decode()
    assert "1 late cancellation, 0 no-shows in the last 12 months" in book


# -- message log ---------------------------------------------------------------------
@pytest.mark.usefixtures("scan_outbox")
def test_message_log_is_linked_and_resend_only_for_the_current_slot(
    client, front_desk, plan, therapist, room, device, at
):
    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    reminders.reminders_sweep()
    services.appointment_reschedule(appointment=visit, start=at(0, "15:00"))
    reminders.reminders_sweep()
    client.force_login(front_desk)
    detail = client.get(reverse("appointments:detail", kwargs={"pk": visit.pk})).content.decode()
    assert reverse("appointments:messages", kwargs={"pk": visit.pk}) in detail
    chart = client.get(reverse("patients:detail", kwargs={"pk": plan.patient_id})).content.decode()
    assert reverse("appointments:patient_messages", kwargs={"patient_pk": plan.patient_id}) in chart
    old = Reminder.objects.get(kind="confirmation")
    log = client.get(reverse("appointments:messages", kwargs={"pk": visit.pk})).content.decode()
    assert reverse("appointments:message_resend", args=[old.pk]) not in log
    with pytest.raises(ValidationError):
        reminders.reminder_resend(reminder=old)
