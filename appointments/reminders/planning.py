"""Planning reminder rows. The plan_for_* functions run inside the
appointment service's transaction (appointments/hooks.py), so a booking and
its rows commit or roll back together; nothing here talks to the network.
After commit, rows due now are nudged to a worker (best effort)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from appointments.models import NO_CLAIM, Appointment, Reminder, WaitlistEntry
from appointments.reminders.selectors import announced_start
from clinic.celery import app as celery_app
from clinic.localtime import local_date, local_datetime
from clinic.models import ClinicRules
from treatments.models import Modality, TreatmentPlan

logger = logging.getLogger(__name__)

Kind = Reminder.Kind
Status = Reminder.Status

# Never delivered: planning the same message again may bring the row back.
REVIVABLE = (Status.VOID, Status.SKIPPED)
# Not yet handed to the mail server, so a change to the visit can still stop
# them (a claimed row re-checks at its commit point, see sending.py).
STOPPABLE = Q(status=Status.PENDING) | Q(status=Status.SENDING, send_started_at__isnull=True)
# The hour (clinic time) a recall goes out on its due date.
RECALL_HOUR = dt.time(9, 0)

SEND_TASK = "appointments.tasks.reminders_send"


@dataclass(frozen=True)
class Wanted:
    kind: str
    slot_start: dt.datetime
    offset_minutes: int
    due_at: dt.datetime


def _undo_delay() -> dt.timedelta:
    """How long a change notice waits, so that a move and its undo (or a
    booking and its immediate cancellation) reach the patient as nothing."""
    return dt.timedelta(minutes=max(settings.REMINDER_UNDO_MINUTES, 0))


def _for_slot(
    appointment: Appointment, *, notice: str | None, now: dt.datetime, rules: ClinicRules | None = None
) -> list[Wanted]:
    """The notice (due after the undo window) and the timed reminders of the
    appointment's slot. A reminder that would fall before, or soon after,
    the notice is not planned: the notice carries it (one email, not two
    within minutes; its text says it is also the reminder). Without a
    notice (moved back to the time the patient was told) only the reminders."""
    wanted = []
    not_before = now
    if notice is not None:
        notice_due = now + _undo_delay()
        wanted.append(Wanted(notice, appointment.start, 0, notice_due))
        not_before = notice_due + dt.timedelta(minutes=settings.REMINDER_MERGE_MINUTES)
    for hours in _offsets_hours(rules):
        due = appointment.start - dt.timedelta(hours=hours)
        if due > not_before:
            wanted.append(Wanted(Kind.REMINDER, appointment.start, hours * 60, due))
    return wanted


def _offsets_hours(rules: ClinicRules | None = None) -> list[int]:
    """The clinic's reminder offsets (from `rules` when the caller read them).
    A mistyped setting must not make every booking fail: fall back to the
    default and say so in the log."""
    try:
        return [h for h in (rules or ClinicRules.current()).reminder_offsets if h > 0]
    except ValueError:
        logger.error("reminders: clinic rules have unreadable reminder offsets; using 24 h")
        return [24]


def _plan(
    appointment: Appointment, wanted: list[Wanted], *, now: dt.datetime, new: bool = False
) -> list[int]:
    """Create the wanted rows. A row with the same key that was never
    delivered (void, skipped) is planned again; a pending or sending one
    stands, and so does a sent one, except a rescheduled notice (see below):
    the unique constraint forbids a second row. Returns the ids due now.
    `new`: the appointment was inserted in this transaction, so it has no
    rows yet and none are looked for."""
    existing = (
        {}
        if new
        else {
            (r.kind, r.slot_start, r.offset_minutes): r
            for r in Reminder.objects.filter(
                appointment=appointment, slot_start__in={w.slot_start for w in wanted}
            )
        }
    )
    new, due_now = [], []
    for w in wanted:
        row = existing.get((w.kind, w.slot_start, w.offset_minutes))
        if row is None:
            new.append(
                Reminder(
                    appointment=appointment,
                    patient_id=appointment.patient_id,
                    plan_id=appointment.plan_id,
                    kind=w.kind,
                    slot_start=w.slot_start,
                    offset_minutes=w.offset_minutes,
                    due_at=w.due_at,
                )
            )
        elif row.status in REVIVABLE:
            Reminder.objects.filter(pk=row.pk, status=row.status).update(
                status=Status.PENDING,
                due_at=w.due_at,
                attempts=0,
                claim_token=NO_CLAIM,
                claimed_at=None,
                send_started_at=None,
                message_id="",
                error="",
                skip_reason="",
                updated_at=now,
            )
            if w.due_at <= now:
                due_now.append(row.pk)
        elif w.kind == Kind.RESCHEDULED and row.status in (Status.SENT, Status.FAILED):
            # Moved back to a slot announced before (B → C → B): the patient's
            # last notice says C, so announce B again, logged like a resend.
            Reminder.objects.filter(pk=row.pk, status=row.status).update(
                status=Status.PENDING,
                due_at=w.due_at,
                attempts=0,
                claim_token=NO_CLAIM,
                claimed_at=None,
                send_started_at=None,
                error="",
                resend_count=F("resend_count") + 1,
                resent_at=now,
                resent_by=None,
                updated_at=now,
            )
            due_now.append(row.pk)
    for row in Reminder.objects.bulk_create(new):
        if row.due_at <= now:
            due_now.append(row.pk)
    return due_now


def _void(appointment: Appointment, *, reason: str, keep_slot: dt.datetime | None = None) -> int:
    rows = Reminder.objects.filter(STOPPABLE, appointment=appointment)
    if keep_slot is not None:
        rows = rows.exclude(slot_start=keep_slot)
    return rows.update(
        status=Status.VOID, skip_reason=reason, claim_token=NO_CLAIM, updated_at=timezone.now()
    )


def plan_for_booking(
    appointment: Appointment,
    *,
    confirmation: bool = True,
    new: bool = False,
    rules: ClinicRules | None = None,
) -> None:
    """`new=True` from the booking services, right after the insert: a visit
    that did not exist a moment ago has no reminder rows to revive. `rules`:
    the clinic's rules when the booking read them already."""
    now = timezone.now()
    notice = Kind.CONFIRMATION if confirmation else None
    wanted = _for_slot(appointment, notice=notice, now=now, rules=rules)
    nudge_on_commit(_plan(appointment, wanted, now=now, new=new))


def plan_for_series(appointments: list[Appointment]) -> None:
    """One confirmation for a series booking, listing every session; it hangs
    off the first visit and the plan (the visits' reminders are their own)."""
    if not appointments:
        return
    now = timezone.now()
    first = min(appointments, key=lambda a: a.start)
    row = Reminder.objects.create(
        appointment=first,
        patient_id=first.patient_id,
        plan_id=first.plan_id,
        kind=Kind.SERIES_CONFIRMATION,
        slot_start=first.start,
        # Like every notice, it waits out the undo window (a series booked
        # and cancelled at once reaches the patient as nothing).
        due_at=now + _undo_delay(),
    )
    if row.due_at <= now:
        nudge_on_commit([row.pk])


def plan_for_reschedule(appointment: Appointment, *, old_start: dt.datetime) -> None:
    now = timezone.now()
    # Same transaction as the move: once it commits, no message of the old
    # slot can pass its commit point (sending.py re-checks under a lock).
    _void(appointment, reason="The visit was moved.", keep_slot=appointment.start)
    # What the patient hears depends on what they were last told: nothing yet
    # (the booking's confirmation was still in its undo window) → a
    # confirmation of the new time; this very time (a move undone) → nothing
    # new; another time → a notice naming the old and the new time.
    told = announced_start(appointment)
    if told is None:
        notice = Kind.CONFIRMATION
    elif told == appointment.start:
        notice = None
    else:
        notice = Kind.RESCHEDULED
    nudge_on_commit(_plan(appointment, _for_slot(appointment, notice=notice, now=now), now=now))


def plan_for_cancellation(appointment: Appointment) -> None:
    now = timezone.now()
    _void(appointment, reason="The visit was cancelled.")
    if announced_start(appointment) is None:
        # Never told of the visit (cancelled within the undo window): say nothing.
        return
    wanted = [Wanted(Kind.CANCELLATION, appointment.start, 0, now + _undo_delay())]
    nudge_on_commit(_plan(appointment, wanted, now=now))


# -- waitlist offers and recalls ----------------------------------------------
@transaction.atomic
def offer_waitlist_slot(
    *, entry: WaitlistEntry, start: dt.datetime, end: dt.datetime, therapist=None
) -> Reminder:
    """Tell a waiting patient a slot opened up (once per entry and slot)."""
    if not entry.is_active:
        raise ValidationError({"entry": "This waitlist entry is no longer active."})
    if end <= start:
        raise ValidationError({"end": "The slot must end after it starts."})
    now = timezone.now()
    reminder, created = Reminder.objects.get_or_create(
        kind=Kind.WAITLIST_OFFER,
        waitlist_entry=entry,
        slot_start=start,
        defaults={
            "patient_id": entry.patient_id,
            "plan_id": entry.plan_id,
            "slot_end": end,
            "due_at": now,
            "offer_therapist": therapist,
        },
    )
    if created:
        nudge_on_commit([reminder.pk])
    return reminder


def maintenance_plans_due(*, now: dt.datetime) -> list[tuple[TreatmentPlan, dt.date]]:
    """R15: active tap-water plans in maintenance whose last session plus
    the maintenance interval has come, with no visit booked ahead."""
    last_session = Max(
        "appointments__start",
        filter=Q(appointments__status__in=(Appointment.Status.COMPLETED, Appointment.Status.CHECKED_IN)),
    )
    booked_ahead = Appointment.objects.filter(
        plan_id=OuterRef("pk"), status__in=Appointment.UPCOMING_STATUSES, start__gt=now
    )
    plans = (
        TreatmentPlan.objects.filter(
            modality=Modality.TAP_WATER,
            phase=TreatmentPlan.Phase.MAINTENANCE,
            status=TreatmentPlan.Status.ACTIVE,
            maintenance_interval_days__isnull=False,
        )
        .annotate(last_session=last_session, booked_ahead=Exists(booked_ahead))
        .filter(last_session__isnull=False, booked_ahead=False)
        .order_by("pk")
    )
    today = local_date(now)
    due = []
    for plan in plans:
        due_date = local_date(plan.last_session) + dt.timedelta(days=plan.maintenance_interval_days)
        if due_date <= today:
            due.append((plan, due_date))
    return due


@transaction.atomic
def plan_maintenance_recalls(*, now: dt.datetime | None = None) -> int:
    """One recall row per plan and due date; running again adds nothing.
    Returns how many rows were planned."""
    now = now or timezone.now()
    due = [(plan, local_datetime(day, RECALL_HOUR)) for plan, day in maintenance_plans_due(now=now)]
    planned = set(
        Reminder.objects.filter(kind=Kind.MAINTENANCE_RECALL, plan__in=[plan for plan, _ in due]).values_list(
            "plan_id", "slot_start"
        )
    )
    rows = [
        Reminder(
            kind=Kind.MAINTENANCE_RECALL,
            plan=plan,
            patient_id=plan.patient_id,
            slot_start=slot,
            due_at=max(slot, now),
        )
        for plan, slot in due
        if (plan.pk, slot) not in planned
    ]
    # Two planners at once: the unique constraint (plan, due date) makes the
    # loser's rows no-ops.
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# -- the front desk's resend ------------------------------------------------
RESENDABLE = (Status.SENT, Status.FAILED, Status.SKIPPED)


def is_current_slot(reminder: Reminder) -> bool:
    """A visit's message is about its current slot (not one it was moved
    from); other messages (offers, recalls) have no visit to change."""
    appointment = reminder.appointment
    return appointment is None or reminder.slot_start == appointment.start


@transaction.atomic
def reminder_resend(*, reminder: Reminder, user=None) -> Reminder:
    """Send a message again on request (the patient lost it, a failure was
    fixed). The re-checks still apply: a stale message is voided, not sent."""
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.status not in RESENDABLE:
        raise ValidationError(
            {"status": f"A {reminder.get_status_display().lower()} message cannot be sent again."}
        )
    if not is_current_slot(reminder):
        raise ValidationError(
            {"status": "This message is about a slot the visit no longer has: nothing to resend."}
        )
    now = timezone.now()
    reminder.status = Status.PENDING
    reminder.due_at = now
    reminder.attempts = 0
    reminder.claim_token = NO_CLAIM
    reminder.claimed_at = None
    reminder.send_started_at = None
    reminder.error = ""
    reminder.skip_reason = ""
    reminder.resend_count += 1
    reminder.resent_at = now
    reminder.resent_by = user if user is not None and user.is_authenticated else None
    reminder.save()
    nudge_on_commit([reminder.pk])
    return reminder


# -- after commit: a best-effort nudge ------------------------------------------
_broker_quiet_until = 0.0
BROKER_BACKOFF_SECONDS = 30.0


def nudge_on_commit(ids: list[int]) -> None:
    """Ask a worker to send these outbox rows once the transaction commits
    (the next sweep sends them anyway)."""
    if ids and settings.REMINDER_NUDGE:
        transaction.on_commit(lambda: nudge(ids))


def _publish(ids: list[int]) -> None:
    """One publish on a connection of its own with short socket timeouts
    (settings), no retry and no result subscription."""
    timeout = settings.REMINDER_NUDGE_SOCKET_TIMEOUT
    options = {
        **(celery_app.conf.broker_transport_options or {}),
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "max_retries": 0,
    }
    with celery_app.connection_for_write(transport_options=options, connect_timeout=timeout) as conn:
        # By name: the task module imports this package, so importing it back
        # here would make an import cycle.
        celery_app.send_task(SEND_TASK, args=[ids], connection=conn, retry=False, ignore_result=True)


def nudge(ids: list[int]) -> bool:
    """Ask a worker to send these rows now. Never raises and never blocks a
    booking for more than REMINDER_NUDGE_WAIT_SECONDS: the publish runs in a
    thread of its own with short socket timeouts; if it has not finished in
    time it is left to end on its own (the next sweep sends the rows anyway).
    After a failure, skip publishing for a while so a series booking does not
    wait on a dead broker once per visit."""
    global _broker_quiet_until
    if time.monotonic() < _broker_quiet_until:
        return False
    failure: list[BaseException] = []

    def run() -> None:
        try:
            _publish(ids)
        except Exception as exc:  # reported below; a thread must not raise
            failure.append(exc)

    publisher = threading.Thread(target=run, name="reminders-nudge", daemon=True)
    publisher.start()
    publisher.join(settings.REMINDER_NUDGE_WAIT_SECONDS)
    if publisher.is_alive() or failure:
        _broker_quiet_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("reminders: broker unreachable or slow; rows %s wait for the next sweep", ids)
        return False
    return True
