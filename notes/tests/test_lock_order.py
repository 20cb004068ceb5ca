"""One lock order for every write that takes several row locks (note →
appointment → plan, see appointments.locks): signing a burn note (locks the
note, completes the visit, puts the plan on hold) and rescheduling the same
visit (locks the visit and its plan), raced many times on PostgreSQL, never
deadlock and always leave one consistent story."""

import datetime as dt
import re
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from appointments import services as scheduling
from appointments.models import Appointment
from appointments.tests.conftest import next_weekday
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.localtime import local_datetime
from clinic.tests.factories import UserFactory
from notes import services as notes
from notes.models import SessionNote
from notes.tests.test_services import good
from patients.tests.factories import ScreeningFactory
from treatments.models import TreatmentPlan
from treatments.tests.factories import PlanFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 12
DAY = next_weekday(2)
START = local_datetime(DAY, dt.time(10))
LATER = local_datetime(DAY, dt.time(14))


def _visit(time_machine, round_no: int) -> Appointment:
    plan = PlanFactory()
    ScreeningFactory(patient=plan.patient, screened_at=START - dt.timedelta(days=1))
    room = RoomFactory(name=f"Room L{round_no}")
    DeviceFactory(home_room=room)
    therapist = TherapistFactory(display_name=f"Lock {round_no}")
    time_machine.move_to(START - dt.timedelta(hours=1), tick=False)
    visit = scheduling.appointment_book(plan=plan, start=START, therapist=therapist)
    time_machine.move_to(START + dt.timedelta(minutes=20), tick=False)
    return visit


def _race(visit: Appointment, user) -> dict[str, int]:
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def run(name: str, path: str, body: dict) -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=10)
            results[name] = client.post(path, body, format="json").status_code
        except BaseException as exc:  # a deadlock surfaces here as an error
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run,
            args=("sign", f"/api/v1/appointments/{visit.pk}/note/sign/", {"password": "phoresis-demo"}),
        ),
        threading.Thread(
            target=run,
            args=("move", f"/api/v1/appointments/{visit.pk}/reschedule/", {"start": LATER.isoformat()}),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a request is still waiting on a lock"
    assert errors == []
    return results


def test_signing_a_burn_note_and_rescheduling_the_visit_never_deadlock(time_machine):
    user = UserFactory(username="locker", role="therapist")
    outcomes = set()
    for round_no in range(ROUNDS):
        visit = _visit(time_machine, round_no)
        notes.note_save(
            appointment=visit,
            values=good(visit, skin_after="burn"),
            user=user,
            adverse={"description": "Burn under the cathode", "action_taken": "Cooled"},
        )
        results = _race(visit, user)
        # Neither request may fail for any reason but the other having won.
        assert set(results.values()) <= {200, 400, 409}, results
        assert 500 not in results.values()

        visit.refresh_from_db()
        note = SessionNote.objects.get(appointment=visit)
        plan = TreatmentPlan.objects.get(pk=visit.plan_id)
        if results["sign"] == 200:
            # Signed: the visit is completed where it was when signed, the
            # burn held the plan, and a move after that was refused.
            assert note.status == SessionNote.Status.SIGNED
            assert visit.status == Appointment.Status.COMPLETED
            assert plan.status == TreatmentPlan.Status.ON_HOLD
            if results["move"] == 200:
                outcomes.add("moved, then signed")
                assert visit.start == LATER
            else:
                outcomes.add("signed, move refused")
                assert visit.start == START
        else:
            # Not signed: only because the move came first and the visit has
            # not started at its new time.
            assert results["move"] == 200
            outcomes.add("moved, sign refused")
            assert note.status == SessionNote.Status.DRAFT
            assert visit.start == LATER
            assert plan.status == TreatmentPlan.Status.ACTIVE
    assert outcomes, "no round finished"


# The lock order of appointments/locks.py, by table.
ORDER = ["treatments_sessionnote", "appointments_appointment", "treatments_treatmentplan"]


def _locked_tables(action) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        action()
    tables = [re.search(r'FROM "(\w+)"', q["sql"]).group(1) for q in queries if "FOR UPDATE" in q["sql"]]
    return [t for t in tables if t in ORDER]


def _in_order(tables: list[str]) -> bool:
    ranks = [ORDER.index(t) for t in tables]
    return ranks == sorted(ranks)


def test_every_path_that_locks_several_rows_takes_them_in_one_order(time_machine):
    user = UserFactory(username="orderly", role="therapist")
    visit = _visit(time_machine, 0)
    moved = _locked_tables(
        lambda: scheduling.appointment_reschedule(appointment=visit, start=LATER, user=user)
    )
    assert moved == ["appointments_appointment", "treatments_treatmentplan"]

    other = _visit(time_machine, 1)
    burn = {"description": "Burn under the cathode", "action_taken": "Cooled"}
    saved = _locked_tables(
        lambda: notes.note_save(
            appointment=other, values=good(other, skin_after="burn"), user=user, adverse=burn
        )
    )
    signed = _locked_tables(lambda: notes.note_sign(appointment=other, user=user, password="phoresis-demo"))
    # R16: the burn holds the plan when the note is saved; signing completes the visit.
    assert saved[0] == "treatments_sessionnote" and "treatments_treatmentplan" in saved
    assert signed[0] == "treatments_sessionnote"
    assert "appointments_appointment" in signed
    for path in (saved, signed):
        assert _in_order(path), path
