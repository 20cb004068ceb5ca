"""Twenty notes drawing the last 10 mL of one lot at once (PostgreSQL, real
connections): the lot never goes below zero and each loser is told which
lot ran short."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from appointments.tests.conftest import next_weekday
from notes import services as notes
from notes.models import SessionNote
from supplies.models import Lot, StockMovement
from supplies.tests.conftest import book_visit
from supplies.tests.factories import SupplyItemFactory, receive
from supplies.tests.test_stock import NOTE
from treatments.tests.factories import MedicationFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_notes_drawing_the_last_10_ml_never_go_below_zero(time_machine, therapist):
    medication = MedicationFactory()
    days = [next_weekday(day) for day in range(5)]
    visits = [
        book_visit(time_machine, day=day, at=dt.time(hour), medication=medication)
        for day in days
        for hour in (9, 11, 13, 15)
    ]
    lot = receive(
        SupplyItemFactory(medication=medication), user=therapist, quantity="10", lot_number="DX-LAST"
    )
    barrier = threading.Barrier(len(visits))
    saved, refused, crashed = [], [], []

    def draw(visit):
        try:
            barrier.wait(timeout=30)
            notes.note_save(
                appointment=visit,
                values={**NOTE, "medication_stock_lot": lot.pk, "medication_volume_ml": Decimal("1.5")},
                user=therapist,
            )
            saved.append(visit.pk)
        except ValidationError as exc:
            refused.append(exc)
        except Exception as exc:  # noqa: BLE001 - a crash fails the test below
            crashed.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=draw, args=(visit,)) for visit in visits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not crashed, crashed
    lot.refresh_from_db()
    assert lot.on_hand >= 0
    assert (len(saved), len(refused)) == (6, 14)  # 6 × 1.5 mL = 9 mL; 1 mL is left
    assert lot.on_hand == Decimal("1.0")
    assert lot.on_hand == StockMovement.objects.filter(lot=lot).aggregate(t=Sum("quantity"))["t"]
    assert SessionNote.objects.count() == 6
    for error in refused:
        message = " ".join(error.error_dict["medication_volume_ml"][0].messages)
        assert "DX-LAST" in message and "not enough" in message
    assert Lot.objects.get(pk=lot.pk).on_hand == Decimal("1.0")
