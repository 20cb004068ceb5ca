"""Each scheduling rule (R1–R5) refuses with its stable code, and what reacts
to a rule reads that code: rewording a message changes nothing else."""

import dataclasses
import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from appointments import services
from appointments.availability import Schedule
from appointments.models import Appointment, ClinicClosure, Device, Room, TherapistException
from appointments.services.booking import _conflict_from_integrity_error
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.exceptions import SchedulingConflict
from clinic.rule_codes import RuleCode, codes_of
from patients.tests.factories import ScreeningFactory
from treatments.models import Modality, TreatmentPlan
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def other_plan(**kwargs):
    plan = PlanFactory(**kwargs)
    ScreeningFactory(patient=plan.patient)
    return plan


def refusal(plan, start, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        services.appointment_book(plan=plan, start=start, **kwargs)
    assert not Appointment.objects.filter(plan=plan, start=start).exists()
    return info.value


# -- R1 --------------------------------------------------------------------
@pytest.mark.parametrize("resource", ["therapist", "room", "device", "patient"])
def test_a_taken_resource_carries_its_r1_code(plan, therapist, room, device, at, resource):
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist, room=room, device=device)
    kwargs = {
        "therapist": TherapistFactory(),
        "room": RoomFactory(name="Spare room"),
        "device": DeviceFactory(),
    }
    second = other_plan(patient=plan.patient) if resource == "patient" else other_plan()
    if resource != "patient":
        kwargs[resource] = {"therapist": therapist, "room": room, "device": device}[resource]
    error = refusal(second, at(0, "10:15"), **kwargs)
    assert isinstance(error, SchedulingConflict)
    assert codes_of(error) == [f"R1.{resource}"]
    assert [c["code"] for c in error.conflicts] == [f"R1.{resource}"]


def test_every_suitable_room_taken_is_r1_and_none_set_up_is_r3(plan, therapist, room, device, at):
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    second = other_plan()
    error = refusal(second, at(0, "10:00"), therapist=TherapistFactory(), device=DeviceFactory())
    assert codes_of(error) == [RuleCode.R1_ROOM]
    Room.objects.update(is_active=False)
    assert codes_of(refusal(second, at(1, "10:00"))) == [RuleCode.R3_ROOM]


def test_every_device_taken_is_r1_and_none_set_up_is_r3(plan, therapist, room, device, at):
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    second = other_plan()
    error = refusal(second, at(0, "10:00"), therapist=TherapistFactory(), room=RoomFactory(name="Spare room"))
    assert codes_of(error) == [RuleCode.R1_DEVICE]
    Device.objects.update(kind=Device.Kind.ULTRASOUND)
    assert codes_of(refusal(second, at(1, "10:00"))) == [RuleCode.R3_DEVICE]


def test_a_race_lost_to_the_exclusion_constraint_carries_the_r1_code(plan, therapist, room, device, at):
    booked = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    late = Appointment(patient=booked.patient, plan=plan, start=booked.start, end=booked.end, room=room)
    lost = IntegrityError("conflicting key value violates exclusion constraint")
    lost.__cause__ = Exception("from the driver")
    lost.__cause__.diag = SimpleNamespace(constraint_name="appointment_no_overlap_room")
    conflict = _conflict_from_integrity_error(lost, late)
    assert codes_of(conflict) == [RuleCode.R1_ROOM]
    assert conflict.conflicts[0]["code"] == RuleCode.R1_ROOM


# -- R2 --------------------------------------------------------------------
def test_hours_exceptions_and_closures_carry_their_r2_codes(plan, therapist, room, device, at):
    assert codes_of(refusal(plan, at(0, "16:45"), therapist=therapist)) == [RuleCode.R2_HOURS]
    TherapistException.objects.create(
        therapist=therapist, kind="leave", start=at(0, "00:00"), end=at(1, "00:00")
    )
    assert codes_of(refusal(plan, at(0, "10:00"), therapist=therapist)) == [RuleCode.R2_EXCEPTION]
    closed = at(2, "00:00").date()
    ClinicClosure.objects.create(start_date=closed, end_date=closed, reason="Inventory")
    assert codes_of(refusal(plan, at(2, "10:00"), therapist=therapist)) == [RuleCode.R2_CLOSURE]


# -- R3 --------------------------------------------------------------------
def test_resources_unsuited_to_the_modality_carry_their_r3_codes(plan, at):
    therapist = TherapistFactory()
    phono_only = TherapistFactory(modalities=[Modality.PHONOPHORESIS])
    cases = [
        ({"therapist": phono_only}, RuleCode.R3_THERAPIST),
        ({"room": RoomFactory(modalities=[Modality.PHONOPHORESIS])}, RuleCode.R3_ROOM),
        ({"device": DeviceFactory(kind=Device.Kind.ULTRASOUND)}, RuleCode.R3_DEVICE),
        ({"device": DeviceFactory(in_service=False)}, RuleCode.R3_SERVICE),
        (
            {"device": DeviceFactory(calibration_due=at(0, "00:00").date() - dt.timedelta(days=1))},
            RuleCode.R3_CALIBRATION,
        ),
    ]
    for change, code in cases:
        slot = {
            "therapist": therapist,
            "room": RoomFactory(name="Spare room"),
            "device": DeviceFactory(),
        } | change
        assert codes_of(refusal(plan, at(0, "10:00"), **slot)) == [code], code


def test_no_therapist_giving_the_modality_is_r3(plan, room, device, at):
    TherapistFactory(modalities=[Modality.PHONOPHORESIS])
    assert codes_of(refusal(plan, at(0, "10:00"))) == [RuleCode.R3_THERAPIST]
    with pytest.raises(ValidationError) as info:
        services.series_preview(plan=plan, start=at(0, "10:00"), therapist=TherapistFactory(modalities=[]))
    assert codes_of(info.value) == [RuleCode.R3_THERAPIST]


# -- R4, R5 ----------------------------------------------------------------
def test_plan_status_and_count_carry_their_r4_codes(plan, therapist, room, device, at):
    plan.status = TreatmentPlan.Status.ON_HOLD
    plan.save()
    assert codes_of(refusal(plan, at(0, "10:00"), therapist=therapist)) == [RuleCode.R4_PLAN_STATUS]
    plan.status = TreatmentPlan.Status.ACTIVE
    plan.sessions_authorized = 1
    plan.save()
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    assert codes_of(refusal(plan, at(3, "10:00"), therapist=therapist)) == [RuleCode.R4_COUNT]


def test_spacing_and_weekly_frequency_carry_their_r5_codes(plan, therapist, room, device, at):
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    assert codes_of(refusal(plan, at(1, "15:00"), therapist=therapist)) == [RuleCode.R5_INTERVAL]
    services.appointment_book(plan=plan, start=at(2, "10:00"), therapist=therapist)
    assert codes_of(refusal(plan, at(4, "10:00"), therapist=therapist)) == [RuleCode.R5_WEEK]


# -- series placement reads the code -----------------------------------------
def _series_after_a_full_week(plan, therapist, at):
    """Two sessions already fill week 0 (2 a week): the series asked from
    Thursday must start the next Monday."""
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    services.appointment_book(plan=plan, start=at(2, "10:00"), therapist=therapist)
    return services.series_preview(plan=plan, start=at(3, "09:00"))


def test_series_placement_does_not_depend_on_the_wording_of_r5(
    plan, therapist, room, device, at, monkeypatch
):
    before = _series_after_a_full_week(plan, therapist, at)
    assert before.ok and before.occurrences[0].start == at(7, "09:00")

    checked = Schedule.plan_problems

    def reworded(self, start):
        return [dataclasses.replace(p, message="Reworded by the clinic.") for p in checked(self, start)]

    monkeypatch.setattr(Schedule, "plan_problems", reworded)
    after = services.series_preview(plan=plan, start=at(3, "09:00"))
    assert [o.start for o in after.occurrences] == [o.start for o in before.occurrences]
    assert after.ok


def _block_the_fourth_session_for_the_patient(plan, at):
    fourth = services.series_preview(plan=plan, start=at(0, "09:00")).occurrences[3].start
    services.appointment_book(
        plan=other_plan(patient=plan.patient),
        start=fourth,
        therapist=TherapistFactory(),
        room=RoomFactory(name="Spare room"),
        device=DeviceFactory(),
    )


def test_a_series_conflict_names_each_occurrence_codes(plan, therapist, room, device, at):
    _block_the_fourth_session_for_the_patient(plan, at)
    preview = services.series_preview(plan=plan, start=at(0, "09:00"))
    assert preview.occurrences[3].codes == [RuleCode.R1_PATIENT]
    with pytest.raises(SchedulingConflict) as info:
        services.series_book(plan=plan, start=at(0, "09:00"))
    assert info.value.conflicts[0]["codes"] == [RuleCode.R1_PATIENT]
    assert codes_of(info.value) == [RuleCode.R1_PATIENT]
