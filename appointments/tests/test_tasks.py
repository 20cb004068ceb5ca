"""Acceptance of the reminder flow with a real Redis broker, real Celery
worker processes (started, SIGKILLed and restarted) and a real SMTP server.

The test database is PostgreSQL (the workers are other processes) and the
rows are committed (transaction=True) so the workers see them. Each test
starts its own worker(s); their output goes to files under tmp_path."""

import datetime as dt
import re
import time

import pytest
import redis
from django.contrib.auth.models import Group
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, Reminder
from appointments.reminders import planning, sending
from appointments.tasks import reminders_send, reminders_sweep
from appointments.tests.reminders_support import (
    Gate,
    celery_publisher,
    celery_worker,
    event_of,
    message_id,
    next_dst_change,
    reminder_id,
    smtp_sink_fixture,  # noqa: F401
    texts_of,
    wait_until,
    worker_env,
)
from clinic.localtime import local_datetime
from patients.tests.factories import PatientFactory
from treatments.tests.factories import PlanFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Kind = Reminder.Kind
Status = Reminder.Status
QUEUE_KEYS = ("celery", "sweep", "unacked", "unacked_index", "unacked_mutex")


@pytest.fixture(autouse=True)
def _roles():
    # Transactional tests flush the tables, including the role groups that a
    # data migration made; the factories need them.
    for name in ("front_desk", "therapist", "clinic_admin"):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def broker(redis_url, settings):
    """Point this process's Celery app (the publisher) at the test Redis
    database; clear only the queue keys this suite uses."""
    client = redis.Redis.from_url(redis_url)
    client.delete(*QUEUE_KEYS)
    settings.REMINDER_NUDGE = True
    planning._broker_quiet_until = 0.0
    options = {"socket_connect_timeout": 1, "socket_timeout": 2, "max_retries": 1}
    with celery_publisher(redis_url, result_backend=redis_url, broker_transport_options=options):
        yield redis_url
    client.delete(*QUEUE_KEYS)


@pytest.fixture
def env(broker, smtp_sink):
    def make(**extra):
        return worker_env(broker_url=broker, smtp_port=smtp_sink.port, **extra)

    return make


def kinds(messages):
    by_id = dict(Reminder.objects.values_list("pk", "kind"))
    return [by_id[reminder_id(m)] for m in messages]


def book(plan, start, therapist):
    return services.appointment_book(plan=plan, start=start, therapist=therapist)


def make_due(**filters):
    Reminder.objects.filter(**filters).update(due_at=timezone.now() - dt.timedelta(minutes=1))


def due_rows(count: int, *, per_appointment: int = 100) -> list[int]:
    """`count` reminder rows due now (distinct offsets keep them unique),
    without going through booking for each."""
    from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory

    therapist, room = TherapistFactory(), RoomFactory()
    device = DeviceFactory(home_room=room)
    start = local_datetime(timezone.localdate() + dt.timedelta(days=60), dt.time(10))
    rows = []
    for i in range((count + per_appointment - 1) // per_appointment):
        plan = PlanFactory(patient=PatientFactory())
        appointment = Appointment.objects.create(
            patient=plan.patient,
            plan=plan,
            therapist=therapist,
            room=room,
            device=device,
            start=start + dt.timedelta(hours=i),
            end=start + dt.timedelta(hours=i, minutes=30),
        )
        rows += [
            Reminder(
                appointment=appointment,
                patient=plan.patient,
                kind=Kind.REMINDER,
                slot_start=appointment.start,
                offset_minutes=offset,
                due_at=timezone.now() - dt.timedelta(minutes=5),
            )
            for offset in range(1, min(per_appointment, count - len(rows)) + 1)
        ]
    return [r.pk for r in Reminder.objects.bulk_create(rows)]


def assert_each_once(messages, ids):
    received = [reminder_id(m) for m in messages]
    assert len(received) == len(set(received)), "a reminder arrived twice"
    message_ids = [message_id(m) for m in messages]
    assert len(message_ids) == len(set(message_ids)), "a Message-ID arrived twice"
    assert sorted(received) == sorted(ids)


# -- book, remind, reschedule, cancel ------------------------------------------------
def test_book_sends_one_confirmation_and_the_reminder_once_when_due(
    env, smtp_sink, plan, therapist, room, device, at, tmp_path
):
    with celery_worker(env(), tmp_path / "worker.log") as worker:
        appointment = book(plan, at(1, "10:00"), therapist)  # the nudge reaches the worker
        assert kinds(smtp_sink.wait_for(1)) == [Kind.CONFIRMATION], worker.output()
        make_due(kind=Kind.REMINDER)
        reminders_sweep.delay()
        reminders_sweep.delay()  # beat ticks that overlap
        reminders_send.delay([r.pk for r in Reminder.objects.all()])  # a stray nudge
        smtp_sink.wait_for(2)
        messages = smtp_sink.settle(quiet=1.0)
    assert kinds(messages) == [Kind.CONFIRMATION, Kind.REMINDER]
    assert set(Reminder.objects.values_list("status", flat=True)) == {Status.SENT}
    assert messages[1]["To"] == appointment.patient.email


def test_reschedule_before_the_reminder_sends_only_the_new_one_and_cancel_only_a_notice(
    env, smtp_sink, plan, therapist, room, device, at, tmp_path
):
    with celery_worker(env(), tmp_path / "worker.log"):
        appointment = book(plan, at(1, "10:00"), therapist)
        smtp_sink.wait_for(1)
        make_due(kind=Kind.REMINDER)  # due, but no sweep has run yet
        appointment = services.appointment_reschedule(appointment=appointment, start=at(3, "15:00"))
        smtp_sink.wait_for(2)
        reminders_sweep.delay()
        smtp_sink.settle(quiet=1.0)
        make_due(kind=Kind.REMINDER, slot_start=at(3, "15:00"))
        reminders_sweep.delay()
        smtp_sink.wait_for(3)

        other = book(PlanFactory(patient=PatientFactory()), at(2, "11:00"), therapist)
        smtp_sink.wait_for(4)
        make_due(kind=Kind.REMINDER, appointment=other)
        services.appointment_cancel(appointment=other, reason="Patient ill")
        reminders_sweep.delay()
        smtp_sink.wait_for(5)
        messages = smtp_sink.settle(quiet=1.0)
    assert kinds(messages) == [
        Kind.CONFIRMATION,
        Kind.RESCHEDULED,
        Kind.REMINDER,
        Kind.CONFIRMATION,
        Kind.CANCELLATION,
    ]
    reminder = Reminder.objects.get(pk=reminder_id(messages[2]))
    assert reminder.slot_start == at(3, "15:00")
    old = Reminder.objects.get(appointment=appointment, kind=Kind.REMINDER, slot_start=at(1, "10:00"))
    assert (old.status, old.sent_at) == (Status.VOID, None)
    assert Reminder.objects.get(appointment=other, kind=Kind.REMINDER).status == Status.VOID


# -- concurrency -------------------------------------------------------------------
def test_two_sweeps_on_two_workers_send_500_reminders_once_each(env, smtp_sink, tmp_path):
    ids = due_rows(500)
    worker_settings = env(REMINDER_SWEEP_BATCH="20", REMINDER_CLAIM_LEASE_SECONDS="10")
    with (
        celery_worker(worker_settings, tmp_path / "a.log") as a,
        celery_worker(worker_settings, tmp_path / "b.log") as b,
    ):
        # Sweeps every few seconds, as beat does: a row a sweep claimed but
        # had no time left for comes back after its lease to the next one.
        deadline = time.monotonic() + 240
        while len(smtp_sink.raw) < 500 and time.monotonic() < deadline:
            reminders_sweep.delay()
            time.sleep(5)
        smtp_sink.wait_for(500, timeout=30)
        messages = smtp_sink.settle(quiet=1.0)
        logs = a.output(), b.output()
    assert_each_once(messages, ids)
    assert set(Reminder.objects.values_list("status", flat=True)) == {Status.SENT}
    sent_by = [sum(int(n) for n in re.findall(r"reminders_sweep \{'sent': (\d+)", log)) for log in logs]
    assert sum(sent_by) == 500 and min(sent_by) > 0, sent_by  # both workers took part
    assert Reminder.objects.values("claim_token").distinct().count() > 2


# -- a worker killed in the middle of a sweep ------------------------------------------
def restarted(env, tmp_path, name):
    """A worker with beat embedded, sweeping every second, and a short lease."""
    settings = env(REMINDER_CLAIM_LEASE_SECONDS="2", REMINDER_SWEEP_SECONDS="1", REMINDER_SWEEP_BATCH="20")
    return celery_worker(settings, tmp_path / f"{name}.log", args=("-B", "-s", str(tmp_path / "beat")))


def test_sigkill_mid_sweep_then_restart_delivers_every_reminder_once(env, smtp_sink, tmp_path):
    ids = due_rows(60)
    smtp_sink.gate = Gate("RCPT", 25)  # the server holds message 25 before its body
    with celery_worker(env(REMINDER_SWEEP_BATCH="20"), tmp_path / "first.log") as first:
        reminders_sweep.delay()
        assert smtp_sink.gate.reached.wait(30), first.output()
        first.kill()
    smtp_sink.gate.release.set()
    assert smtp_sink.count() == 24
    # Claimed in batches of 20: rows 25–40 were claimed, none handed over.
    in_flight = Reminder.objects.filter(status=Status.SENDING)
    assert in_flight.count() == 16 and not in_flight.filter(send_started_at__isnull=False).exists()
    with restarted(env, tmp_path, "second"):
        assert wait_until(lambda: smtp_sink.count() >= 60, timeout=40)
        messages = smtp_sink.settle(quiet=1.0)
    assert_each_once(messages, ids)
    assert set(Reminder.objects.values_list("status", flat=True)) == {Status.SENT}


def test_sigkill_after_the_hand_over_never_sends_twice_and_flags_the_row(env, smtp_sink, tmp_path):
    """The residual window: the server has the whole message but the worker
    dies before it hears 250. The row is flagged, not sent again."""
    ids = due_rows(30)
    smtp_sink.gate = Gate("DATA", 10)  # message 10 received, 250 not yet sent
    with celery_worker(env(REMINDER_SWEEP_BATCH="20"), tmp_path / "first.log") as first:
        reminders_sweep.delay()
        assert smtp_sink.gate.reached.wait(30), first.output()
        first.kill()
    smtp_sink.gate.release.set()
    with restarted(env, tmp_path, "second"):
        assert wait_until(lambda: smtp_sink.count() >= 30, timeout=40)
        assert wait_until(lambda: not Reminder.objects.filter(status=Status.SENDING).exists(), timeout=20)
        messages = smtp_sink.settle(quiet=1.0)
    assert_each_once(messages, ids)  # message 10 arrived once, and only once
    flagged = Reminder.objects.get(status=Status.FAILED)
    assert flagged.pk == reminder_id(messages[9])
    assert flagged.error == sending.UNCONFIRMED and flagged.message_id == message_id(messages[9])
    assert Reminder.objects.filter(status=Status.SENT).count() == 29


def test_sigkill_at_any_moment_never_sends_twice(env, smtp_sink, tmp_path):
    """Killed without warning while sending; the only row that may be left
    in doubt is the one being handed over, and it is flagged, not resent."""
    ids = due_rows(90)
    smtp_sink.delay = 0.01
    with celery_worker(env(REMINDER_SWEEP_BATCH="25"), tmp_path / "first.log") as first:
        reminders_sweep.delay()
        assert wait_until(lambda: smtp_sink.count() >= 30, timeout=30), first.output()
        first.kill()
    smtp_sink.delay = 0
    with restarted(env, tmp_path, "second"):
        assert wait_until(
            lambda: not Reminder.objects.filter(status__in=[Status.PENDING, Status.SENDING]).exists(),
            timeout=40,
        )
        messages = smtp_sink.settle(quiet=1.0)
    received = [reminder_id(m) for m in messages]
    assert len(received) == len(set(received)), "a reminder arrived twice"
    flagged = list(Reminder.objects.filter(status=Status.FAILED).values_list("pk", "error"))
    assert len(flagged) <= 1 and all(error == sending.UNCONFIRMED for _, error in flagged)
    sent = set(Reminder.objects.filter(status=Status.SENT).values_list("pk", flat=True))
    assert sent <= set(received) and len(sent) + len(flagged) == len(ids)


def test_three_workers_3000_due_one_sigkilled_every_message_once_and_its_rows_back_within_2_minutes(
    env, smtp_sink, tmp_path
):
    """The production lease (30 s) and batch (50); beat runs on the restarted
    worker. One sweep fans out to all three workers; one is SIGKILLed while
    sending. Every message arrives once; what the dead worker held is sent by
    the others within two minutes."""
    ids = due_rows(3000)
    common = env()
    started = time.monotonic()
    with (
        celery_worker(common, tmp_path / "a.log") as a,
        celery_worker(common, tmp_path / "b.log") as b,
        celery_worker(common, tmp_path / "c.log") as c,
    ):
        reminders_sweep.delay()  # it starts two helpers: one sweep per worker
        assert wait_until(lambda: smtp_sink.count() >= 600, timeout=120), a.output()
        a.kill()
        killed = time.monotonic()
        tokens = set(Reminder.objects.filter(status=Status.SENDING).values_list("claim_token", flat=True))
        # The live workers finish their batches in seconds; a claim still
        # held later is the dead worker's.
        time.sleep(8)
        dead = list(
            Reminder.objects.filter(
                status=Status.SENDING, claim_token__in=tokens, send_started_at__isnull=True
            ).values_list("pk", flat=True)
        )
        assert dead, "the killed worker held no claim"
        beat = env(REMINDER_SWEEP_SECONDS="10")
        with celery_worker(beat, tmp_path / "a2.log", args=("-B", "-s", str(tmp_path / "beat"))):
            back = wait_until(
                lambda: (
                    not Reminder.objects.filter(
                        pk__in=dead, status__in=[Status.SENDING, Status.PENDING]
                    ).exists()
                ),
                timeout=150,
                interval=0.5,
            )
            returned_after = time.monotonic() - killed
            assert back, "the dead worker's rows never came back"
            assert wait_until(
                lambda: not Reminder.objects.filter(status__in=[Status.PENDING, Status.SENDING]).exists(),
                timeout=180,
                interval=0.5,
            )
            messages = smtp_sink.settle(quiet=1.0)
        logs = b.output(), c.output()
    total = time.monotonic() - started
    assert returned_after < 120, returned_after
    received = [reminder_id(m) for m in messages]
    assert len(received) == len(set(received)), "a reminder arrived twice"
    failed = dict(Reminder.objects.filter(status=Status.FAILED).values_list("pk", "error"))
    # At most the one message the killed worker was handing over has an
    # unknown outcome: it is flagged for the front desk, never resent, and it
    # may or may not have reached the server (killed before or after the
    # final "." of DATA). Every other row arrived exactly once.
    assert len(failed) <= 1 and all(e == sending.UNCONFIRMED for e in failed.values()), failed
    assert set(received) <= set(ids)
    assert set(ids) - set(failed) <= set(received)
    assert Reminder.objects.filter(status=Status.SENT).count() + len(failed) == 3000
    assert all("reminders_sweep" in log for log in logs)  # the helpers ran on the other workers
    print(
        f"3000 messages, one worker killed: rows back after {returned_after:.0f} s, all done in {total:.0f} s"
    )


# -- the broker is down during booking ------------------------------------------------
def test_booking_with_the_broker_down_is_quick_and_the_reminder_follows(
    env, smtp_sink, broker, plan, therapist, room, device, at, tmp_path
):
    with celery_publisher("redis://127.0.0.1:1/0"):  # nothing listens there
        started = time.monotonic()
        appointment = book(plan, at(1, "10:00"), therapist)
        assert time.monotonic() - started < 2
    assert Reminder.objects.get(appointment=appointment, kind=Kind.CONFIRMATION).status == Status.PENDING
    # The broker is back (the fixture's configuration again).
    with restarted(env, tmp_path, "worker"):  # beat's next sweep catches up
        messages = smtp_sink.wait_for(1, timeout=30)
        messages = smtp_sink.settle(quiet=1.0)
    assert kinds(messages) == [Kind.CONFIRMATION]


# -- the hour is right across DST ----------------------------------------------------------
def test_a_0900_visit_after_the_dst_change_shows_0900_in_the_email_and_the_ics(
    env, smtp_sink, therapist, room, device, tmp_path
):
    change = next_dst_change(timezone.localdate() + dt.timedelta(days=3), spring=True)
    day = change + dt.timedelta(days=1)
    while day.weekday() > 4:
        day += dt.timedelta(days=7)
    start = local_datetime(day, dt.time(9))
    plan = PlanFactory()
    from patients.tests.factories import ScreeningFactory

    ScreeningFactory(patient=plan.patient)
    with celery_worker(env(), tmp_path / "worker.log"):
        book(plan, start, therapist)
        smtp_sink.wait_for(1)
        make_due(kind=Kind.REMINDER)
        reminders_sweep.delay()
        messages = smtp_sink.wait_for(2)
    assert kinds(messages) == [Kind.CONFIRMATION, Kind.REMINDER]
    for message in messages:
        expected = f"{day:%a} {day.day} {day:%b %Y}, 09:00 EDT"
        assert expected in message["subject"] and expected in texts_of(message)[1]
        event = event_of(message)
        assert event["DTSTART"].params["TZID"] == "America/New_York"
        assert event.decoded("DTSTART").strftime("%H:%M %Z") == "09:00 EDT"
