"""Reminder rows (R13): planned with the booking, voided by changes, sent
once by the sweep with the re-checks. In-memory email, no broker."""

import datetime as dt
import smtplib
import threading

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from appointments import reminders, services
from appointments.models import Appointment, Reminder
from appointments.reminders import planning, sending
from appointments.tests.reminders_support import (  # noqa: F401
    celery_publisher,
    message_id,
    outbox_messages,
    reminder_id,
    scan_outbox_fixture,
)
from clinic.models import ClinicRules
from patients.tests.factories import ScreeningFactory
from treatments.tests.factories import PlanFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scan_outbox")]

Kind = Reminder.Kind
Status = Reminder.Status


def book(plan, start, **kwargs):
    return services.appointment_book(plan=plan, start=start, **kwargs)


def rows(appointment, **filters):
    found = Reminder.objects.filter(appointment=appointment, **filters)
    return list(found.order_by("kind", "offset_minutes"))


def sent_kinds():
    by_id = dict(Reminder.objects.values_list("pk", "kind"))
    return [by_id[reminder_id(m)] for m in outbox_messages()]


@pytest.fixture
def visit(plan, therapist, room, device, at):
    return book(plan, at(0, "10:00"), therapist=therapist)


# -- planning --------------------------------------------------------------------
def test_booking_plans_a_confirmation_now_and_a_reminder_24h_before(visit):
    confirmation, reminder = rows(visit)
    assert (confirmation.kind, confirmation.status) == (Kind.CONFIRMATION, Status.PENDING)
    assert confirmation.offset_minutes == 0
    assert confirmation.due_at <= timezone.now()
    assert confirmation.slot_start == visit.start
    assert (reminder.kind, reminder.offset_minutes) == (Kind.REMINDER, 24 * 60)
    assert reminder.due_at == visit.start - dt.timedelta(hours=24)
    assert reminder.patient_id == visit.patient_id


def test_reminder_offsets_come_from_the_clinic_rules(plan, therapist, room, device, at):
    rules = ClinicRules.current()
    rules.reminder_offsets_hours = "48, 24,2"
    rules.save()
    appointment = book(plan, at(0, "10:00"), therapist=therapist)
    offsets = [r.offset_minutes for r in rows(appointment, kind=Kind.REMINDER)]
    assert offsets == [120, 24 * 60, 48 * 60]


def test_a_mistyped_offset_setting_does_not_break_booking(plan, therapist, room, device, at):
    rules = ClinicRules.current()
    rules.reminder_offsets_hours = "24h"
    rules.save()
    appointment = book(plan, at(0, "10:00"), therapist=therapist)
    assert [r.offset_minutes for r in rows(appointment, kind=Kind.REMINDER)] == [24 * 60]


def test_a_reminder_whose_time_has_passed_is_not_planned(plan, therapist, room, device, at):
    start = at(0, "10:00")
    with time_machine.travel(start - dt.timedelta(hours=10), tick=False):
        appointment = book(plan, start, therapist=therapist)
    assert [r.kind for r in rows(appointment)] == [Kind.CONFIRMATION]


def test_series_booking_plans_rows_for_each_visit(plan, therapist, room, device, at):
    booked = services.series_book(plan=plan, start=at(0, "09:00"))
    # One confirmation lists the whole series; each visit keeps its reminder.
    assert Reminder.objects.filter(kind=Kind.SERIES_CONFIRMATION).count() == 1
    assert Reminder.objects.filter(kind=Kind.CONFIRMATION).count() == 0
    assert Reminder.objects.filter(kind=Kind.REMINDER).count() == len(booked) == 6


def test_a_second_row_for_the_same_slot_kind_and_offset_is_impossible(visit):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            appointment=visit,
            patient=visit.patient,
            kind=Kind.REMINDER,
            slot_start=visit.start,
            offset_minutes=24 * 60,
            due_at=timezone.now(),
        )


def test_a_refused_booking_leaves_no_rows(visit, plan, therapist, at):
    with pytest.raises(ValidationError):
        book(plan, at(0, "10:00"), therapist=therapist)
    assert Reminder.objects.count() == 2


def test_reschedule_voids_the_old_slot_and_plans_the_new_one(visit, at):
    old_start = visit.start
    reminders.reminders_sweep()  # the patient was told the first time
    services.appointment_reschedule(appointment=visit, start=at(2, "11:00"))
    old = rows(visit, slot_start=old_start, kind=Kind.REMINDER)
    assert {r.status for r in old} == {Status.VOID}
    assert {r.skip_reason for r in old} == {"The visit was moved."}
    new = {r.kind: r for r in rows(visit, slot_start=at(2, "11:00"))}
    assert set(new) == {Kind.RESCHEDULED, Kind.REMINDER}
    assert new[Kind.RESCHEDULED].due_at <= timezone.now()
    assert new[Kind.REMINDER].due_at == at(2, "11:00") - dt.timedelta(hours=24)


def test_moving_back_to_an_earlier_slot_plans_its_reminder_again(visit, at):
    first = visit.start
    services.appointment_reschedule(appointment=visit, start=at(2, "11:00"))
    services.appointment_reschedule(appointment=Appointment.objects.get(pk=visit.pk), start=first)
    back = {r.kind: r for r in rows(visit, slot_start=first)}
    assert back[Kind.REMINDER].status == Status.PENDING  # the void row came back
    # Nothing was sent yet: the patient hears of the visit once, by its confirmation.
    assert back[Kind.CONFIRMATION].status == Status.PENDING
    assert Kind.RESCHEDULED not in back
    assert {r.status for r in rows(visit, slot_start=at(2, "11:00"))} == {Status.VOID}


def test_a_move_before_the_confirmation_went_out_confirms_the_new_time(visit, at):
    services.appointment_reschedule(appointment=visit, start=at(2, "11:00"))
    reminders.reminders_sweep()
    assert sent_kinds() == [Kind.CONFIRMATION]
    assert Reminder.objects.get(pk=reminder_id(outbox_messages()[0])).slot_start == at(2, "11:00")


def test_a_cancel_before_the_confirmation_went_out_sends_nothing(visit):
    services.appointment_cancel(appointment=visit, reason="Booked by mistake")
    reminders.reminders_sweep()
    assert sent_kinds() == []
    assert not rows(visit, kind=Kind.CANCELLATION)


def test_moving_back_to_an_announced_slot_announces_it_again(visit, at):
    """B → C → B: the last notice said C, so B is announced again."""
    first = visit.start
    reminders.reminders_sweep()
    for start in (at(2, "11:00"), first):
        services.appointment_reschedule(appointment=Appointment.objects.get(pk=visit.pk), start=start)
        reminders.reminders_sweep()
    services.appointment_reschedule(appointment=Appointment.objects.get(pk=visit.pk), start=at(2, "11:00"))
    reminders.reminders_sweep()
    assert sent_kinds() == [Kind.CONFIRMATION] + [Kind.RESCHEDULED] * 3
    announced = [Reminder.objects.get(pk=reminder_id(m)).slot_start for m in outbox_messages()[1:]]
    assert announced == [at(2, "11:00"), first, at(2, "11:00")]
    again = Reminder.objects.get(appointment=visit, kind=Kind.RESCHEDULED, slot_start=at(2, "11:00"))
    assert (again.status, again.resend_count) == (Status.SENT, 1)


def test_cancel_voids_pending_rows_and_plans_one_cancellation_notice(visit):
    reminders.reminders_sweep()
    services.appointment_cancel(appointment=visit, reason="Patient ill")
    notices = rows(visit, kind=Kind.CANCELLATION)
    assert len(notices) == 1 and notices[0].status == Status.PENDING
    assert {r.status for r in rows(visit, kind=Kind.REMINDER)} == {Status.VOID}


def test_sent_rows_stay_sent_when_the_visit_changes(visit, at):
    reminders.reminders_sweep()
    services.appointment_cancel(appointment=visit, reason="Clinic closed")
    confirmation = rows(visit, kind=Kind.CONFIRMATION)[0]
    assert confirmation.status == Status.SENT


# -- sending ---------------------------------------------------------------------
def test_the_sweep_sends_the_confirmation_once(visit):
    first = reminders.reminders_sweep()
    second = reminders.reminders_sweep()
    assert (first.sent, second.sent) == (1, 0)
    assert sent_kinds() == [Kind.CONFIRMATION]
    row = rows(visit, kind=Kind.CONFIRMATION)[0]
    assert row.status == Status.SENT and row.sent_at and row.attempts == 1
    assert row.message_id == message_id(outbox_messages()[0])
    assert mail.outbox[0].to == [visit.patient.email]


def test_the_reminder_goes_out_when_due_and_only_then(visit):
    reminders.reminders_sweep()
    with time_machine.travel(visit.start - dt.timedelta(hours=25), tick=False):
        assert reminders.reminders_sweep().sent == 0
    with time_machine.travel(visit.start - dt.timedelta(hours=23), tick=False):
        assert reminders.reminders_sweep().sent == 1
        assert reminders.reminders_sweep().sent == 0
    assert sent_kinds() == [Kind.CONFIRMATION, Kind.REMINDER]


def test_reschedule_before_the_reminder_sends_only_the_new_one(visit, at):
    old_start = visit.start
    reminders.reminders_sweep()
    services.appointment_reschedule(appointment=visit, start=at(3, "11:00"))
    for moment in (old_start - dt.timedelta(hours=23), at(3, "11:00") - dt.timedelta(hours=23)):
        with time_machine.travel(moment, tick=False):
            reminders.reminders_sweep()
    assert sent_kinds() == [Kind.CONFIRMATION, Kind.RESCHEDULED, Kind.REMINDER]
    reminder_row = Reminder.objects.get(pk=reminder_id(outbox_messages()[-1]))
    assert reminder_row.slot_start == at(3, "11:00")


def test_cancel_sends_one_notice_and_no_reminder(visit):
    reminders.reminders_sweep()
    services.appointment_cancel(appointment=visit, reason="Patient ill")
    with time_machine.travel(visit.start - dt.timedelta(hours=23), tick=False):
        reminders.reminders_sweep()
        reminders.reminders_sweep()
    assert sent_kinds() == [Kind.CONFIRMATION, Kind.CANCELLATION]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"reminder_opt_in": False}, "The patient opted out of email."),
        ({"email": ""}, "The patient has no email address."),
    ],
)
def test_the_sweep_skips_with_a_reason(visit, change, reason):
    for name, value in change.items():
        setattr(visit.patient, name, value)
    visit.patient.save()
    outcome = reminders.reminders_sweep()
    assert outcome.skipped == 1 and outcome.sent == 0
    row = rows(visit, kind=Kind.CONFIRMATION)[0]
    assert (row.status, row.skip_reason) == (Status.SKIPPED, reason)
    assert mail.outbox == []


def test_a_row_whose_visit_moved_behind_its_back_is_voided(visit, at):
    Appointment.objects.filter(pk=visit.pk).update(start=at(1, "10:00"), end=at(1, "10:30"))
    assert reminders.reminders_sweep().void == 1
    assert rows(visit, kind=Kind.CONFIRMATION)[0].skip_reason == "The visit was moved."
    assert mail.outbox == []


def test_a_reminder_is_never_sent_after_the_visit_started(visit):
    reminders.reminders_sweep()
    with time_machine.travel(visit.start + dt.timedelta(minutes=5), tick=False):
        assert reminders.reminders_sweep().void == 1
    assert sent_kinds() == [Kind.CONFIRMATION]
    assert rows(visit, kind=Kind.REMINDER)[0].skip_reason == "The visit has started."


class Refusing(smtplib.SMTPException):
    pass


@pytest.fixture
def failing_backend(settings):
    """A mail backend that fails with the exception in FailingBackend.error."""
    settings.EMAIL_BACKEND = "appointments.tests.test_reminders.FailingBackend"
    FailingBackend.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    return FailingBackend


class FailingBackend:
    error: Exception = Exception()

    def __init__(self, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        raise self.error


def test_a_failure_retries_with_backoff_then_shows_as_failed(visit, settings, failing_backend):
    settings.REMINDER_MAX_ATTEMPTS = 3
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert reminders.reminders_sweep().retried == 1
    row = rows(visit, kind=Kind.CONFIRMATION)[0]
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert row.due_at == now + dt.timedelta(seconds=60)
    assert "Connection unexpectedly closed" in row.error
    with time_machine.travel(now + dt.timedelta(seconds=61), tick=False):
        assert reminders.reminders_sweep().retried == 1
    assert rows(visit, kind=Kind.CONFIRMATION)[0].due_at == now + dt.timedelta(seconds=61 + 120)
    with time_machine.travel(now + dt.timedelta(seconds=200), tick=False):
        assert reminders.reminders_sweep().failed == 1
    row = rows(visit, kind=Kind.CONFIRMATION)[0]
    assert (row.status, row.attempts) == (Status.FAILED, 3)


def test_a_refused_address_fails_at_once(visit, failing_backend):
    failing_backend.error = smtplib.SMTPRecipientsRefused({"x@example.invalid": (550, b"No such user")})
    assert reminders.reminders_sweep().failed == 1
    assert rows(visit, kind=Kind.CONFIRMATION)[0].status == Status.FAILED


# -- claims, leases and the commit point ---------------------------------------------------
def after_the_lease(settings):
    return timezone.now() + dt.timedelta(seconds=settings.REMINDER_CLAIM_LEASE_SECONDS + 1)


def test_an_abandoned_claim_is_taken_back_and_sent(visit, settings):
    claim = sending.claim_due(now=timezone.now(), limit=10)
    assert claim.ids == [rows(visit, kind=Kind.CONFIRMATION)[0].pk]
    assert reminders.reminders_sweep().sent == 0  # still within the lease
    with time_machine.travel(after_the_lease(settings)):
        outcome = reminders.reminders_sweep()
    assert (outcome.recovered, outcome.sent) == (1, 1)
    assert sent_kinds() == [Kind.CONFIRMATION]


def test_the_default_lease_is_tens_of_seconds():
    from django.conf import settings as django_settings

    assert 10 <= django_settings.REMINDER_CLAIM_LEASE_SECONDS <= 60


def test_a_row_handed_over_by_a_dead_worker_is_never_resent(visit, settings):
    claim = sending.claim_due(now=timezone.now(), limit=10)
    Reminder.objects.filter(pk__in=claim.ids).update(send_started_at=timezone.now(), message_id="<m@x>")
    # Within the lease plus the longest wait for the server's answer, the
    # worker may still be alive and waiting: nothing is flagged yet.
    with time_machine.travel(after_the_lease(settings)):
        assert reminders.reminders_sweep().unconfirmed == 0
    later = after_the_lease(settings) + dt.timedelta(seconds=settings.REMINDER_SMTP_REPLY_TIMEOUT)
    with time_machine.travel(later):
        outcome = reminders.reminders_sweep()
    assert (outcome.unconfirmed, outcome.sent) == (1, 0)
    row = Reminder.objects.get(pk=claim.ids[0])
    assert row.status == Status.FAILED and row.error == sending.UNCONFIRMED
    assert mail.outbox == []


def test_a_live_worker_renews_its_claim_between_messages(visit, settings):
    claim = sending.claim_due(now=timezone.now(), limit=10)
    with time_machine.travel(after_the_lease(settings)):
        assert sending.renew_claim(claim) == 1
        assert sending.recover_abandoned(now=timezone.now()).recovered == 0
    with time_machine.travel(
        after_the_lease(settings) + dt.timedelta(seconds=settings.REMINDER_CLAIM_LEASE_SECONDS + 1)
    ):
        assert sending.recover_abandoned(now=timezone.now()).recovered == 1  # not renewed: taken back


def test_a_worker_that_lost_its_claim_sends_nothing(visit, settings):
    stale = sending.claim_due(now=timezone.now(), limit=10)
    with time_machine.travel(after_the_lease(settings)):
        sending.recover_abandoned(now=timezone.now())
        fresh = sending.claim_due(now=timezone.now(), limit=10)
        assert fresh.ids == stale.ids
        assert sending._deliver_claimed(stale).sent == 0  # the slow worker wakes up
        assert sending._deliver_claimed(fresh).sent == 1
    assert len(mail.outbox) == 1


def test_a_move_committed_after_the_claim_stops_the_message(visit, at):
    claim = sending.claim_due(now=timezone.now(), limit=10)
    services.appointment_reschedule(appointment=visit, start=at(2, "10:00"))
    outcome = sending._deliver_claimed(claim)
    assert outcome.sent == 0
    assert Reminder.objects.get(pk=claim.ids[0]).status == Status.VOID
    assert mail.outbox == []


def test_the_commit_point_rechecks_the_visit(visit, at, monkeypatch):
    """The visit moves between the first check and the hand-over."""
    claim = sending.claim_due(now=timezone.now(), limit=10)
    real = sending.build_message

    def build_then_move(reminder, **kwargs):
        message = real(reminder, **kwargs)
        Appointment.objects.filter(pk=visit.pk).update(start=at(1, "10:00"), end=at(1, "10:30"))
        return message

    monkeypatch.setattr(sending, "build_message", build_then_move)
    assert sending._deliver_claimed(claim).void == 1
    assert mail.outbox == []
    # Closed at once, not left "sending" for the lease recovery to find.
    row = Reminder.objects.get(pk=claim.ids[0])
    assert (row.status, row.skip_reason, row.send_started_at) == (Status.VOID, "The visit was moved.", None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_row_once(plan, therapist, room, device, at):
    appointment = book(plan, at(0, "10:00"), therapist=therapist)
    Reminder.objects.bulk_create(
        Reminder(
            appointment=appointment,
            patient=appointment.patient,
            kind=Kind.REMINDER,
            slot_start=appointment.start,
            offset_minutes=minutes,
            due_at=timezone.now() - dt.timedelta(minutes=1),
        )
        for minutes in range(1, 121)
    )
    errors = []

    def sweep():
        try:
            reminders.reminders_sweep()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = [reminder_id(m) for m in outbox_messages()]
    assert len(ids) == len(set(ids)) == 121
    due = Reminder.objects.filter(due_at__lte=timezone.now())
    assert set(due.values_list("status", flat=True)) == {Status.SENT}


# -- resend, waitlist, recall ---------------------------------------------------------------
def test_resend_sends_a_sent_message_again_on_request(visit, front_desk):
    reminders.reminders_sweep()
    row = rows(visit, kind=Kind.CONFIRMATION)[0]
    reminders.reminder_resend(reminder=row, user=front_desk)
    row.refresh_from_db()
    assert (row.status, row.resend_count, row.resent_by) == (Status.PENDING, 1, front_desk)
    reminders.reminders_sweep()
    assert sent_kinds() == [Kind.CONFIRMATION, Kind.CONFIRMATION]
    first, second = (message_id(m) for m in outbox_messages())
    assert first != second


def test_resend_refuses_void_and_pending_rows(visit, at):
    services.appointment_reschedule(appointment=visit, start=at(2, "10:00"))
    void = Reminder.objects.filter(status=Status.VOID).first()
    pending = Reminder.objects.filter(status=Status.PENDING).first()
    for row in (void, pending):
        with pytest.raises(ValidationError):
            reminders.reminder_resend(reminder=row)


def test_a_resent_message_for_a_cancelled_visit_is_voided_not_sent(visit):
    reminders.reminders_sweep()
    services.appointment_cancel(appointment=visit, reason="Patient ill")
    confirmation = rows(visit, kind=Kind.CONFIRMATION)[0]
    reminders.reminder_resend(reminder=confirmation)
    reminders.reminders_sweep()
    assert sent_kinds() == [Kind.CONFIRMATION, Kind.CANCELLATION]
    assert rows(visit, kind=Kind.CONFIRMATION)[0].status == Status.VOID


def test_a_waitlist_offer_is_sent_once_per_entry_and_slot(plan, at):
    entry = services.waitlist_add(plan=plan)
    first = reminders.offer_waitlist_slot(entry=entry, start=at(1, "10:00"), end=at(1, "10:30"))
    again = reminders.offer_waitlist_slot(entry=entry, start=at(1, "10:00"), end=at(1, "10:30"))
    assert first.pk == again.pk
    reminders.reminders_sweep()
    assert sent_kinds() == [Kind.WAITLIST_OFFER]
    assert "10:00" in outbox_messages()[0]["subject"]


def test_a_waitlist_offer_for_a_closed_entry_is_voided(plan, at):
    entry = services.waitlist_add(plan=plan)
    reminders.offer_waitlist_slot(entry=entry, start=at(1, "10:00"), end=at(1, "10:30"))
    services.waitlist_remove(entry=entry)
    assert reminders.reminders_sweep().void == 1


@pytest.fixture
def maintenance_plan(therapist, room, at):
    from appointments.tests.factories import DeviceFactory

    plan = PlanFactory(tap_water=True, phase="maintenance", maintenance_interval_days=14)
    ScreeningFactory(patient=plan.patient)
    DeviceFactory(kind="tap_water", home_room=room)
    return plan


def _complete(plan, start):
    appointment = book(plan, start)
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.COMPLETED)
    return appointment


def test_a_maintenance_recall_is_planned_once_when_due(maintenance_plan, at):
    _complete(maintenance_plan, at(0, "10:00"))
    Reminder.objects.all().delete()
    with time_machine.travel(at(13, "12:00"), tick=False):
        assert reminders.plan_maintenance_recalls() == 0
    with time_machine.travel(at(14, "12:00"), tick=False):
        assert reminders.plan_maintenance_recalls() == 1
        assert reminders.plan_maintenance_recalls() == 0
        reminders.reminders_sweep()
    row = Reminder.objects.get(kind=Kind.MAINTENANCE_RECALL)
    assert row.plan == maintenance_plan and row.status == Status.SENT
    assert sent_kinds() == [Kind.MAINTENANCE_RECALL]


def test_no_recall_when_the_next_maintenance_visit_is_booked(maintenance_plan, at):
    _complete(maintenance_plan, at(0, "10:00"))
    with time_machine.travel(at(14, "08:00"), tick=False):
        book(maintenance_plan, at(16, "10:00"))
        assert reminders.plan_maintenance_recalls() == 0


def test_no_recall_in_the_initial_phase(maintenance_plan, at):
    _complete(maintenance_plan, at(0, "10:00"))
    maintenance_plan.phase = "initial"
    maintenance_plan.save()
    with time_machine.travel(at(20, "12:00"), tick=False):
        assert reminders.plan_maintenance_recalls() == 0


# -- the after-commit nudge -------------------------------------------------------------------
def test_booking_nudges_a_worker_after_commit(
    plan, therapist, room, device, at, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.REMINDER_NUDGE = True
    published = []
    monkeypatch.setattr(planning, "_broker_quiet_until", 0.0)
    monkeypatch.setattr(
        "clinic.celery.app.send_task", lambda name, **kw: published.append({"name": name, **kw})
    )
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(plan, at(0, "10:00"), therapist=therapist)
        assert published == []  # nothing before commit
    confirmation = rows(appointment, kind=Kind.CONFIRMATION)[0]
    assert [(kw["name"], kw["args"]) for kw in published] == [
        ("appointments.tasks.reminders_send", [[confirmation.pk]])
    ]


def test_booking_with_the_broker_down_is_quick_and_leaves_the_row_for_the_sweep(
    plan, therapist, room, device, at, settings, monkeypatch, django_capture_on_commit_callbacks
):
    import time

    settings.REMINDER_NUDGE = True
    monkeypatch.setattr(planning, "_broker_quiet_until", 0.0)
    with celery_publisher("redis://127.0.0.1:1/0"):  # nothing listens there
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            appointment = book(plan, at(0, "10:00"), therapist=therapist)
        with django_capture_on_commit_callbacks(execute=True):
            second = book(PlanFactory(patient=plan.patient), at(2, "10:00"), therapist=therapist)
        assert time.monotonic() - started < 2
    assert planning._broker_quiet_until > 0  # the second booking did not even try
    assert rows(appointment, kind=Kind.CONFIRMATION)[0].status == Status.PENDING
    assert reminders.reminders_sweep().sent == 2
    assert second.pk
