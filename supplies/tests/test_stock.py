"""Stock: receiving, what each saved note draws, give-back on draft edits,
the final draw of a signed note, R9 with lots on the shelf."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from clinic.exceptions import Locked
from clinic.rule_codes import codes_of
from notes import services as notes
from supplies import services
from supplies.models import ExpiredUseAttempt, Lot, StockMovement, SupplyItem
from supplies.tests.conftest import book_visit
from supplies.tests.factories import SupplyItemFactory, receive

NOTE = {
    "current_ma": Decimal("4"),
    "treatment_minutes": Decimal("10"),
    "polarity": "negative",
    "electrode_type": "buffered",
    "medication_volume_ml": Decimal("1.5"),
    "skin_before": "normal",
    "skin_after": "erythema",
    "pain_before": 6,
    "pain_after": 4,
    "timed_minutes": 10,  # within the delivered time (R18)
}


def save(visit, user, **changes):
    return notes.note_save(appointment=visit, values={**NOTE, **changes}, user=user)


def on_hand(lot: Lot) -> Decimal:
    lot.refresh_from_db()
    return lot.on_hand


def assert_ledger(lot: Lot) -> None:
    """The running balance is the sum of the lot's movements, never edited."""
    total = StockMovement.objects.filter(lot=lot).aggregate(t=Sum("quantity"))["t"] or 0
    assert on_hand(lot) == total


@pytest.fixture
def vial(db):
    return SupplyItemFactory()


@pytest.fixture
def drug_lot(vial, therapist, visit):
    return receive(vial, user=therapist, quantity="10", lot_number="DX-1")


@pytest.mark.django_db
class TestReceive:
    def test_receiving_makes_a_lot_and_a_receipt_row(self, vial, therapist):
        lot = receive(vial, user=therapist, quantity="25", lot_number="DX-9")
        assert (lot.quantity_received, lot.on_hand, lot.unit_cost) == (25, 25, Decimal("0.8000"))
        movement = StockMovement.objects.get(lot=lot)
        assert (movement.kind, movement.quantity, movement.created_by) == ("receipt", 25, therapist)

    def test_the_same_lot_again_adds_to_it(self, vial, therapist):
        first = receive(vial, user=therapist, quantity="10", lot_number="DX-9", expiry=dt.date(2031, 1, 1))
        again = receive(vial, user=therapist, quantity="5", lot_number="DX-9", expiry=dt.date(2031, 1, 1))
        assert again.pk == first.pk and (again.quantity_received, again.on_hand) == (15, 15)
        assert_ledger(again)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"quantity": "0"}, "quantity"),
            ({"lot_number": " "}, "lot_number"),
            ({"expiry": dt.date(2001, 1, 1)}, "expiry"),
        ],
    )
    def test_bad_receipts_are_refused_and_write_nothing(self, vial, therapist, changes, field):
        with pytest.raises(ValidationError) as info:
            receive(vial, user=therapist, **changes)
        assert field in info.value.error_dict
        assert not Lot.objects.exists() and not StockMovement.objects.exists()

    def test_a_second_receipt_with_another_expiry_is_refused(self, vial, therapist):
        receive(vial, user=therapist, lot_number="DX-9", expiry=dt.date(2031, 1, 1))
        with pytest.raises(ValidationError) as info:
            receive(vial, user=therapist, lot_number="DX-9", expiry=dt.date(2032, 1, 1))
        assert "expiry" in info.value.error_dict
        assert StockMovement.objects.count() == 1


@pytest.mark.django_db
class TestNoteDraws:
    def test_a_saved_note_draws_the_volume_from_the_chosen_lot(self, visit, therapist, drug_lot):
        note = save(visit, therapist, medication_stock_lot=drug_lot.pk)
        assert (note.medication_lot, note.medication_expiry) == ("DX-1", drug_lot.expiry)
        assert on_hand(drug_lot) == Decimal("8.5")
        draw = StockMovement.objects.get(note=note)
        assert (draw.kind, draw.quantity, draw.created_by) == ("draw", Decimal("-1.5"), therapist)
        assert str(visit.pk) in draw.reason
        assert_ledger(drug_lot)

    def test_editing_the_draft_gives_back_the_difference(self, visit, therapist, drug_lot):
        save(visit, therapist, medication_stock_lot=drug_lot.pk)
        note = save(visit, therapist, medication_stock_lot=drug_lot.pk, medication_volume_ml=Decimal("1.0"))
        assert on_hand(drug_lot) == Decimal("9.0")
        kinds = list(StockMovement.objects.filter(note=note).order_by("id").values_list("kind", "quantity"))
        assert kinds == [("draw", Decimal("-1.5")), ("return", Decimal("0.5"))]
        save(visit, therapist, medication_stock_lot=drug_lot.pk, medication_volume_ml=Decimal("2.0"))
        assert on_hand(drug_lot) == Decimal("8.0")
        assert_ledger(drug_lot)

    def test_switching_to_the_patients_vial_gives_everything_back(self, visit, therapist, drug_lot):
        save(visit, therapist, medication_stock_lot=drug_lot.pk)
        note = save(
            visit,
            therapist,
            medication_patient_supplied=True,
            medication_lot="OWN-7",
            medication_expiry=visit.start.date() + dt.timedelta(days=60),
        )
        assert on_hand(drug_lot) == 10
        assert note.medication_lot == "OWN-7"
        assert services.drawn_by_note(note) == {}

    def test_switching_lots_moves_the_draw(self, visit, therapist, drug_lot, vial):
        other = receive(vial, user=therapist, quantity="5", lot_number="DX-2")
        save(visit, therapist, medication_stock_lot=drug_lot.pk)
        save(visit, therapist, medication_stock_lot=other.pk)
        assert (on_hand(drug_lot), on_hand(other)) == (10, Decimal("3.5"))

    def test_the_patients_own_vial_draws_nothing(self, visit, therapist, drug_lot):
        note = save(
            visit,
            therapist,
            medication_patient_supplied=True,
            medication_lot="OWN-1",
            medication_expiry=visit.start.date() + dt.timedelta(days=60),
        )
        assert note.medication_lot == "OWN-1"
        assert on_hand(drug_lot) == 10 and not StockMovement.objects.filter(note=note).exists()

    def test_with_the_drug_in_stock_the_note_must_say_where_it_came_from(self, visit, therapist, drug_lot):
        with pytest.raises(ValidationError) as info:
            save(visit, therapist, medication_lot="UNKNOWN", medication_expiry=visit.start.date())
        assert codes_of(info.value) == ["R9.source"]
        assert not notes.SessionNote.objects.exists()

    def test_a_lot_number_that_names_a_lot_on_the_shelf_draws_from_it(self, visit, therapist, drug_lot):
        save(visit, therapist, medication_lot="DX-1")
        assert on_hand(drug_lot) == Decimal("8.5")

    def test_a_lot_of_another_drug_is_refused(self, visit, therapist, drug_lot):
        from treatments.tests.factories import MedicationFactory

        lidocaine = SupplyItemFactory(name="Lidocaine vial", medication=MedicationFactory(name="Lidocaine"))
        wrong = receive(lidocaine, user=therapist, lot_number="LI-1")
        with pytest.raises(ValidationError) as info:
            save(visit, therapist, medication_stock_lot=wrong.pk)
        assert codes_of(info.value) == ["R9.stock_lot"]
        assert on_hand(wrong) == 10

    def test_an_expired_lot_is_refused_and_the_attempt_is_kept(self, visit, therapist, vial):
        lot = receive(vial, user=therapist, lot_number="OLD-1", expiry=visit.start.date())
        day_before = visit.start.date() - dt.timedelta(days=1)
        Lot.objects.filter(pk=lot.pk).update(expiry=day_before)  # it expired on the shelf
        with pytest.raises(ValidationError) as info:
            save(visit, therapist, medication_stock_lot=lot.pk)
        assert "R9.expired" in codes_of(info.value)
        assert on_hand(lot) == 10 and not notes.SessionNote.objects.exists()
        attempt = ExpiredUseAttempt.objects.get()
        assert (attempt.lot, attempt.appointment, attempt.user) == (lot, visit, therapist)

    def test_a_lot_expiring_on_the_session_day_is_still_usable(self, visit, therapist, vial):
        lot = receive(vial, user=therapist, lot_number="LAST-DAY", expiry=visit.start.date())
        save(visit, therapist, medication_stock_lot=lot.pk)
        assert on_hand(lot) == Decimal("8.5")

    def test_not_enough_on_hand_names_the_lot_and_writes_nothing(self, visit, therapist, vial):
        lot = receive(vial, user=therapist, quantity="1", lot_number="DX-LOW")
        with pytest.raises(ValidationError) as info:
            save(visit, therapist, medication_stock_lot=lot.pk)
        assert codes_of(info.value) == ["R9.stock"]
        assert "DX-LOW" in str(info.value.error_dict["medication_volume_ml"])
        assert on_hand(lot) == 1 and not notes.SessionNote.objects.exists()

    def test_one_electrode_set_first_to_expire_is_drawn(self, visit, therapist, drug_lot):
        electrodes = SupplyItemFactory(electrode=True)
        late = receive(electrodes, user=therapist, quantity="20", lot_number="EL-LATE")
        soon = receive(
            electrodes,
            user=therapist,
            quantity="20",
            lot_number="EL-SOON",
            expiry=visit.start.date() + dt.timedelta(days=40),
        )
        note = save(visit, therapist, medication_stock_lot=drug_lot.pk, electrode_lot="")
        assert note.electrode_lot == "EL-SOON"
        assert (on_hand(soon), on_hand(late)) == (19, 20)
        save(visit, therapist, medication_stock_lot=drug_lot.pk)  # saved again: nothing more drawn
        assert on_hand(soon) == 19

    def test_an_expired_electrode_lot_is_refused(self, visit, therapist, drug_lot):
        electrodes = SupplyItemFactory(electrode=True)
        lot = receive(electrodes, user=therapist, quantity="20", lot_number="EL-OLD")
        Lot.objects.filter(pk=lot.pk).update(expiry=visit.start.date() - dt.timedelta(days=1))
        with pytest.raises(ValidationError) as info:
            save(visit, therapist, medication_stock_lot=drug_lot.pk, electrode_lot="EL-OLD")
        assert codes_of(info.value) == ["R9.expired"]
        assert ExpiredUseAttempt.objects.get().lot == lot

    def test_phonophoresis_draws_drug_and_gel(self, time_machine, therapist):
        visit = book_visit(time_machine, phono=True)
        vial = SupplyItemFactory(name="Dexamethasone 0.4 % gel base", medication=visit.plan.medication)
        drug = receive(vial, user=therapist, quantity="30")
        gel = receive(SupplyItemFactory(gel=True), user=therapist, quantity="250")
        notes.note_save(
            appointment=visit,
            values={
                "frequency_mhz": 1,
                "intensity_w_cm2": Decimal("1.0"),
                "duty_cycle_pct": 100,
                "treatment_minutes": 8,
                "treatment_area_cm2": Decimal("20"),
                "coupling_medium": "gel",
                "medication_volume_ml": Decimal("2"),
                "medication_stock_lot": drug.pk,
                "timed_minutes": 8,
            },
            user=therapist,
        )
        assert (on_hand(drug), on_hand(gel)) == (28, 240)

    def test_tap_water_draws_nothing(self, time_machine, therapist):
        visit = book_visit(time_machine, tap_water=True)
        receive(SupplyItemFactory(electrode=True), user=therapist, quantity="5")
        notes.note_save(
            appointment=visit,
            values={
                "tray": "hands",
                "current_ma": Decimal("15"),
                "treatment_minutes": 20,
                "timed_minutes": 20,
            },
            user=therapist,
        )
        assert not StockMovement.objects.exclude(kind="receipt").exists()

    def test_a_signed_notes_draw_is_final(self, visit, therapist, drug_lot):
        save(visit, therapist, medication_stock_lot=drug_lot.pk)
        notes.note_sign(appointment=visit, user=therapist, password="phoresis-demo")
        with pytest.raises(Locked):
            save(visit, therapist, medication_stock_lot=drug_lot.pk, medication_volume_ml=Decimal("1"))
        assert on_hand(drug_lot) == Decimal("8.5")

    def test_a_correction_of_a_signed_note_is_its_own_movement(self, visit, therapist, drug_lot):
        note = save(visit, therapist, medication_stock_lot=drug_lot.pk)
        notes.note_sign(appointment=visit, user=therapist, password="phoresis-demo")
        services.stock_correct(
            lot=drug_lot,
            quantity=Decimal("-0.5"),
            reason="Addendum: 2 mL were used",
            user=therapist,
            note=note,
        )
        assert on_hand(drug_lot) == Decimal("8.0")
        assert_ledger(drug_lot)
        with pytest.raises(ValidationError):
            services.stock_correct(lot=drug_lot, quantity=Decimal("-1"), reason="", user=therapist)

    def test_without_stock_of_the_drug_notes_keep_free_text_lots(self, visit, therapist):
        note = save(visit, therapist, medication_lot="FREE-1", medication_expiry=visit.start.date())
        assert note.medication_lot == "FREE-1"
        assert not StockMovement.objects.exists()


def test_item_kinds_cover_the_catalog():
    assert set(SupplyItem.Kind.values) == {"drug_vial", "electrode", "gel", "consumable"}


@pytest.mark.django_db
class TestVoidedVisit:
    def test_cancelling_a_visit_gives_back_what_its_draft_drew(self, visit, therapist, drug_lot):
        from appointments import services as scheduling

        note = save(visit, therapist, medication_stock_lot=drug_lot.pk)
        scheduling.appointment_cancel(appointment=visit, reason="Patient unwell", user=therapist)
        assert on_hand(drug_lot) == 10
        back = StockMovement.objects.filter(note=note, kind="return").get()
        assert back.quantity == Decimal("1.5") and "cancelled" in back.reason
        assert_ledger(drug_lot)

    def test_a_no_show_gives_back_too_and_a_signed_note_keeps_its_draw(self, time_machine, therapist, vial):
        from appointments import services as scheduling

        lot = receive(vial, user=therapist, quantity="10")
        first = book_visit(time_machine, weekday=2)
        save(first, therapist, medication_stock_lot=lot.pk)
        scheduling.appointment_no_show(appointment=first, user=therapist)
        assert on_hand(lot) == 10
        second = book_visit(time_machine, weekday=3)
        save(second, therapist, medication_stock_lot=lot.pk)
        notes.note_sign(appointment=second, user=therapist, password="phoresis-demo")
        assert on_hand(lot) == Decimal("8.5")
