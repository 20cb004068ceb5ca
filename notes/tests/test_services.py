"""Session notes: R6–R11 on the service, the pages and the API."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from appointments import services as scheduling
from appointments.models import Appointment
from appointments.tests.conftest import next_weekday
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.exceptions import Locked
from clinic.localtime import local_datetime
from clinic.rule_codes import codes_of
from clinic.tests.factories import UserFactory
from notes import services as notes
from notes.models import Addendum, AdverseEvent, SessionNote
from patients.tests.factories import ScreeningFactory
from treatments.models import TreatmentPlan
from treatments.selectors import plans_with_counts
from treatments.tests.factories import PlanFactory

GOOD = {
    "current_ma": Decimal("4"),
    "treatment_minutes": Decimal("10"),
    "polarity": "negative",
    "electrode_type": "buffered",
    "electrode_lot": "EL-1",
    "medication_lot": "DX-42",
    "medication_volume_ml": Decimal("1.5"),
    "skin_before": "normal",
    "skin_after": "erythema",
    "pain_before": 6,
    "pain_after": 4,
    "timed_minutes": 10,
}


@pytest.fixture
def visit(db, time_machine):
    """A dexamethasone iontophoresis visit today at 10:00, checked in."""
    day = next_weekday(1)
    start = local_datetime(day, dt.time(10))
    plan = PlanFactory()
    ScreeningFactory(patient=plan.patient, screened_at=start - dt.timedelta(days=1))
    room = RoomFactory(name="Room N")
    DeviceFactory(home_room=room)
    TherapistFactory(display_name="Theo")
    time_machine.move_to(start - dt.timedelta(hours=1), tick=False)
    appointment = scheduling.appointment_book(plan=plan, start=start)
    time_machine.move_to(start + dt.timedelta(minutes=20), tick=False)
    return appointment


@pytest.fixture
def therapist_user_pw(db):
    return UserFactory(username="signer", role="therapist")


def good(appointment, **changes):
    values = dict(GOOD, medication_expiry=appointment.start.date() + dt.timedelta(days=30))
    values.update(changes)
    return values


def save(appointment, user, **changes):
    return notes.note_save(appointment=appointment, values=good(appointment, **changes), user=user)


@pytest.mark.django_db
class TestService:
    def test_a_good_note_computes_dose_cpt_and_units(self, visit, therapist_user_pw):
        note = save(visit, therapist_user_pw)
        assert note.dose_ma_min == Decimal("40.00")
        assert (note.cpt_code, note.billing_units) == ("97033", 1)

    def test_initial_values_come_from_the_plan(self, visit):
        values = notes.initial_values(visit.plan)
        assert values["current_ma"] == Decimal("4") and values["treatment_minutes"] == Decimal("10.0")
        assert values["polarity"] == "negative"

    @pytest.mark.parametrize(
        ("changes", "field", "text"),
        [
            ({"current_ma": Decimal("5")}, "current_ma", "between"),
            ({"polarity": "positive"}, "polarity", "negative"),
            ({"treatment_minutes": Decimal("25")}, "treatment_minutes", "80"),
            ({"medication_lot": ""}, "medication_lot", "lot"),
            ({"medication_volume_ml": None}, "medication_volume_ml", "mL"),
            ({"pain_after": 11}, "pain_after", "0 to 10"),
        ],
    )
    def test_bad_values_are_refused_with_a_field_error_and_nothing_saved(
        self, visit, therapist_user_pw, changes, field, text
    ):
        with pytest.raises(ValidationError) as info:
            save(visit, therapist_user_pw, **changes)
        assert text in " ".join(info.value.message_dict[field])
        assert not SessionNote.objects.exists()

    def test_an_expired_lot_is_refused(self, visit, therapist_user_pw):
        with pytest.raises(ValidationError) as info:
            save(visit, therapist_user_pw, medication_expiry=visit.start.date() - dt.timedelta(days=1))
        assert "expired" in info.value.message_dict["medication_expiry"][0]
        assert codes_of(info.value) == ["R9.expired"]
        assert not SessionNote.objects.exists()

    def test_a_drug_session_without_lot_expiry_or_volume_names_each_r9_code(self, visit, therapist_user_pw):
        with pytest.raises(ValidationError) as info:
            save(
                visit, therapist_user_pw, medication_lot="", medication_expiry=None, medication_volume_ml=None
            )
        assert codes_of(info.value) == ["R9.lot", "R9.expiry", "R9.volume"]

    def test_out_of_typical_range_needs_a_confirmation(self, visit, therapist_user_pw):
        low = {"current_ma": Decimal("2"), "treatment_minutes": Decimal("10")}  # 20 mA·min < 40
        with pytest.raises(ValidationError, match="typical range"):
            save(visit, therapist_user_pw, **low)
        note = notes.note_save(
            appointment=visit, values=good(visit, **low), user=therapist_user_pw, confirm_out_of_range=True
        )
        assert note.dose_ma_min == Decimal("20.00")

    def test_a_blister_needs_an_adverse_event_entry(self, visit, therapist_user_pw):
        with pytest.raises(ValidationError) as info:
            save(visit, therapist_user_pw, skin_after="blister")
        assert "adverse_description" in info.value.message_dict
        note = notes.note_save(
            appointment=visit,
            values=good(visit, skin_after="blister"),
            user=therapist_user_pw,
            adverse={"description": "3 mm blister under cathode", "action_taken": "Dressing, plan reviewed"},
        )
        event = AdverseEvent.objects.get(note=note)
        assert (event.kind, event.plan, event.patient) == ("blister", visit.plan, visit.patient)

    def test_signing_locks_completes_and_counts_once(self, visit, therapist_user_pw):
        save(visit, therapist_user_pw)
        with pytest.raises(ValidationError, match="password"):
            notes.note_sign(appointment=visit, user=therapist_user_pw, password="wrong")
        note = notes.note_sign(appointment=visit, user=therapist_user_pw, password="phoresis-demo")
        assert note.is_signed and note.signed_by == therapist_user_pw
        visit.refresh_from_db()
        assert visit.status == Appointment.Status.COMPLETED
        plan = plans_with_counts(TreatmentPlan.objects.filter(pk=visit.plan_id)).get()
        assert plan.completed_count == 1
        with pytest.raises(Locked):
            save(visit, therapist_user_pw, pain_after=0)
        with pytest.raises(Locked):
            notes.note_sign(appointment=visit, user=therapist_user_pw, password="phoresis-demo")
        assert SessionNote.objects.get().pain_after == 4

    def test_signing_needs_a_current_screening_or_an_override(self, visit, therapist_user_pw):
        save(visit, therapist_user_pw)
        ScreeningFactory(
            patient=visit.patient, pregnancy=True, screened_at=visit.start - dt.timedelta(minutes=30)
        )
        with pytest.raises(ValidationError) as info:
            notes.note_sign(appointment=visit, user=therapist_user_pw, password="phoresis-demo")
        assert "override_reason" in info.value.message_dict
        assert codes_of(info.value) == ["R6.contraindication"]
        note = notes.note_sign(
            appointment=visit,
            user=therapist_user_pw,
            password="phoresis-demo",
            override_reason="Physician cleared",
        )
        assert note.screening_override_reason == "Physician cleared"

    def test_a_burn_puts_the_plan_on_hold_at_signing(self, visit, therapist_user_pw):
        notes.note_save(
            appointment=visit,
            values=good(visit, skin_after="burn"),
            user=therapist_user_pw,
            adverse={"description": "Small burn", "action_taken": "Cooled, dressed"},
        )
        notes.note_sign(appointment=visit, user=therapist_user_pw, password="phoresis-demo")
        visit.plan.refresh_from_db()
        assert visit.plan.status == TreatmentPlan.Status.ON_HOLD

    def test_addenda_are_kept_with_author_and_time(self, visit, therapist_user_pw):
        save(visit, therapist_user_pw)
        with pytest.raises(ValidationError, match="signed notes"):
            notes.addendum_add(appointment=visit, user=therapist_user_pw, text="early")
        notes.note_sign(appointment=visit, user=therapist_user_pw, password="phoresis-demo")
        addendum = notes.addendum_add(
            appointment=visit, user=therapist_user_pw, text="Patient called: redness gone"
        )
        assert addendum.author == therapist_user_pw and addendum.created_at is not None
        assert Addendum.objects.count() == 1


@pytest.mark.django_db
class TestPages:
    def test_front_desk_cannot_open_a_note(self, client, front_desk, visit):
        client.force_login(front_desk)
        assert client.get(reverse("notes:note", args=[visit.pk])).status_code == 403

    def test_bad_value_rerenders_with_the_input_kept(self, client, therapist_user_pw, visit):
        client.force_login(therapist_user_pw)
        data = {k: v for k, v in good(visit, current_ma="5").items() if v is not None}
        response = client.post(reverse("notes:note", args=[visit.pk]), data)
        assert response.status_code == 400
        body = response.content.decode()
        assert "between" in body and 'value="5"' in body
        assert not SessionNote.objects.exists()

    def test_a_signed_note_cannot_be_changed_from_the_page(self, client, therapist_user_pw, visit):
        save(visit, therapist_user_pw)
        notes.note_sign(appointment=visit, user=therapist_user_pw, password="phoresis-demo")
        client.force_login(therapist_user_pw)
        data = {k: v for k, v in good(visit, pain_after="0").items() if v is not None}
        response = client.post(reverse("notes:note", args=[visit.pk]), data)
        assert response.status_code == 409
        assert SessionNote.objects.get().pain_after == 4

    def test_progress_page_shows_sessions_and_cumulative_dose(self, client, therapist_user_pw, visit):
        save(visit, therapist_user_pw)
        client.force_login(therapist_user_pw)
        draft = client.get(reverse("notes:progress", args=[visit.plan_id])).content.decode()
        assert "4.00 mA × 10.0 min" not in draft  # the summary prints signed notes only
        notes.note_sign(appointment=visit, user=therapist_user_pw, password="phoresis-demo")
        response = client.get(reverse("notes:progress", args=[visit.plan_id]))
        assert response.status_code == 200
        assert "4.00 mA × 10.0 min" in response.content.decode()
        assert "pain-data" in response.content.decode()

    def test_billing_csv_for_admins(self, client, clinic_admin, therapist_user_pw, visit):
        save(visit, therapist_user_pw)
        notes.note_sign(appointment=visit, user=therapist_user_pw, password="phoresis-demo")
        client.force_login(clinic_admin)
        response = client.get(reverse("notes:billing"), {"format": "csv"})
        assert response.status_code == 200
        lines = response.content.decode().splitlines()
        assert lines[0].startswith("date_of_service,mrn,patient,payer,member_id,authorization_number")
        assert lines[1].startswith(visit.start.date().isoformat())
        assert ",97033,1,10,1,Theo" in lines[1]
        client.force_login(therapist_user_pw)
        assert client.get(reverse("notes:billing")).status_code == 403


@pytest.mark.django_db
class TestApi:
    def _api(self, user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    def test_put_get_sign_and_locked_afterwards(self, visit, therapist_user_pw, front_desk):
        api = self._api(therapist_user_pw)
        url = f"/api/v1/appointments/{visit.pk}/note/"
        payload = {k: str(v) for k, v in good(visit).items()}
        created = api.put(url, payload, format="json")
        assert created.status_code == 201, created.json()
        assert created.json()["dose_ma_min"] == "40.00"
        assert created.json()["billing_units"] == 1
        bad = api.put(url, {**payload, "current_ma": "5"}, format="json")
        assert bad.status_code == 400 and "current_ma" in bad.json()
        assert api.post(f"{url}sign/", {"password": "nope"}, format="json").status_code == 400
        signed = api.post(f"{url}sign/", {"password": "phoresis-demo"}, format="json")
        assert signed.status_code == 200 and signed.json()["status"] == "signed"
        locked = api.put(url, {**payload, "pain_after": "0"}, format="json")
        assert locked.status_code == 409
        assert api.get(url).json()["pain_after"] == 4
        added = api.post(f"{url}addenda/", {"text": "Follow-up call done"}, format="json")
        assert added.status_code == 201
        assert api.get(url).json()["addenda"][0]["author"] == "signer"
        assert self._api(front_desk).get(url).status_code == 403

    def test_expired_lot_answers_400(self, visit, therapist_user_pw):
        api = self._api(therapist_user_pw)
        payload = {
            k: str(v)
            for k, v in good(visit, medication_expiry=visit.start.date() - dt.timedelta(days=2)).items()
        }
        response = api.put(f"/api/v1/appointments/{visit.pk}/note/", payload, format="json")
        assert response.status_code == 400
        assert "medication_expiry" in response.json()
        assert response.json()["codes"] == ["R9.expired"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sign_requests_at_once_complete_the_visit_once(visit, therapist_user_pw):
    save(visit, therapist_user_pw)
    barrier = threading.Barrier(2)
    statuses = []

    def sign():
        client = APIClient()
        client.force_authenticate(therapist_user_pw)
        try:
            barrier.wait(timeout=10)
            statuses.append(
                client.post(
                    f"/api/v1/appointments/{visit.pk}/note/sign/", {"password": "phoresis-demo"}
                ).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    plan = plans_with_counts(TreatmentPlan.objects.filter(pk=visit.plan_id)).get()
    assert plan.completed_count == 1
    assert Appointment.objects.get(pk=visit.pk).status == Appointment.Status.COMPLETED
