"""R16–R21 end to end: each rule in the service, then through the API and
the page with the same message and code (DOMAIN.md)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from appointments import reminders
from appointments import services as scheduling
from appointments.holds import HOLD_MESSAGE
from appointments.models import Appointment, Reminder
from appointments.tests.conftest import next_weekday
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.localtime import local_datetime
from clinic.models import ClinicRules
from clinic.rule_codes import codes_of
from clinic.tests.factories import UserFactory
from notes import services as notes
from notes.models import SessionNote
from patients.models import Payer
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments import services as plans
from treatments.models import Authorization, TreatmentPlan
from treatments.tests.factories import PlanFactory

PASSWORD = "phoresis-demo"
IONTO = {
    "current_ma": Decimal("4"),
    "treatment_minutes": Decimal("10"),
    "polarity": "negative",
    "electrode_type": "buffered",
    "electrode_lot": "EL-7",
    "medication_lot": "DX-42",
    "medication_volume_ml": Decimal("1.5"),
    "skin_before": "normal",
    "skin_after": "erythema",
    "pain_before": 6,
    "pain_after": 4,
    "timed_minutes": 10,
}
TAP = {
    "tray": "hands",
    "current_ma": Decimal("15"),
    "treatment_minutes": Decimal("20"),
    "polarity_switched": True,
    "water_additive": "Baking soda, one teaspoon",
    "barrier_applied": True,
    "skin_before": "normal",
    "skin_after": "normal",
    "pain_before": 0,
    "pain_after": 0,
    "hdss": 3,
    "timed_minutes": 20,
}
BURN = {"kind": "burn", "description": "Burn under the cathode", "action_taken": "Cooled, dressed"}


def ionto(appointment, **changes):
    values = dict(IONTO, medication_expiry=appointment.start.date() + dt.timedelta(days=30))
    values.update(changes)
    return values


@pytest.fixture
def clinic(db):
    room = RoomFactory(name="Room S")
    for kind in ("iontophoresis", "ultrasound", "tap_water"):
        DeviceFactory(home_room=room, kind=kind)
    return TherapistFactory(display_name="Theo", credentials="PT, DPT")


@pytest.fixture
def therapist(clinic):
    return clinic.user


@pytest.fixture
def day():
    return next_weekday(1)


def book(plan, start, time_machine):
    ScreeningFactory(patient=plan.patient, screened_at=start - dt.timedelta(days=2))
    time_machine.move_to(start - dt.timedelta(days=3), tick=False)
    return scheduling.appointment_book(plan=plan, start=start)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def visit(clinic, day, time_machine):
    """A dexamethasone iontophoresis visit at 10:00; the clock at 10:20."""
    start = local_datetime(day, dt.time(10))
    appointment = book(PlanFactory(), start, time_machine)
    time_machine.move_to(start + dt.timedelta(minutes=20), tick=False)
    return appointment


# ------------------------------------------------------------------------ R16
@pytest.mark.django_db
class TestHold:
    def test_a_held_plan_refuses_check_in_note_and_signature(self, visit, therapist):
        notes.note_save(appointment=visit, values=ionto(visit), user=therapist)
        plans.plan_hold(plan=visit.plan, user=therapist, reason="Review")
        visit.start = visit.start + dt.timedelta(hours=1)  # a visit after the hold
        Appointment.objects.filter(pk=visit.pk).update(
            start=visit.start, end=visit.start + dt.timedelta(minutes=30), status="scheduled"
        )
        visit.plan.status_changed_at = visit.start - dt.timedelta(minutes=30)
        TreatmentPlan.objects.filter(pk=visit.plan_id).update(status_changed_at=visit.plan.status_changed_at)
        for act in (
            lambda: scheduling.appointment_check_in(appointment=visit, now=visit.start),
            lambda: notes.note_save(appointment=visit, values=ionto(visit), user=therapist),
            lambda: notes.note_sign(appointment=visit, user=therapist, password=PASSWORD),
        ):
            with pytest.raises(ValidationError) as info:
                act()
            assert codes_of(info.value) == ["R16.hold"]
            assert info.value.message_dict["plan"] == [HOLD_MESSAGE]
        visit.refresh_from_db()
        assert visit.status == "scheduled"
        assert SessionNote.objects.get(appointment=visit).status == "draft"

    def test_api_and_pages_refuse_a_held_visit_with_the_same_message(
        self, clinic, day, time_machine, therapist, front_desk, client
    ):
        start = local_datetime(day, dt.time(11))
        appointment = book(PlanFactory(), start, time_machine)
        plans.plan_hold(plan=appointment.plan, user=therapist, reason="Review")
        time_machine.move_to(start - dt.timedelta(minutes=5), tick=False)
        response = api(front_desk).post(f"/api/v1/appointments/{appointment.pk}/check-in/")
        assert response.status_code == 400
        assert "R16.hold" in response.json()["codes"]
        assert HOLD_MESSAGE in str(response.json())
        response = api(therapist).put(
            f"/api/v1/appointments/{appointment.pk}/note/",
            {k: str(v) for k, v in ionto(appointment).items()},
            format="json",
        )
        assert response.status_code == 400 and "R16.hold" in response.json()["codes"]
        client.force_login(therapist)
        page = client.post(
            reverse("notes:note", kwargs={"pk": appointment.pk}),
            {k: str(v) for k, v in ionto(appointment).items()},
        )
        assert page.status_code == 400
        assert HOLD_MESSAGE in page.content.decode()
        assert not SessionNote.objects.exists()
        appointment.refresh_from_db()
        assert appointment.status == "scheduled"

    def test_the_day_sheet_and_dashboard_flag_a_held_visit_without_check_in(
        self, clinic, day, time_machine, therapist, front_desk, client
    ):
        start = local_datetime(day, dt.time(11))
        appointment = book(PlanFactory(), start, time_machine)
        plans.plan_hold(plan=appointment.plan, user=therapist, reason="Review")
        time_machine.move_to(start - dt.timedelta(hours=2), tick=False)
        client.force_login(front_desk)
        sheet = client.get(reverse("appointments:day"), {"date": day.isoformat()}).content.decode()
        assert "Plan on hold — ask the therapist" in sheet
        assert f"Check in {appointment.patient.full_name}" not in sheet
        home = client.get(reverse("home")).content.decode()
        assert "Plan on hold — ask the therapist" in home
        events = client.get(
            reverse("appointments:events"),
            {
                "start": (start - dt.timedelta(days=1)).isoformat(),
                "end": (start + dt.timedelta(days=1)).isoformat(),
            },
        ).json()
        assert events[0]["extendedProps"]["on_hold"] is True
        assert "Plan on hold" in events[0]["title"]

    def test_a_burn_holds_the_plan_when_the_note_is_saved_and_that_note_can_be_signed(self, visit, therapist):
        notes.note_save(
            appointment=visit, values=ionto(visit, skin_after="burn"), user=therapist, adverse=BURN
        )
        visit.plan.refresh_from_db()
        assert visit.plan.status == TreatmentPlan.Status.ON_HOLD
        assert SessionNote.objects.get(appointment=visit).status == "draft"
        # The session where the burn happened was given before the hold.
        note = notes.note_sign(appointment=visit, user=therapist, password=PASSWORD)
        assert note.is_signed

    def test_reminders_wait_on_hold_and_go_out_on_resume_while_timely(
        self, clinic, day, time_machine, therapist
    ):
        start = local_datetime(day, dt.time(10))
        appointment = book(PlanFactory(), start, time_machine)
        reminders.reminders_sweep(now=start - dt.timedelta(days=3))  # the confirmation
        mail.outbox.clear()
        plans.plan_hold(plan=appointment.plan, user=therapist, reason="Review")
        due = start - dt.timedelta(hours=23)
        time_machine.move_to(due, tick=False)
        outcome = reminders.reminders_sweep(now=due)
        row = Reminder.objects.get(appointment=appointment, kind=Reminder.Kind.REMINDER)
        assert (row.status, outcome.sent, len(mail.outbox)) == ("pending", 0, 0)
        plans.plan_resume(plan=appointment.plan, user=therapist)
        outcome = reminders.reminders_sweep(now=due)
        row.refresh_from_db()
        assert (row.status, outcome.sent, len(mail.outbox)) == ("sent", 1, 1)

    def test_a_reminder_held_past_the_visit_is_not_sent_on_resume(self, clinic, day, time_machine, therapist):
        start = local_datetime(day, dt.time(10))
        appointment = book(PlanFactory(), start, time_machine)
        plans.plan_hold(plan=appointment.plan, user=therapist, reason="Review")
        after = start + dt.timedelta(hours=1)
        time_machine.move_to(after, tick=False)
        reminders.reminders_sweep(now=after)
        assert Reminder.objects.filter(appointment=appointment, status="pending").count() == 2
        plans.plan_resume(plan=appointment.plan, user=therapist)
        mail.outbox.clear()
        reminders.reminders_sweep(now=after)
        assert len(mail.outbox) == 0
        assert not Reminder.objects.filter(appointment=appointment, status="pending").exists()


# ------------------------------------------------------------------------ R17
@pytest.mark.django_db
class TestSigning:
    def test_signing_before_the_visit_starts_is_refused_in_service_and_api(
        self, clinic, day, time_machine, therapist
    ):
        start = local_datetime(day, dt.time(16, 30))
        appointment = book(PlanFactory(), start, time_machine)
        time_machine.move_to(start - dt.timedelta(minutes=15), tick=False)
        notes.note_save(appointment=appointment, values=ionto(appointment), user=therapist)
        with pytest.raises(ValidationError) as info:
            notes.note_sign(appointment=appointment, user=therapist, password=PASSWORD)
        assert codes_of(info.value) == ["R17.not_started"]
        response = api(therapist).post(
            f"/api/v1/appointments/{appointment.pk}/note/sign/", {"password": PASSWORD}, format="json"
        )
        assert response.status_code == 400 and response.json()["codes"] == ["R17.not_started"]
        appointment.refresh_from_db()
        assert appointment.status == "scheduled"

    @pytest.mark.parametrize("field", ["skin_before", "skin_after", "pain_before", "pain_after"])
    def test_skin_and_pain_checks_are_required_to_sign(self, visit, therapist, client, field):
        notes.note_save(appointment=visit, values=ionto(visit, **{field: None}), user=therapist)
        with pytest.raises(ValidationError) as info:
            notes.note_sign(appointment=visit, user=therapist, password=PASSWORD)
        assert codes_of(info.value) == ["R17.checks"]
        assert field in info.value.message_dict
        client.force_login(therapist)
        page = client.post(reverse("notes:sign", kwargs={"pk": visit.pk}), {"password": PASSWORD})
        assert page.status_code == 400
        assert info.value.message_dict[field][0] in page.content.decode()
        assert SessionNote.objects.get(appointment=visit).status == "draft"

    def test_a_completed_visit_without_a_note_can_be_documented_and_signed(self, visit, therapist):
        Appointment.objects.filter(pk=visit.pk).update(status="completed")
        notes.note_save(appointment=visit, values=ionto(visit), user=therapist)
        note = notes.note_sign(appointment=visit, user=therapist, password=PASSWORD)
        visit.refresh_from_db()
        assert note.is_signed and visit.status == "completed"


# ------------------------------------------------------------------------ R18
@pytest.mark.django_db
class TestBilling:
    def test_timed_minutes_cannot_exceed_the_treatment_time(self, visit, therapist):
        with pytest.raises(ValidationError) as info:
            notes.note_save(appointment=visit, values=ionto(visit, timed_minutes=15), user=therapist)
        assert codes_of(info.value) == ["R18.timed"]
        assert not SessionNote.objects.exists()
        response = api(therapist).put(
            f"/api/v1/appointments/{visit.pk}/note/",
            {k: str(v) for k, v in ionto(visit, timed_minutes=15).items()},
            format="json",
        )
        assert response.status_code == 400 and response.json()["codes"] == ["R18.timed"]

    def test_the_daily_97033_cap_counts_every_visit_of_the_patient_per_payer(
        self, clinic, day, time_machine, therapist
    ):
        payer = Payer.objects.create(name="Synthetic Health", daily_97033_unit_cap=1)
        patient = PatientFactory(payer=payer)
        first = book(PlanFactory(patient=patient), local_datetime(day, dt.time(9)), time_machine)
        second = book(
            PlanFactory(patient=patient, body_site="Medial epicondyle"),
            local_datetime(day, dt.time(14)),
            time_machine,
        )
        time_machine.move_to(local_datetime(day, dt.time(15)), tick=False)
        a = notes.note_save(appointment=first, values=ionto(first), user=therapist)
        b = notes.note_save(appointment=second, values=ionto(second), user=therapist)
        assert (a.billing_units, b.billing_units) == (1, 0)
        # Without a payer, the clinic's setting (default 4) applies.
        patient.payer = None
        patient.save()
        ClinicRules.objects.filter(pk=1).update(daily_97033_unit_cap=2)
        b = notes.note_save(appointment=second, values=ionto(second), user=therapist)
        assert b.billing_units == 1

    def test_a_wearable_patch_bills_the_attended_application_only(self, clinic, day, time_machine, therapist):
        plan = PlanFactory(
            electrode_type="wearable_patch", current_ma=Decimal("0.5"), dose_ma_min=Decimal("40")
        )
        appointment = book(plan, local_datetime(day, dt.time(10)), time_machine)
        time_machine.move_to(appointment.start + dt.timedelta(minutes=20), tick=False)
        patch = ionto(
            appointment,
            current_ma=Decimal("0.5"),
            treatment_minutes=Decimal("80"),
            electrode_type="wearable_patch",
            timed_minutes=None,
        )
        with pytest.raises(ValidationError) as info:
            notes.note_save(appointment=appointment, values=patch, user=therapist)
        assert codes_of(info.value) == ["R18.patch"]
        with pytest.raises(ValidationError) as info:
            notes.note_save(
                appointment=appointment,
                values={**patch, "application_minutes": 10, "timed_minutes": 80},
                user=therapist,
            )
        assert codes_of(info.value) == ["R18.patch"]
        note = notes.note_save(
            appointment=appointment, values={**patch, "application_minutes": 10}, user=therapist
        )
        assert (note.timed_minutes, note.billing_units, note.dose_ma_min) == (10, 1, Decimal("40.00"))

    def test_the_monthly_csv_has_one_row_per_date_of_service(self, visit, therapist, clinic_admin, client):
        payer = Payer.objects.create(name="Synthetic Health")
        visit.patient.payer, visit.patient.member_id = payer, "MEM-123"
        visit.patient.save()
        visit.plan.icd10_code = "M77.11"
        visit.plan.save()
        day = visit.start.date()
        authorization = visit.plan.authorizations.first() or Authorization.objects.create(
            plan=visit.plan, payer=payer, number="X", visits_authorized=6, valid_from=day, valid_to=day
        )
        Authorization.objects.filter(pk=authorization.pk).update(
            number="AUTH-77", valid_from=day - dt.timedelta(days=30), valid_to=day + dt.timedelta(days=30)
        )
        notes.note_save(appointment=visit, values=ionto(visit), user=therapist)
        notes.note_sign(appointment=visit, user=therapist, password=PASSWORD)
        client.force_login(clinic_admin)
        month = visit.start.strftime("%Y-%m")
        body = client.get(reverse("notes:billing"), {"format": "csv", "month": month}).content.decode()
        header, row = body.splitlines()
        assert header.split(",")[:6] == [
            "date_of_service",
            "mrn",
            "patient",
            "payer",
            "member_id",
            "authorization_number",
        ]
        assert row.startswith(visit.start.date().isoformat())
        assert (
            "Synthetic Health,MEM-123,AUTH-77," in row
        )  # the authorization valid that day (R22) and ",M77.11,97033,1,10,1," in row
        assert row.endswith('"Theo, PT, DPT"')
        other = client.get(reverse("notes:billing"), {"format": "csv", "month": "2001-01"}).content.decode()
        assert len(other.splitlines()) == 1


# ------------------------------------------------------------------------ R19
@pytest.mark.django_db
class TestLimits:
    def test_tap_water_for_a_child_is_at_most_15_ma_in_note_and_plan(
        self, clinic, day, time_machine, therapist, client
    ):
        child = PatientFactory(date_of_birth=day.replace(year=day.year - 10))
        plan = PlanFactory(tap_water=True, patient=child, current_ma=Decimal("15"))
        appointment = book(plan, local_datetime(day, dt.time(10)), time_machine)
        time_machine.move_to(appointment.start + dt.timedelta(minutes=25), tick=False)
        with pytest.raises(ValidationError) as info:
            notes.note_save(
                appointment=appointment, values={**TAP, "current_ma": Decimal("17")}, user=therapist
            )
        assert "R19.minor_current" in codes_of(info.value)
        with pytest.raises(ValidationError) as info:
            plans.plan_update(
                plan=plan, user=therapist, data={"current_ma": Decimal("17")}, confirm_out_of_range=True
            )
        assert codes_of(info.value) == ["R19.minor_current"]
        response = api(therapist).patch(
            f"/api/v1/plans/{plan.pk}/", {"current_ma": "17", "confirm_out_of_range": True}, format="json"
        )
        assert response.status_code == 400 and response.json()["codes"] == ["R19.minor_current"]
        # An adult may have 17 mA (typical range 10–18).
        adult = PlanFactory(tap_water=True)
        plans.plan_update(plan=adult, user=therapist, data={"current_ma": Decimal("17")})

    def test_a_patch_is_worn_at_most_4_hours(self, therapist):
        plan = PlanFactory(
            electrode_type="wearable_patch", current_ma=Decimal("0.1"), dose_ma_min=Decimal("40")
        )
        with pytest.raises(ValidationError) as info:
            plans.plan_update(plan=plan, user=therapist, data={"current_ma": Decimal("0.1")})
        assert codes_of(info.value) == ["R19.patch_wear"]  # 400 min of wear

    def test_tap_water_at_most_five_a_week_in_the_plan_and_one_a_day_in_booking(
        self, clinic, day, time_machine, therapist
    ):
        plan = PlanFactory(tap_water=True)
        with pytest.raises(ValidationError) as info:
            plans.plan_update(plan=plan, user=therapist, data={"frequency_per_week": 7})
        assert codes_of(info.value) == ["R19.tap_week"]
        feet = PlanFactory(tap_water=True, patient=plan.patient, body_site="Soles", tray="feet")
        book(plan, local_datetime(day, dt.time(9)), time_machine)
        with pytest.raises(ValidationError) as info:
            scheduling.appointment_book(plan=feet, start=local_datetime(day, dt.time(14)))
        assert codes_of(info.value) == ["R19.tap_day"]
        assert Appointment.objects.filter(plan=feet).count() == 0

    def test_a_drug_volume_above_the_catalog_maximum_is_refused(self, visit, therapist):
        with pytest.raises(ValidationError) as info:
            notes.note_save(
                appointment=visit, values=ionto(visit, medication_volume_ml=Decimal("50")), user=therapist
            )
        assert codes_of(info.value) == ["R19.volume"]
        visit.plan.medication.max_volume_ml = Decimal("2.5")
        visit.plan.medication.save()
        with pytest.raises(ValidationError, match="2.5 mL"):
            notes.note_save(
                appointment=visit, values=ionto(visit, medication_volume_ml=Decimal("3")), user=therapist
            )

    def test_more_authorized_than_prescribed_needs_a_confirmation(self, therapist):
        plan = PlanFactory()
        with pytest.raises(ValidationError) as info:
            plans.plan_update(plan=plan, user=therapist, data={"sessions_authorized": 10})
        assert codes_of(info.value) == ["R19.authorized"]
        response = api(therapist).patch(
            f"/api/v1/plans/{plan.pk}/", {"sessions_authorized": 10}, format="json"
        )
        assert response.status_code == 400 and response.json()["codes"] == ["R19.authorized"]
        plans.plan_update(
            plan=plan, user=therapist, data={"sessions_authorized": 10}, confirm_out_of_range=True
        )
        plan.refresh_from_db()
        assert plan.sessions_authorized == 10


# ------------------------------------------------------------------------ R20
@pytest.mark.django_db
class TestTherapistOnly:
    def test_a_clinic_admin_who_does_not_treat_cannot_sign_add_addenda_override_or_review(
        self, visit, therapist, clinic_admin, client
    ):
        notes.note_save(appointment=visit, values=ionto(visit), user=therapist)
        with pytest.raises(PermissionDenied):
            notes.note_sign(appointment=visit, user=clinic_admin, password=PASSWORD)
        assert (
            api(clinic_admin)
            .post(f"/api/v1/appointments/{visit.pk}/note/sign/", {"password": PASSWORD}, format="json")
            .status_code
            == 403
        )
        client.force_login(clinic_admin)
        assert (
            client.post(reverse("notes:sign", kwargs={"pk": visit.pk}), {"password": PASSWORD}).status_code
            == 403
        )
        notes.note_sign(appointment=visit, user=therapist, password=PASSWORD)
        with pytest.raises(PermissionDenied):
            notes.addendum_add(appointment=visit, user=clinic_admin, text="Late entry")
        assert (
            client.post(reverse("notes:addendum", kwargs={"pk": visit.pk}), {"text": "x"}).status_code == 403
        )
        assert (
            api(clinic_admin)
            .put(f"/api/v1/patients/{visit.patient_id}/screening/", {"pregnancy": False}, format="json")
            .status_code
            == 403
        )
        assert (
            client.post(reverse("patients:screening", kwargs={"pk": visit.patient_id}), {}).status_code == 403
        )
        draft = PlanFactory(status="draft")
        ScreeningFactory(patient=draft.patient, pregnancy=True)
        with pytest.raises(PermissionDenied):
            plans.plan_activate(plan=draft, user=clinic_admin, override_reason="Reviewed")
        draft.refresh_from_db()
        assert draft.status == "draft"

    def test_a_clinic_admin_who_treats_holds_both_roles(self, visit, therapist):
        both = UserFactory(username="both", role="clinic_admin")
        both.groups.add(therapist.groups.get())
        notes.note_save(appointment=visit, values=ionto(visit), user=therapist)
        assert notes.note_sign(appointment=visit, user=both, password=PASSWORD).is_signed
        assert notes.addendum_add(appointment=visit, user=both, text="Checked").pk


# ------------------------------------------------------------------------ R21
@pytest.mark.django_db
class TestMaintenance:
    def test_a_therapist_moves_a_tap_water_plan_to_maintenance(self, therapist, clinic_admin, client):
        plan = PlanFactory(tap_water=True, maintenance_interval_days=None)
        assert (
            api(clinic_admin).post(f"/api/v1/plans/{plan.pk}/maintenance/", {"interval_days": 14}).status_code
            == 403
        )
        response = api(therapist).post(
            f"/api/v1/plans/{plan.pk}/maintenance/", {"interval_days": 0}, format="json"
        )
        assert response.status_code == 400
        response = api(therapist).post(
            f"/api/v1/plans/{plan.pk}/maintenance/", {"interval_days": 14}, format="json"
        )
        assert response.status_code == 200
        assert (response.json()["phase"], response.json()["maintenance_interval_days"]) == ("maintenance", 14)
        ionto = PlanFactory()
        response = api(therapist).post(
            f"/api/v1/plans/{ionto.pk}/maintenance/", {"interval_days": 14}, format="json"
        )
        assert response.status_code == 400 and response.json()["codes"] == ["R21.modality"]
        other = PlanFactory(tap_water=True)
        client.force_login(therapist)
        assert (
            "Start maintenance"
            in client.get(reverse("treatments:detail", kwargs={"pk": other.pk})).content.decode()
        )
        page = client.post(
            reverse("treatments:maintenance", kwargs={"pk": other.pk}), {"interval_days": "21"}
        )
        assert page.status_code == 302
        other.refresh_from_db()
        assert (other.phase, other.maintenance_interval_days) == ("maintenance", 21)

    def test_hdss_is_required_to_sign_a_tap_water_note_and_its_trend_suggests_maintenance(
        self, clinic, day, time_machine, therapist, client
    ):
        plan = PlanFactory(tap_water=True, frequency_per_week=3, min_interval_hours=24)
        first = book(plan, local_datetime(day, dt.time(10)), time_machine)
        second = scheduling.appointment_book(
            plan=plan, start=local_datetime(day + dt.timedelta(days=2), dt.time(10))
        )
        time_machine.move_to(first.start + dt.timedelta(minutes=30), tick=False)
        notes.note_save(appointment=first, values={**TAP, "hdss": None}, user=therapist)
        with pytest.raises(ValidationError) as info:
            notes.note_sign(appointment=first, user=therapist, password=PASSWORD)
        assert codes_of(info.value) == ["R21.hdss"]
        notes.note_save(appointment=first, values={**TAP, "hdss": 2}, user=therapist)
        notes.note_sign(appointment=first, user=therapist, password=PASSWORD)
        time_machine.move_to(second.start + dt.timedelta(minutes=30), tick=False)
        notes.note_save(appointment=second, values={**TAP, "hdss": 1}, user=therapist)
        notes.note_sign(appointment=second, user=therapist, password=PASSWORD)
        client.force_login(therapist)
        detail = client.get(reverse("treatments:detail", kwargs={"pk": plan.pk})).content.decode()
        assert "Consider moving the plan to maintenance" in detail
        progress = client.get(reverse("notes:progress", kwargs={"pk": plan.pk}))
        assert progress.context["chart"]["hdss"] == [2, 1]
        assert progress.context["maintenance_suggested"] is True

    def test_a_due_maintenance_plan_gets_exactly_one_recall_and_a_booked_one_none(
        self, clinic, day, time_machine, therapist
    ):
        due = PlanFactory(tap_water=True)
        booked = PlanFactory(tap_water=True)
        visits = [
            book(plan, local_datetime(day, dt.time(9 + 2 * i)), time_machine)
            for i, plan in enumerate((due, booked))
        ]
        time_machine.move_to(local_datetime(day, dt.time(16)), tick=False)
        for visit in visits:
            notes.note_save(appointment=visit, values=TAP, user=therapist)
            notes.note_sign(appointment=visit, user=therapist, password=PASSWORD)
            plans.plan_enter_maintenance(plan=visit.plan, user=therapist, interval_days=14)
        scheduling.appointment_book(
            plan=booked, start=local_datetime(day + dt.timedelta(days=28), dt.time(10))
        )
        reminders.reminders_sweep()
        mail.outbox.clear()
        moment = local_datetime(day + dt.timedelta(days=15), dt.time(9, 5))
        time_machine.move_to(moment, tick=False)
        for _ in range(2):  # beat runs both every minute; twice changes nothing
            reminders.plan_maintenance_recalls()
            reminders.reminders_sweep()
        recalls = Reminder.objects.filter(kind=Reminder.Kind.MAINTENANCE_RECALL)
        assert list(recalls.values_list("plan_id", "status")) == [(due.pk, "sent")]
        assert [m.to for m in mail.outbox] == [[due.patient.email]]


# ------------------------------------------------------------ the note pages
@pytest.mark.django_db
class TestNotePages:
    def test_the_note_form_shows_the_screenings_precautions(
        self, clinic, day, time_machine, therapist, client
    ):
        plan = PlanFactory()
        start = local_datetime(day, dt.time(10))
        time_machine.move_to(start - dt.timedelta(days=3), tick=False)
        ScreeningFactory(patient=plan.patient, screened_at=start - dt.timedelta(days=2), epilepsy=True)
        appointment = scheduling.appointment_book(plan=plan, start=start)
        time_machine.move_to(start, tick=False)
        client.force_login(therapist)
        body = client.get(reverse("notes:note", kwargs={"pk": appointment.pk})).content.decode()
        assert 'id="precautions"' in body and "Epilepsy" in body

    def test_the_signed_note_shows_every_recorded_field(self, clinic, day, time_machine, therapist, client):
        plan = PlanFactory(tap_water=True)
        appointment = book(plan, local_datetime(day, dt.time(10)), time_machine)
        time_machine.move_to(appointment.start + dt.timedelta(minutes=30), tick=False)
        notes.note_save(appointment=appointment, values=TAP, user=therapist)
        notes.note_sign(appointment=appointment, user=therapist, password=PASSWORD)
        client.force_login(therapist)
        body = client.get(reverse("notes:note", kwargs={"pk": appointment.pk})).content.decode()
        for text in ("Baking soda, one teaspoon", "HDSS", "3 / 4", "vaseline barrier", "polarity switched"):
            assert text in body
        visit = book(PlanFactory(), local_datetime(day + dt.timedelta(days=1), dt.time(10)), time_machine)
        time_machine.move_to(visit.start + dt.timedelta(minutes=30), tick=False)
        notes.note_save(appointment=visit, values=ionto(visit), user=therapist)
        notes.note_sign(appointment=visit, user=therapist, password=PASSWORD)
        client.force_login(therapist)  # a day later: the idle session has expired
        body = client.get(reverse("notes:note", kwargs={"pk": visit.pk})).content.decode()
        assert "Buffered electrode, lot EL-7" in body

    def test_the_progress_print_has_signed_notes_only_and_a_dose_for_phonophoresis(
        self, clinic, day, time_machine, therapist, client, settings
    ):
        plan = PlanFactory(phono=True)
        first = book(plan, local_datetime(day, dt.time(10)), time_machine)
        second = scheduling.appointment_book(
            plan=plan, start=local_datetime(day + dt.timedelta(days=2), dt.time(10))
        )
        phono = {
            "frequency_mhz": 1,
            "intensity_w_cm2": Decimal("1.0"),
            "duty_cycle_pct": 50,
            "treatment_minutes": Decimal("8"),
            "coupling_medium": "Gel",
            "medication_lot": "G-1",
            "medication_expiry": day + dt.timedelta(days=60),
            "medication_volume_ml": Decimal("2"),
            "skin_before": "normal",
            "skin_after": "normal",
            "pain_before": 5,
            "pain_after": 3,
            "timed_minutes": 8,
        }
        time_machine.move_to(first.start + dt.timedelta(minutes=20), tick=False)
        notes.note_save(appointment=first, values=phono, user=therapist)
        notes.note_sign(appointment=first, user=therapist, password=PASSWORD)
        time_machine.move_to(second.start + dt.timedelta(minutes=20), tick=False)
        notes.note_save(appointment=second, values=phono, user=therapist)  # a draft: not printed
        client.force_login(therapist)
        response = client.get(reverse("notes:progress", kwargs={"pk": plan.pk}))
        rows = response.context["rows"]
        assert [row["note"].appointment_id for row in rows] == [first.pk]
        assert rows[0]["cumulative_dose"] == Decimal("240.0")  # 1.0 W/cm² × 50 % × 480 s
        body = response.content.decode()
        assert settings.CLINIC_NAME in body and "Theo, PT, DPT" in body and "J/cm²" in body


@pytest.mark.django_db
def test_the_progress_page_and_billing_csv_keep_a_fixed_query_budget(
    clinic, day, time_machine, therapist, clinic_admin, client, django_assert_max_num_queries
):
    plan = PlanFactory(tap_water=True, frequency_per_week=3, min_interval_hours=24)
    first = book(plan, local_datetime(day, dt.time(10)), time_machine)
    visits = [first] + [
        scheduling.appointment_book(plan=plan, start=local_datetime(day + dt.timedelta(days=n), dt.time(10)))
        for n in (1, 2)
    ]
    for visit in visits:
        time_machine.move_to(visit.start + dt.timedelta(minutes=30), tick=False)
        notes.note_save(appointment=visit, values=TAP, user=therapist)
        notes.note_sign(appointment=visit, user=therapist, password=PASSWORD)
    client.force_login(therapist)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("notes:progress", kwargs={"pk": plan.pk})).status_code == 200
    client.force_login(clinic_admin)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("notes:billing"), {"format": "csv"})
    assert len(response.content.decode().splitlines()) == 4  # header and three dates of service
