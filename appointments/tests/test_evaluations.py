"""Evaluations: a visit to assess a new patient, booked without a plan.
R1–R3 apply, R4/R5 do not, and no authorization is used."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from appointments import services
from appointments.models import Appointment, AppointmentChange, ClinicClosure, Reminder
from appointments.tests.factories import RoomFactory, TherapistFactory
from clinic.exceptions import SchedulingConflict
from clinic.models import ClinicRules
from clinic.rule_codes import codes_of
from patients.tests.factories import PatientFactory
from treatments.models import TreatmentPlan
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_evaluation_is_booked_without_a_plan_for_a_patient_without_screening(therapist, room, at):
    patient = PatientFactory()  # just registered: no screening, no plan
    visit = services.evaluation_book(patient=patient, start=at(0, "10:00"), therapist=therapist)
    assert visit.kind == Appointment.Kind.EVALUATION
    assert visit.plan is None and visit.device is None
    assert (visit.patient, visit.therapist, visit.room) == (patient, therapist, room)
    assert visit.end - visit.start == dt.timedelta(minutes=45)
    assert AppointmentChange.objects.filter(appointment=visit, action="booked").exists()


def test_evaluation_length_is_the_clinic_setting(therapist, room, at):
    rules = ClinicRules.current()
    rules.evaluation_minutes = 60
    rules.save()
    visit = services.evaluation_book(patient=PatientFactory(), start=at(0, "10:00"))
    assert visit.end - visit.start == dt.timedelta(minutes=60)


def test_evaluation_without_therapist_picks_one_at_work(room, at):
    TherapistFactory(display_name="Away", hours=[])
    working = TherapistFactory(display_name="Works")
    visit = services.evaluation_book(patient=PatientFactory(), start=at(0, "09:00"))
    assert visit.therapist == working


def test_evaluation_gets_a_confirmation_email_row(therapist, room, at, django_capture_on_commit_callbacks):
    patient = PatientFactory(reminder_opt_in=True)
    with django_capture_on_commit_callbacks(execute=False):
        visit = services.evaluation_book(patient=patient, start=at(0, "10:00"), therapist=therapist)
    kinds = set(Reminder.objects.filter(appointment=visit).values_list("kind", flat=True))
    assert Reminder.Kind.CONFIRMATION in kinds


@pytest.mark.parametrize(
    ("hhmm", "code"),
    [("07:00", "R2.hours"), ("16:45", "R2.hours")],
)
def test_evaluation_refuses_outside_hours(therapist, room, at, hhmm, code):
    with pytest.raises(ValidationError) as info:
        services.evaluation_book(patient=PatientFactory(), start=at(0, hhmm), therapist=therapist)
    assert code in codes_of(info.value)
    assert not Appointment.objects.exists()


def test_evaluation_refuses_a_closure_with_its_reason(therapist, room, at, monday):
    ClinicClosure.objects.create(start_date=monday, end_date=monday, reason="Staff training day")
    with pytest.raises(ValidationError) as info:
        services.evaluation_book(patient=PatientFactory(), start=at(0, "10:00"), therapist=therapist)
    assert "R2.closure" in codes_of(info.value)
    assert "Staff training day" in " ".join(info.value.messages)


def test_evaluation_refuses_the_past(therapist, room):
    with pytest.raises(ValidationError) as info:
        services.evaluation_book(
            patient=PatientFactory(), start=dt.datetime(2020, 1, 6, 10, tzinfo=dt.UTC), therapist=therapist
        )
    assert info.value.message_dict == {"start": ["This time has already passed."]}


def test_evaluation_refuses_a_taken_therapist_and_the_patients_own_session(plan, therapist, room, device, at):
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    with pytest.raises(SchedulingConflict) as info:
        services.evaluation_book(patient=PatientFactory(), start=at(0, "10:15"), therapist=therapist)
    assert "R1.therapist" in codes_of(info.value)
    other = TherapistFactory()
    RoomFactory(name="Room 9")
    with pytest.raises(SchedulingConflict) as info:
        services.evaluation_book(patient=plan.patient, start=at(0, "10:15"), therapist=other)
    assert "R1.patient" in codes_of(info.value)
    assert Appointment.objects.count() == 1


def test_evaluation_ignores_plan_rules_and_counts_against_no_plan(plan, therapist, room, device, at):
    """R4/R5 do not apply: an evaluation the day after a session, for a
    patient whose only plan is used up, is fine — and uses none of it."""
    plan.sessions_prescribed = 1
    plan.sessions_authorized = None
    plan.save()
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    visit = services.evaluation_book(patient=plan.patient, start=at(0, "13:00"), therapist=therapist)
    assert visit.plan is None
    assert services.check_plan_bookable is not None
    with pytest.raises(ValidationError):
        services.check_plan_bookable(plan)  # still one of one used: the evaluation did not count


def test_evaluation_can_be_rescheduled_on_r1_to_r3_only(therapist, room, at):
    visit = services.evaluation_book(patient=PatientFactory(), start=at(0, "10:00"), therapist=therapist)
    moved = services.appointment_reschedule(appointment=visit, start=at(1, "11:00"))
    assert moved.start == at(1, "11:00")
    assert moved.end - moved.start == dt.timedelta(minutes=45)
    with pytest.raises(ValidationError) as info:
        services.appointment_reschedule(appointment=visit, start=at(1, "20:00"))
    assert "R2.hours" in codes_of(info.value)


def test_database_refuses_a_session_without_plan_and_an_evaluation_with_one(therapist, room, at):
    plan = PlanFactory()
    base = {"patient": plan.patient, "therapist": therapist, "room": room, "start": at(0, "10:00")}
    base["end"] = base["start"] + dt.timedelta(minutes=45)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(kind=Appointment.Kind.SESSION, plan=None, **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(kind=Appointment.Kind.EVALUATION, plan=plan, **base)
    assert plan.status == TreatmentPlan.Status.ACTIVE or plan.status


def test_an_evaluation_has_no_session_note_page_nor_api(client, therapist_user, therapist, room, at):
    visit = services.evaluation_book(patient=PatientFactory(), start=at(0, "10:00"), therapist=therapist)
    client.force_login(therapist_user)
    assert client.get(f"/schedule/{visit.pk}/note/").status_code == 404
    assert client.get(f"/api/v1/appointments/{visit.pk}/note/").status_code == 404
    assert client.get(f"/schedule/{visit.pk}/").status_code == 200
