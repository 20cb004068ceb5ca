"""What the emails say: clinic time with the zone (right across DST), an
.ics that calendars update in place, and no clinical words (R13)."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import resolve
from django.utils import timezone

from appointments import reminders, services
from appointments.models import Reminder
from appointments.reminders.content import when
from appointments.reminders.tokens import read_optout_token, read_token
from appointments.tests.factories import DeviceFactory
from appointments.tests.reminders_support import (
    FIXED_WORDS,
    NEW_YORK,
    assert_no_clinical_words,
    calendar_of,
    clinical_words,
    event_of,
    message_id,
    next_dst_change,
    outbox_messages,
    reminder_id,
    scan_outbox_fixture,  # noqa: F401
    texts_of,
)
from clinic.localtime import local_datetime
from homecare.tokens import read_intake
from patients.tests.factories import ScreeningFactory
from treatments.models import Modality
from treatments.tests.factories import PlanFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scan_outbox")]


def make_plan(room, **kwargs):
    plan = PlanFactory(indication="Lateral epicondylitis", icd10_code="M77.11", **kwargs)
    ScreeningFactory(patient=plan.patient)
    return plan


def kinds_sent():
    by_id = dict(Reminder.objects.values_list("pk", "kind"))
    return [(by_id[reminder_id(m)], m) for m in outbox_messages()]


def test_when_names_the_zone_on_either_side_of_a_dst_change():
    assert when(dt.datetime(2027, 3, 15, 13, 0, tzinfo=dt.UTC)) == "Mon 15 Mar 2027, 09:00 EDT"
    assert when(dt.datetime(2027, 3, 12, 14, 0, tzinfo=dt.UTC)) == "Fri 12 Mar 2027, 09:00 EST"


@pytest.mark.parametrize("spring", [True, False], ids=["spring-forward", "fall-back"])
def test_a_0900_visit_the_day_after_the_dst_change_shows_0900(therapist, room, device, spring):
    change = next_dst_change(dt.date.today() + dt.timedelta(days=3), spring=spring)
    visit_day = change + dt.timedelta(days=1)
    while visit_day.weekday() > 4:  # the therapist works Monday to Friday
        visit_day += dt.timedelta(days=7)
    zone = "EDT" if spring else "EST"
    start = local_datetime(visit_day, dt.time(9, 0))
    plan = make_plan(room)
    with time_machine.travel(start - dt.timedelta(days=6), tick=False):
        appointment = services.appointment_book(plan=plan, start=start, therapist=therapist)
        reminders.reminders_sweep()  # the confirmation, sent before the change
    with time_machine.travel(start - dt.timedelta(hours=23), tick=False):  # after the change
        reminders.reminders_sweep()
    sent = kinds_sent()
    assert [kind for kind, _ in sent] == ["confirmation", "reminder"]
    expected = f"{visit_day:%a} {visit_day.day} {visit_day:%b %Y}, 09:00 {zone}"  # as in the app
    for _, message in sent:
        assert expected in message["subject"]
        assert all(expected in text for text in texts_of(message)[1:3])  # plain and HTML
        event = event_of(message)
        assert event["DTSTART"].params["TZID"] == "America/New_York"
        assert event.decoded("DTSTART") == start
        assert event.decoded("DTSTART").astimezone(NEW_YORK).strftime("%H:%M") == "09:00"
        assert "DTSTART;TZID=America/New_York:" + visit_day.strftime("%Y%m%d") + "T090000" in (
            calendar_of(message).to_ical().decode()
        )
        assert calendar_of(message).walk("VTIMEZONE")[0]["TZID"] == "America/New_York"
    assert appointment.pk


def test_the_ics_keeps_its_uid_raises_sequence_on_reschedule_and_cancels(therapist, room, device, at):
    plan = make_plan(room)
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    reminders.reminders_sweep()
    appointment = services.appointment_reschedule(appointment=appointment, start=at(2, "14:30"))
    reminders.reminders_sweep()
    services.appointment_cancel(appointment=appointment, reason="Patient ill")
    reminders.reminders_sweep()
    sent = dict(kinds_sent())
    events = {kind: event_of(message) for kind, message in sent.items()}
    calendars = {kind: calendar_of(message) for kind, message in sent.items()}
    assert len({str(e["UID"]) for e in events.values()}) == 1
    assert str(events["confirmation"]["UID"]).startswith(f"appointment-{appointment.pk}@")
    sequences = [int(events[k]["SEQUENCE"]) for k in ("confirmation", "rescheduled", "cancellation")]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert str(calendars["confirmation"]["METHOD"]) == "PUBLISH"
    assert str(calendars["rescheduled"]["METHOD"]) == "PUBLISH"
    assert events["rescheduled"].decoded("DTSTART") == at(2, "14:30")
    assert str(calendars["cancellation"]["METHOD"]) == "CANCEL"
    assert str(events["cancellation"]["STATUS"]) == "CANCELLED"
    assert str(events["confirmation"]["SUMMARY"]) == "Appointment at Phoresis Demo Clinic"


def test_the_email_has_text_and_html_with_the_clinic_and_working_links(therapist, room, device, at, settings):
    settings.CLINIC_NAME = "Lakeside & Co Physical Therapy"
    plan = make_plan(room)
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    reminders.reminders_sweep()
    (message,) = outbox_messages()
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for text in (plain, html):
        assert settings.CLINIC_ADDRESS in text and settings.CLINIC_PHONE in text
    assert "Lakeside & Co" in plain and "Lakeside &amp; Co" in html
    assert "Lakeside & Co" in message["subject"]
    links = re.findall(r"http://127\.0\.0\.1:8000(/r/\S+?/)(?:\s|$)", plain)
    assert len(links) == 6
    names = set()
    for path in links:
        match = resolve(path)
        names.add(match.url_name)
        if match.url_name == "unsubscribe":
            assert read_optout_token(match.kwargs["token"]) == appointment.patient_id
            continue
        if match.url_name == "intake":  # the patient's first visit: the intake questions (homecare)
            assert read_intake(match.kwargs["token"]) == appointment
            continue
        purpose = {"detail": "view"}.get(match.url_name, match.url_name)
        assert read_token(match.kwargs["token"], purpose) == appointment
    assert names == {"detail", "confirm", "cancel", "reschedule", "unsubscribe", "intake"}
    assert message_id(message) == Reminder.objects.get(kind="confirmation").message_id
    assert message["To"] == appointment.patient.email


def test_a_name_typed_at_the_desk_is_escaped_in_the_html_part_only(therapist, room, device, at):
    plan = make_plan(room)
    plan.patient.first_name = "<b>D'Arcy</b>"
    plan.patient.save(update_fields=["first_name"])
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    reminders.reminders_sweep()
    (message,) = outbox_messages()
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Dear <b>D'Arcy</b>," in plain
    assert "<b>" not in html and "Dear &lt;b&gt;D&#39;Arcy&lt;/b&gt;," in html


def _every_kind_for(plan, therapist, at):
    first = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    reminders.reminders_sweep()
    moved = services.appointment_reschedule(appointment=first, start=at(2, "10:00"))
    reminders.reminders_sweep()
    services.appointment_cancel(appointment=moved, reason="Patient ill")
    second = services.appointment_book(plan=plan, start=at(7, "10:00"), therapist=therapist)
    Reminder.objects.filter(appointment=second, kind="reminder").update(due_at=timezone.now())
    entry = services.waitlist_add(plan=plan)
    reminders.offer_waitlist_slot(entry=entry, start=at(8, "09:00"), end=at(8, "09:30"))
    recall_plan = make_plan(None, tap_water=True, phase="maintenance", patient=plan.patient)
    Reminder.objects.create(
        kind="maintenance_recall",
        plan=recall_plan,
        patient=plan.patient,
        slot_start=at(9, "09:00"),
        due_at=timezone.now(),
    )


@pytest.mark.parametrize("modality", [m.value for m in Modality])
def test_no_email_names_the_diagnosis_drug_site_or_treatment(therapist, room, at, modality):
    traits = {"phonophoresis": {"phono": True}, "tap_water": {"tap_water": True}}.get(modality, {})
    plan = make_plan(room, **traits)
    device_kind = {"phonophoresis": "ultrasound"}.get(modality, modality)
    DeviceFactory(kind=device_kind, home_room=room)
    _every_kind_for(plan, therapist, at)
    reminders.reminders_sweep()
    sent = kinds_sent()
    expected = {
        "confirmation",
        "rescheduled",
        "cancellation",
        "reminder",
        "waitlist_offer",
        "maintenance_recall",
    }
    assert {k for k, _ in sent} == expected
    words = clinical_words()
    assert {"lateral epicondylitis", "m77.11", plan.body_site.lower()} <= set(words)
    assert_no_clinical_words([m for _, m in sent], words)


def test_the_scan_would_catch_a_clinical_word():
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = "Your Iontophoresis visit"
    message.set_content("Hello")
    with pytest.raises(AssertionError):
        assert_no_clinical_words([message], [w.lower() for w in FIXED_WORDS])
