import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from appointments import services
from appointments.models import Appointment, AppointmentChange, ClinicClosure, Device, TherapistException
from appointments.selectors import appointment_list
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.exceptions import IllegalTransition, SchedulingConflict
from clinic.localtime import clinic_tz, local_datetime
from patients.tests.factories import ScreeningFactory
from treatments.models import Modality, TreatmentPlan
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def book(plan, start, **kwargs):
    return services.appointment_book(plan=plan, start=start, **kwargs)


def other_plan(**kwargs):
    plan = PlanFactory(**kwargs)
    ScreeningFactory(patient=plan.patient)
    return plan


def test_book_creates_a_scheduled_session_with_its_number(plan, therapist, room, device, at):
    first = book(plan, at(0, "10:00"), therapist=therapist)
    second = book(plan, at(3, "10:00"), therapist=therapist)
    assert first.status == Appointment.Status.SCHEDULED
    assert (first.room, first.device) == (room, device)
    assert first.end - first.start == dt.timedelta(minutes=plan.session_minutes)
    numbers = {a.pk: a.session_number for a in appointment_list()}
    assert (numbers[first.pk], numbers[second.pk]) == (1, 2)


def test_book_refuses_overlapping_room_and_names_it(plan, therapist, room, device, at):
    book(plan, at(0, "10:00"), therapist=therapist, room=room)
    other = other_plan()
    with pytest.raises(SchedulingConflict) as info:
        book(other, at(0, "10:15"), therapist=TherapistFactory(), room=room, device=DeviceFactory())
    assert "Room 2 is booked 10:00–10:30." in info.value.messages
    assert info.value.conflicts[0]["resource"] == "room"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("resource", ["therapist", "device", "patient"])
def test_book_refuses_each_taken_resource(plan, therapist, room, device, at, resource):
    book(plan, at(0, "10:00"), therapist=therapist, room=room, device=device)
    kwargs = {"therapist": TherapistFactory(), "room": RoomFactory(), "device": DeviceFactory()}
    second_plan = other_plan()
    if resource == "therapist":
        kwargs["therapist"] = therapist
    elif resource == "device":
        kwargs["device"] = device
    else:
        second_plan = other_plan(patient=plan.patient)
    with pytest.raises(SchedulingConflict) as info:
        book(second_plan, at(0, "10:20"), **kwargs)
    assert info.value.conflicts[0]["resource"] == resource
    assert "is booked 10:00–10:30" in " ".join(info.value.messages)
    assert Appointment.objects.count() == 1


def test_back_to_back_sessions_do_not_conflict(plan, therapist, room, device, at):
    book(plan, at(0, "10:00"), therapist=therapist, room=room, device=device)
    book(other_plan(), at(0, "10:30"), therapist=therapist, room=room, device=device)
    assert Appointment.objects.count() == 2


def test_cancelled_visits_free_their_slot(plan, therapist, room, device, at):
    first = book(plan, at(0, "10:00"), therapist=therapist)
    services.appointment_cancel(appointment=first, reason="Patient ill")
    book(other_plan(), at(0, "10:00"), therapist=therapist, room=room, device=device)
    assert Appointment.objects.exclude(status="cancelled").count() == 1


def test_book_outside_working_hours_is_refused(plan, therapist, room, device, at):
    with pytest.raises(ValidationError) as info:
        book(plan, at(0, "16:45"), therapist=therapist)
    assert "outside Theo's working hours" in info.value.message_dict["start"][0]
    with pytest.raises(ValidationError):
        book(plan, at(5, "10:00"), therapist=therapist)  # Saturday
    assert not Appointment.objects.exists()


def test_leave_and_closure_block_booking_and_extra_hours_allow_it(plan, therapist, room, device, at):
    TherapistException.objects.create(
        therapist=therapist, kind="leave", start=at(0, "00:00"), end=at(1, "00:00"), note="Holiday"
    )
    with pytest.raises(ValidationError, match="away"):
        book(plan, at(0, "10:00"), therapist=therapist)
    ClinicClosure.objects.create(
        start_date=at(2, "00:00").date(), end_date=at(2, "00:00").date(), reason="Inventory"
    )
    with pytest.raises(ValidationError, match="clinic is closed"):
        book(plan, at(2, "10:00"), therapist=therapist)
    TherapistException.objects.create(
        therapist=therapist, kind="extra_hours", start=at(5, "09:00"), end=at(5, "12:00")
    )
    saturday = book(plan, at(5, "09:30"), therapist=therapist)
    assert saturday.start == at(5, "09:30")


def test_room_and_device_must_fit_the_modality(plan, therapist, at):
    phono_room = RoomFactory(name="Ultrasound room", modalities=[Modality.PHONOPHORESIS])
    with pytest.raises(ValidationError, match="not set up for iontophoresis"):
        book(plan, at(0, "10:00"), therapist=therapist, room=phono_room, device=DeviceFactory())
    ultrasound = DeviceFactory(kind=Device.Kind.ULTRASOUND)
    with pytest.raises(ValidationError, match="is not a iontophoresis generator"):
        book(plan, at(0, "10:00"), therapist=therapist, room=RoomFactory(), device=ultrasound)
    broken = DeviceFactory(in_service=False)
    with pytest.raises(ValidationError, match="out of service"):
        book(plan, at(0, "10:00"), therapist=therapist, room=RoomFactory(), device=broken)
    expired = DeviceFactory(calibration_due=at(0, "00:00").date() - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="calibration due date"):
        book(plan, at(0, "10:00"), therapist=therapist, room=RoomFactory(), device=expired)
    assert not Appointment.objects.exists()


def test_calibration_due_on_the_day_itself_is_still_fine(plan, therapist, room, at):
    device = DeviceFactory(calibration_due=at(0, "00:00").date())
    assert book(plan, at(0, "10:00"), therapist=therapist, room=room, device=device).device == device


def test_only_active_plans_within_the_authorized_count_can_be_booked(plan, therapist, room, device, at):
    plan.status = TreatmentPlan.Status.ON_HOLD
    plan.save()
    with pytest.raises(ValidationError, match="on hold"):
        book(plan, at(0, "10:00"), therapist=therapist)
    plan.status = TreatmentPlan.Status.ACTIVE
    plan.sessions_authorized = 1
    plan.save()
    book(plan, at(0, "10:00"), therapist=therapist)
    with pytest.raises(ValidationError, match="1 authorized sessions and 1 are booked"):
        book(plan, at(3, "10:00"), therapist=therapist)
    assert Appointment.objects.count() == 1


def test_sessions_of_a_plan_respect_the_minimum_interval_and_weekly_frequency(
    plan, therapist, room, device, at
):
    book(plan, at(0, "10:00"), therapist=therapist)
    with pytest.raises(ValidationError, match="at least 48 h apart"):
        book(plan, at(1, "15:00"), therapist=therapist)
    book(plan, at(2, "10:00"), therapist=therapist)  # exactly 48 h later is fine
    with pytest.raises(ValidationError, match="allows 2 session"):
        book(plan, at(4, "10:00"), therapist=therapist)
    assert Appointment.objects.count() == 2


def test_booking_without_a_therapist_picks_a_qualified_free_one(plan, room, device, at):
    busy = TherapistFactory(display_name="Ana")
    free = TherapistFactory(display_name="Ben")
    TherapistFactory(display_name="Cy", modalities=[Modality.PHONOPHORESIS])
    book(other_plan(), at(0, "10:00"), therapist=busy, room=RoomFactory(), device=DeviceFactory())
    appointment = book(plan, at(0, "10:00"))
    assert appointment.therapist == free


def test_cancel_needs_a_reason_and_flags_late_cancellations(plan, therapist, room, device, at):
    appointment = book(plan, at(0, "10:00"), therapist=therapist)
    with pytest.raises(ValidationError, match="Say why"):
        services.appointment_cancel(appointment=appointment, reason="  ")
    early = services.appointment_cancel(appointment=appointment, reason="Travel", now=at(-2, "10:00"))
    assert early.late_cancellation is False
    second = book(plan, at(0, "10:00"), therapist=therapist)
    late = services.appointment_cancel(appointment=second, reason="Sick", now=at(-1, "10:01"))
    assert late.late_cancellation is True
    assert late.cancel_reason == "Sick"


def test_illegal_transitions_are_clear_errors(plan, therapist, room, device, at):
    appointment = book(plan, at(0, "10:00"), therapist=therapist)
    services.appointment_cancel(appointment=appointment, reason="Travel")
    with pytest.raises(IllegalTransition, match="cancelled visit cannot be checked in"):
        services.appointment_check_in(appointment=appointment, now=at(0, "09:50"))
    with pytest.raises(IllegalTransition, match="cannot be rescheduled"):
        services.appointment_reschedule(appointment=appointment, start=at(1, "10:00"))
    with pytest.raises(IllegalTransition):
        services.appointment_complete(appointment=appointment)


def test_check_in_only_on_the_day_and_no_show_only_after_start(plan, therapist, room, device, at):
    appointment = book(plan, at(0, "10:00"), therapist=therapist)
    with pytest.raises(IllegalTransition, match="only on the day"):
        services.appointment_check_in(appointment=appointment, now=at(-1, "10:00"))
    with pytest.raises(IllegalTransition, match="only after its start"):
        services.appointment_no_show(appointment=appointment, now=at(0, "09:00"))
    checked = services.appointment_check_in(appointment=appointment, now=at(0, "09:50"))
    assert checked.status == Appointment.Status.CHECKED_IN
    done = services.appointment_complete(appointment=checked, now=at(0, "10:40"))
    assert done.status == Appointment.Status.COMPLETED


def test_reschedule_keeps_the_old_slot_in_history(plan, therapist, room, device, at):
    appointment = book(plan, at(0, "10:00"), therapist=therapist)
    moved = services.appointment_reschedule(appointment=appointment, start=at(1, "14:00"))
    assert moved.start == at(1, "14:00")
    assert moved.end == at(1, "14:30")
    assert moved.sequence == 1
    change = AppointmentChange.objects.get(appointment=appointment, action="rescheduled")
    assert change.old_start == at(0, "10:00")


def test_reschedule_into_a_taken_slot_is_a_conflict_and_changes_nothing(plan, therapist, room, device, at):
    mine = book(plan, at(0, "10:00"), therapist=therapist)
    book(other_plan(), at(1, "11:00"), therapist=therapist, room=RoomFactory(), device=DeviceFactory())
    with pytest.raises(SchedulingConflict, match="Theo is booked 11:00–11:30"):
        services.appointment_reschedule(appointment=mine, start=at(1, "11:15"))
    mine.refresh_from_db()
    assert mine.start == at(0, "10:00")
    assert mine.sequence == 0


def test_reschedule_may_move_within_its_own_slot(plan, therapist, room, device, at):
    appointment = book(plan, at(0, "10:00"), therapist=therapist)
    moved = services.appointment_reschedule(appointment=appointment, start=at(0, "10:15"))
    assert moved.start == at(0, "10:15")


# -- series ------------------------------------------------------------------
def test_series_books_all_remaining_sessions_in_one_step(plan, therapist, room, device, at):
    booked = services.series_book(plan=plan, start=at(0, "09:00"))
    assert len(booked) == 6
    starts = [a.start for a in booked]
    assert all(b - a >= dt.timedelta(hours=48) for a, b in zip(starts, starts[1:], strict=False))
    weeks = {}
    for start in starts:
        weeks.setdefault(start.astimezone(clinic_tz()).isocalendar()[:2], []).append(start)
    assert max(len(v) for v in weeks.values()) <= 2
    assert {a.start.astimezone(clinic_tz()).time() for a in booked} == {dt.time(9)}
    assert {a.therapist for a in booked} == {therapist}


def test_series_names_the_date_of_an_occurrence_that_cannot_be_placed(plan, therapist, room, device, at):
    preview = services.series_preview(plan=plan, start=at(0, "09:00"))
    fourth = preview.occurrences[3].start
    # The patient already has another visit then.
    blocker = services.appointment_book(
        plan=other_plan(patient=plan.patient), start=fourth, therapist=therapist
    )
    with pytest.raises(SchedulingConflict) as info:
        services.series_book(plan=plan, start=at(0, "09:00"))
    assert info.value.conflicts[0]["date"] == fourth.astimezone(clinic_tz()).date().isoformat()
    assert f"{fourth.astimezone(clinic_tz()):%a %d %b %Y}" in " ".join(info.value.messages)
    assert list(Appointment.objects.all()) == [blocker]  # all-or-nothing


def test_series_preview_writes_nothing(plan, therapist, room, device, at):
    preview = services.series_preview(plan=plan, start=at(0, "09:00"))
    assert preview.ok and len(preview.occurrences) == 6
    assert not Appointment.objects.exists()


def test_series_moves_past_a_closed_day(plan, therapist, room, device, at):
    closed = at(4, "00:00").date()  # the second occurrence's Friday
    ClinicClosure.objects.create(start_date=closed, end_date=closed, reason="Holiday")
    booked = services.series_book(plan=plan, start=at(0, "09:00"))
    assert closed not in {a.start.astimezone(clinic_tz()).date() for a in booked}
    assert len(booked) == 6


@time_machine.travel(dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC), tick=False)
def test_series_across_the_dst_change_keeps_local_wall_clock_time(settings, therapist, room, device):
    settings.CLINIC_TIME_ZONE = "America/New_York"
    plan = other_plan()
    first = local_datetime(dt.date(2027, 3, 8), dt.time(9))  # Monday before 2027-03-14
    booked = services.series_book(plan=plan, start=first)
    local = [a.start.astimezone(clinic_tz()) for a in booked]
    assert local[0].date() < dt.date(2027, 3, 14) < local[-1].date()
    assert {t.time() for t in local} == {dt.time(9)}
    stored = list(Appointment.objects.filter(plan=plan).values_list("start", flat=True))
    assert {s.utcoffset() for s in stored} == {dt.timedelta(0)}  # stored in UTC
    assert {s.hour for s in stored} == {14, 13}  # 09:00 EST, then 09:00 EDT


def test_waitlist_entry_validates_its_window(plan):
    with pytest.raises(ValidationError, match="after its start"):
        services.waitlist_add(plan=plan, preferred_time_from=dt.time(12), preferred_time_to=dt.time(9))
    entry = services.waitlist_add(plan=plan, preferred_weekdays=[0, 2], notes="Mornings")
    assert entry.patient == plan.patient


def test_a_booking_lets_the_plans_waitlist_entry_go_only_when_it_got_what_it_waited_for(
    plan, therapist, room, device, at
):
    """The entry comes from the booking's own read under the plan's lock (the
    Schedule), not a read of its own: it is still the live row."""
    monday = at(0, "09:00")
    other_day = (monday.astimezone(clinic_tz()).weekday() + 2) % 7
    entry = services.waitlist_add(plan=plan, preferred_weekdays=[other_day])
    book(plan, monday)
    entry.refresh_from_db()
    assert entry.is_active  # not the weekday it asked for
    book(plan, monday + dt.timedelta(days=2))
    entry.refresh_from_db()
    assert not entry.is_active


def test_cancelling_a_plan_cancels_its_future_visits_without_counting_them_late(
    plan, therapist, room, device, at, front_desk
):
    from treatments.services import plan_cancel

    booked = services.series_book(plan=plan, start=at(0, "09:00"))
    plan_cancel(plan=plan, user=front_desk, reason="Patient moved away")
    statuses = set(
        Appointment.objects.filter(pk__in=[a.pk for a in booked]).values_list("status", "late_cancellation")
    )
    assert statuses == {("cancelled", False)}


def test_every_room_taken_is_a_conflict_and_no_room_at_all_is_a_setup_error(
    plan, therapist, room, device, at
):
    book(other_plan(), at(0, "10:00"), therapist=TherapistFactory(), room=room, device=DeviceFactory())
    with pytest.raises(SchedulingConflict, match="No iontophoresis room is free 10:00–10:30"):
        book(plan, at(0, "10:00"), therapist=therapist)
    room.modalities = ["phonophoresis"]
    room.save()
    with pytest.raises(ValidationError, match="No iontophoresis room is set up") as info:
        book(plan, at(0, "11:00"), therapist=therapist)
    assert not isinstance(info.value, SchedulingConflict)
