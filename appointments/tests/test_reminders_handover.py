"""The commit point and the record of "sent" as one statement each
(appointments/reminders/handover.py): what they cost per message, that the
one-statement commit point says "send" only where the full re-check would,
and that it still waits for a change holding the visit's row lock."""

import datetime as dt
import threading
import time

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments import reminders, services
from appointments.models import Appointment, Reminder
from appointments.reminders import handover, sending
from appointments.reminders.content import batch_facts
from appointments.tests.reminders_support import outbox_messages, reminder_id  # noqa: F401
from patients.models import Patient
from treatments.models import TreatmentPlan

pytestmark = pytest.mark.django_db

Kind = Reminder.Kind
Status = Reminder.Status


@pytest.fixture
def visit(plan, therapist, room, device, at):
    return services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)


def claimed(kind=Kind.CONFIRMATION) -> tuple[sending.Claim, Reminder]:
    claim = sending.claim_due(now=timezone.now(), limit=10)
    row = Reminder.objects.select_related(*sending.RELATED).get(pk__in=claim.ids, kind=kind)
    return claim, row


def handed_over(claim: sending.Claim, row: Reminder) -> bool:
    return handover.hand_over(row, token=claim.token, message_id="<m@x>", now=timezone.now())


def test_the_commit_point_of_a_current_visit_is_one_statement(visit):
    claim, row = claimed()
    batch = sending.Batch(claim.token, None, batch_facts([row]), sending.Outcome())
    with CaptureQueriesContext(connection) as queries:
        sending._commit_point(row, batch, "<m@x>")()
    assert len(queries) == 1, [q["sql"] for q in queries]
    row.refresh_from_db()
    assert (row.status, row.message_id) == (Status.SENDING, "<m@x>") and row.send_started_at


def test_a_batch_costs_two_statements_per_message_and_a_few_per_batch(plan, at, therapist, room, device):
    for day in (0, 2, 7, 9):
        services.appointment_book(plan=plan, start=at(day, "10:00"), therapist=therapist)
    due = Reminder.objects.filter(due_at__lte=timezone.now()).count()
    assert due == 4
    claim = sending.claim_due(now=timezone.now(), limit=10)
    with CaptureQueriesContext(connection) as queries:
        assert sending._deliver_claimed(claim).sent == 4
    # The batch's rows, its facts (timed reminders, clinic rules, the intake
    # hook's first visits), then per message: the commit point and "sent".
    per_message = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(per_message) == 2 * 4, per_message
    assert len(queries) - len(per_message) <= 4, [q["sql"] for q in queries]
    assert len(mail.outbox) == 4


@pytest.mark.parametrize(
    "change",
    [
        "moved",
        "cancelled",
        "completed",
        "started",
        "opted_out",
        "no_email",
        "on_hold",
        "claim_lost",
        "handed_over",
    ],
)
def test_the_one_statement_never_sends_what_the_full_recheck_stops(visit, at, change):
    claim, row = claimed()
    visits = Appointment.objects.filter(pk=visit.pk)
    now = timezone.now()
    if change == "moved":
        visits.update(start=at(1, "10:00"), end=at(1, "10:30"))
    elif change == "cancelled":
        visits.update(status=Appointment.Status.CANCELLED)
    elif change == "completed":
        visits.update(status=Appointment.Status.COMPLETED)
    elif change == "started":
        now = visit.start
    elif change == "opted_out":
        Patient.objects.filter(pk=visit.patient_id).update(reminder_opt_in=False)
    elif change == "no_email":
        Patient.objects.filter(pk=visit.patient_id).update(email="")
    elif change == "on_hold":
        TreatmentPlan.objects.filter(pk=visit.plan_id).update(status=TreatmentPlan.Status.ON_HOLD)
    elif change == "claim_lost":
        Reminder.objects.filter(pk=row.pk).update(claim_token="someone-else")
    elif change == "handed_over":
        Reminder.objects.filter(pk=row.pk).update(send_started_at=now)
    assert not handover.hand_over(row, token=claim.token, message_id="<m@x>", now=now)
    fresh = sending._fresh(row)
    if change not in ("claim_lost", "handed_over"):
        assert sending.verdict_for(fresh, now=now) is not None  # and the full re-check says why
    assert Reminder.objects.get(pk=row.pk).message_id == ""


def test_a_cancellation_notice_goes_while_the_visit_is_cancelled_and_not_over(visit):
    reminders.reminders_sweep()  # the confirmation: the patient knows of the visit
    services.appointment_cancel(appointment=visit, reason="Patient ill")
    claim, row = claimed(Kind.CANCELLATION)
    assert handed_over(claim, row)


def test_a_cancellation_notice_for_a_visit_booked_again_is_not_handed_over(visit):
    reminders.reminders_sweep()
    services.appointment_cancel(appointment=visit, reason="Patient ill")
    claim, row = claimed(Kind.CANCELLATION)
    Appointment.objects.filter(pk=visit.pk).update(status=Appointment.Status.SCHEDULED)
    assert not handed_over(claim, row)
    batch = sending.Batch(claim.token, None, batch_facts([row]), sending.Outcome())
    with pytest.raises(sending.Stop) as stop:  # the full re-check closes it
        sending._commit_point(row, batch, "<m@x>")()
    assert stop.value.verdict.reason == "The visit is no longer cancelled."


def test_a_held_plan_keeps_the_message_waiting(visit):
    claim, row = claimed()
    TreatmentPlan.objects.filter(pk=visit.plan_id).update(status=TreatmentPlan.Status.ON_HOLD)
    assert not handed_over(claim, row)
    batch = sending.Batch(claim.token, None, batch_facts([row]), sending.Outcome())
    with pytest.raises(sending.Stop) as stop:
        sending._commit_point(row, batch, "<m@x>")()
    assert stop.value.verdict == sending.HELD
    assert Reminder.objects.get(pk=row.pk).status == Status.PENDING


def test_sent_is_recorded_on_the_token_alone(visit):
    claim, row = claimed()
    assert handed_over(claim, row)
    # The lease recovery flagged it meanwhile; the late 250 still records it.
    Reminder.objects.filter(pk=row.pk).update(status=Status.FAILED, error=sending.UNCONFIRMED)
    assert handover.record_sent(row, token=claim.token, now=timezone.now()) == 1
    row.refresh_from_db()
    assert (row.status, row.error) == (Status.SENT, "") and row.sent_at
    assert handover.record_sent(row, token="another", now=timezone.now()) == 0


def _commit_waits_for_disk() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_only_the_record_of_sent_commits_without_waiting_for_the_disk(visit):
    """The hand-over must be on disk before the final dot (a crash must not
    forget it and send again); "sent" need not (forgetting it leaves the
    row unconfirmed, never sent twice). Each statement is its own
    transaction; the setting lasts for the record's transaction alone."""
    claim, row = claimed()
    with transaction.atomic():
        assert handed_over(claim, row)
        assert _commit_waits_for_disk() == "on"
    with transaction.atomic():
        assert handover.record_sent(row, token=claim.token, now=timezone.now()) == 1
        assert _commit_waits_for_disk() == "off"
    assert _commit_waits_for_disk() == "on"
    row.refresh_from_db()
    assert row.status == Status.SENT and row.sent_at and row.send_started_at


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_one_statement_waits_for_a_move_holding_the_visits_lock(visit, at):
    """A move that locked the visit and has not committed: the commit point
    waits for it, then sees the new time and does not hand the message over.
    The move here leaves the reminder rows alone, so only the visit's lock
    (not the row's own) can make the statement see it."""
    claim, row = claimed()
    locked, release = threading.Event(), threading.Event()
    errors = []

    def move() -> None:
        try:
            with transaction.atomic():
                Appointment.objects.select_for_update().get(pk=visit.pk)
                Appointment.objects.filter(pk=visit.pk).update(start=at(1, "10:00"), end=at(1, "10:30"))
                locked.set()
                release.wait(10)
                time.sleep(0.3)  # the commit point is waiting by now
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    mover = threading.Thread(target=move)
    mover.start()
    assert locked.wait(10)
    release.set()
    began = time.monotonic()
    sent = handed_over(claim, row)
    waited = time.monotonic() - began
    mover.join(10)
    assert errors == []
    assert not sent and waited >= 0.2, waited
    batch = sending.Batch(claim.token, None, batch_facts([row]), sending.Outcome())
    with pytest.raises(sending.Stop):
        sending._commit_point(row, batch, "<m@x>")()
    row = Reminder.objects.get(pk=row.pk)
    assert (row.status, row.skip_reason, row.send_started_at) == (Status.VOID, "The visit was moved.", None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_move_waiting_for_the_commit_point_comes_after_the_hand_over(visit, at):
    """The other order: the statement has the lock; a move waits for it and
    then finds the row handed over (the message was on its way)."""
    claim, row = claimed()
    assert handed_over(claim, row)
    services.appointment_reschedule(appointment=visit, start=at(1, "10:00"))
    row = Reminder.objects.get(pk=row.pk)
    assert row.status == Status.SENDING and row.send_started_at is not None


def test_the_statements_are_written_for_each_kind_of_visit_message():
    assert set(handover.KINDS) == set(Reminder.APPOINTMENT_KINDS)
    assert handover.HELD_KINDS == sending.HELD_KINDS
    for kind in handover.KINDS:
        assert handover._hand_over_sql(connection.vendor, kind).startswith("UPDATE ")
    assert dt  # the module's imports stay used
