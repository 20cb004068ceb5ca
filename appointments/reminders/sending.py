"""Sending due reminder rows: claim, re-check, send, record.

A row moves pending → sending (claimed by one worker, with a claim token) →
sent, or back to pending with a later due time (retry with backoff), or to
failed, void (no longer true: moved, cancelled, past) or skipped (patient
opted out, no address). Every transition after the claim is a conditional
UPDATE on (id, claim token), so a worker that lost its claim changes nothing.

Exactly once, as far as SMTP allows:
- Claiming uses SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so
  concurrent sweeps and nudges split the due rows instead of sharing them
  (SQLite serialises writers, so a plain SELECT in the write transaction is enough).
- The commit point (mail.py) marks `send_started_at` just before the final
  "." of DATA, re-checking the appointment under its row lock: a move or
  cancellation commits either before (the row is voided, nothing is sent)
  or after (the message was already on its way). For a visit's message that
  is still current this is one statement (handover.py: it takes the lock,
  re-checks in SQL and marks the row); otherwise a short transaction re-reads
  the row under the same lock and `verdict_for` says why it stops (or that
  it may go after all). "Sent" is recorded in one statement too, which
  does not wait for the disk (handover.py says why that is safe).
- A worker killed before the commit point leaves a `sending` row without
  `send_started_at`; after the lease the sweep takes it back and sends it.
- A worker killed after the commit point, before recording "sent", leaves
  a row that may or may not have been delivered. Clinics hate duplicates
  more than a visible gap, so after the lease it becomes `failed` with the
  UNCONFIRMED error and the Message-ID to look up; the front desk decides
  (one click resends). This window is the SMTP round trip of one message.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import smtplib
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from appointments.models import NO_CLAIM, Appointment, Reminder
from appointments.reminders import handover, kinds, mail
from appointments.reminders.content import BatchFacts, batch_facts, build_message, series_visits
from treatments.models import TreatmentPlan

logger = logging.getLogger(__name__)

Kind = Reminder.Kind
Status = Reminder.Status

UNCONFIRMED = (
    "Delivery unconfirmed: the sender stopped after handing the message to the mail server. "
    "It was not sent again, to avoid a duplicate; check the mail server log for the Message-ID "
    "or resend."
)
RELATED = ("appointment", "patient", "plan", "waitlist_entry")


@dataclass
class Outcome:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    void: int = 0
    skipped: int = 0
    lost: int = 0  # claim taken back by another sweep: nothing done
    recovered: int = 0
    unconfirmed: int = 0
    held: int = 0  # R16: the plan is on hold; the row waits, pending, for its resume
    ids: list[int] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        for name in (
            "sent",
            "retried",
            "failed",
            "void",
            "skipped",
            "lost",
            "recovered",
            "unconfirmed",
            "held",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.ids += other.ids

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "ids"}


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str


class Stop(Exception):
    """Raised at the commit point: do not hand this message over."""

    def __init__(self, verdict: Verdict | None) -> None:
        super().__init__(verdict.reason if verdict else "claim lost")
        self.verdict = verdict


# R16: messages about a visit of a plan on hold wait (pending, not sent, not
# lost); once the plan resumes the sweep sends those still timely and the
# re-check below voids the rest. A cancellation notice still goes out.
HELD_KINDS = handover.HELD_KINDS  # (confirmation, reminder, rescheduled)
HELD = Verdict(Status.PENDING, "Held: the plan is on hold.")


def _held_rows() -> Q:
    # A subquery, not a join: the claim's FOR UPDATE must lock reminder rows only.
    held_visits = Appointment.objects.filter(plan__status=TreatmentPlan.Status.ON_HOLD).values("pk")
    return Q(kind__in=HELD_KINDS, appointment_id__in=held_visits)


def _tally(outcome: Outcome, verdict: Verdict) -> None:
    name = "held" if verdict.status == Status.PENDING else verdict.status
    setattr(outcome, name, getattr(outcome, name) + 1)


# -- the re-check ---------------------------------------------------------------
def verdict_for(reminder: Reminder, *, now: dt.datetime) -> Verdict | None:
    """Why this message must not go out now (None: send it). Reads only the
    row and the objects loaded with it."""
    appointment = reminder.appointment
    if (
        reminder.kind in HELD_KINDS
        and reminder.plan_id
        and reminder.plan.status == TreatmentPlan.Status.ON_HOLD
    ) and (appointment is None or now < appointment.start):
        return HELD
    if reminder.kind in Reminder.APPOINTMENT_KINDS:
        if reminder.kind == Kind.CANCELLATION:
            if appointment.status != Appointment.Status.CANCELLED:
                return Verdict(Status.VOID, "The visit is no longer cancelled.")
            if now >= appointment.end:
                return Verdict(Status.VOID, "The visit time has passed.")
        else:
            if appointment.status == Appointment.Status.CANCELLED:
                return Verdict(Status.VOID, "The visit was cancelled.")
            if appointment.start != reminder.slot_start:
                return Verdict(Status.VOID, "The visit was moved.")
            if appointment.status not in Appointment.UPCOMING_STATUSES:
                return Verdict(Status.VOID, f"The visit is {appointment.get_status_display().lower()}.")
            if now >= appointment.start:
                return Verdict(Status.VOID, "The visit has started.")
    elif reminder.kind == Kind.SERIES_CONFIRMATION:
        if not series_visits(reminder, now=now):
            return Verdict(Status.VOID, "No session of the series is still booked.")
    elif reminder.kind == Kind.WAITLIST_OFFER:
        entry = reminder.waitlist_entry
        if not entry.is_active:
            return Verdict(Status.VOID, "The waitlist entry was closed.")
        if now >= reminder.slot_start:
            return Verdict(Status.VOID, "The offered time has passed.")
    elif reminder.kind == Kind.MAINTENANCE_RECALL:
        plan = reminder.plan
        if plan.status != TreatmentPlan.Status.ACTIVE or plan.phase != TreatmentPlan.Phase.MAINTENANCE:
            return Verdict(Status.VOID, "The plan is no longer in maintenance.")
        if plan.appointments.filter(status__in=Appointment.UPCOMING_STATUSES, start__gt=now).exists():
            return Verdict(Status.VOID, "A maintenance visit is booked.")
    elif reason := kinds.why_not(reminder, now=now):  # a kind a layer above registered
        return Verdict(Status.VOID, reason)
    patient = reminder.patient
    if not patient.reminder_opt_in:
        return Verdict(Status.SKIPPED, "The patient opted out of email.")
    if not patient.email:
        return Verdict(Status.SKIPPED, "The patient has no email address.")
    return None


# -- claiming -------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    token: str
    ids: list[int]


def claim_due(*, now: dt.datetime, limit: int, ids: list[int] | None = None) -> Claim:
    token = secrets.token_hex(16)
    with transaction.atomic():
        rows = Reminder.objects.filter(status=Status.PENDING, due_at__lte=now).exclude(_held_rows())
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        if connection.features.has_select_for_update_skip_locked:
            # Concurrent sweeps and nudges: each skips the rows another is
            # claiming instead of waiting and then claiming them again.
            rows = rows.select_for_update(skip_locked=True)
        picked = list(rows.order_by("due_at", "id").values_list("pk", flat=True)[:limit])
        if picked:
            # `now` says what is due; the lease runs from the clock. A sweep
            # passed one `now` claims batch after batch with it, and stamped
            # with that, a batch claimed half a minute into the sweep looked
            # abandoned to another worker the moment it was claimed.
            claimed_at = timezone.now()
            Reminder.objects.filter(pk__in=picked, status=Status.PENDING).update(
                status=Status.SENDING,
                claimed_at=claimed_at,
                claim_token=token,
                attempts=F("attempts") + 1,
                send_started_at=None,
                updated_at=claimed_at,
            )
    return Claim(token, picked)


def recover_abandoned(*, now: dt.datetime) -> Outcome:
    """Rows claimed longer ago than the lease belong to a worker that died
    (or is hopelessly slow: its later writes then match no row)."""
    lease = dt.timedelta(seconds=settings.REMINDER_CLAIM_LEASE_SECONDS)
    sending = Reminder.objects.filter(status=Status.SENDING)
    outcome = Outcome()
    # Never handed over, and the claim not renewed within the lease (a live
    # worker renews it between messages): safe to send again.
    outcome.recovered = sending.filter(send_started_at__isnull=True, claimed_at__lt=now - lease).update(
        status=Status.PENDING, claim_token=NO_CLAIM, claimed_at=None, updated_at=now
    )
    # Handed over, and no answer recorded within the lease plus the longest a
    # live worker waits for the server's reply: outcome unknown. Keep the
    # claim token so a slow worker that is still alive can still record
    # "sent"; never resend automatically.
    reply_wait = dt.timedelta(seconds=settings.REMINDER_SMTP_REPLY_TIMEOUT)
    outcome.unconfirmed = sending.filter(send_started_at__lt=now - lease - reply_wait).update(
        status=Status.FAILED, error=UNCONFIRMED, updated_at=now
    )
    if outcome.recovered or outcome.unconfirmed:
        logger.warning(
            "reminders: took back %s abandoned rows, %s unconfirmed", outcome.recovered, outcome.unconfirmed
        )
    return outcome


# -- recording --------------------------------------------------------------------
def _owned(reminder: Reminder, token: str):
    return Reminder.objects.filter(pk=reminder.pk, claim_token=token, status=Status.SENDING)


def _close(reminder: Reminder, token: str, verdict: Verdict) -> int:
    return (
        _owned(reminder, token)
        .filter(send_started_at__isnull=True)
        .update(status=verdict.status, skip_reason=verdict.reason, updated_at=timezone.now())
    )


def _is_permanent(exc: Exception) -> bool:
    """5xx answers: the address or message is refused, retrying will not help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _record_failure(reminder: Reminder, token: str, exc: Exception, *, now: dt.datetime) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    attempts = reminder.attempts
    if _is_permanent(exc) or attempts >= settings.REMINDER_MAX_ATTEMPTS:
        _owned(reminder, token).update(
            status=Status.FAILED, error=error, send_started_at=None, updated_at=now
        )
        return "failed"
    backoff = settings.REMINDER_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    _owned(reminder, token).update(
        status=Status.PENDING,
        due_at=now + dt.timedelta(seconds=backoff),
        claim_token=NO_CLAIM,
        claimed_at=None,
        send_started_at=None,
        error=error,
        updated_at=now,
    )
    return "retried"


# -- delivering -----------------------------------------------------------------
@dataclass
class Batch:
    """One claim being sent over one connection, with what its messages
    read once (content.BatchFacts)."""

    token: str
    backend: object
    facts: BatchFacts
    outcome: Outcome


# What the commit point reads, per relation the row has: enough for
# verdict_for and nothing else (a narrow read under the lock; the batch's
# first read already had every column for building the message).
FRESH_FIELDS = {
    "appointment": ("status", "start", "end", "patient_id", "plan_id"),
    "patient": ("reminder_opt_in", "email"),
    "plan": ("status", "phase"),
    "waitlist_entry": ("is_active",),
}
ROW_FIELDS = (
    "appointment_id",
    "patient_id",
    "plan_id",
    "waitlist_entry_id",
    "kind",
    "slot_start",
    "slot_end",
    "created_at",
)


def _fresh(reminder: Reminder) -> Reminder:
    """The row and what it is about, read again. For an appointment's
    message this takes the appointment's row lock, which reschedule and
    cancel also take: a change commits wholly before the check (and voids
    the row) or wholly after the message was handed over."""
    related = [name for name in RELATED if getattr(reminder, f"{name}_id")]
    fields = [*ROW_FIELDS, *(f"{name}__{f}" for name in related for f in FRESH_FIELDS[name])]
    rows = Reminder.objects.select_related(*related).only(*fields).order_by()
    if reminder.appointment_id:
        rows = rows.filter(appointment__isnull=False).select_for_update(of=("appointment",))
    return rows.get(pk=reminder.pk)


def _commit_point(reminder: Reminder, batch: Batch, message_id: str):
    token = batch.token

    def mark_handed_over() -> None:
        # A visit's message, still current: one statement (handover.py).
        if handover.hand_over(reminder, token=token, message_id=message_id, now=timezone.now()):
            return
        # Anything else, or a visit's message that may not go: the full
        # re-check under the lock finds why (or that it may go after all).
        with transaction.atomic():
            fresh = _fresh(reminder)
            now = timezone.now()
            verdict = verdict_for(fresh, now=now)
            if verdict is not None:
                done = _close(reminder, token, verdict)
            else:
                done = (
                    _owned(reminder, token)
                    .filter(send_started_at__isnull=True)
                    .update(send_started_at=now, message_id=message_id, updated_at=now)
                )
        # Raised after the commit: the row is closed (or was not ours), and
        # the connection is dropped without the final dot.
        if verdict is not None or not done:
            raise Stop(verdict if done else None)

    return mark_handed_over


def _deliver(reminder: Reminder, batch: Batch) -> None:
    token, backend, outcome = batch.token, batch.backend, batch.outcome
    now = timezone.now()
    verdict = verdict_for(reminder, now=now)
    if verdict is not None:
        if _close(reminder, token, verdict):
            _tally(outcome, verdict)
        return
    try:
        message = build_message(reminder, rules=batch.facts.rules, facts=batch.facts)
        message_id = message.extra_headers["Message-ID"]
        mail.send_one(backend, message, _commit_point(reminder, batch, message_id))
    except Stop as stop:
        mail.reset_backend(backend)
        if stop.verdict is None:
            outcome.lost += 1
        else:
            _tally(outcome, stop.verdict)
        return
    except mail.DeliveryUnconfirmed as exc:
        mail.reset_backend(backend)
        logger.error("reminders: row %s unconfirmed: %s", reminder.pk, exc)
        _owned(reminder, token).update(
            status=Status.FAILED, error=f"{UNCONFIRMED} ({exc})"[:2000], updated_at=timezone.now()
        )
        outcome.failed += 1
        return
    except Exception as exc:
        mail.reset_backend(backend)
        logger.warning("reminders: row %s not sent: %s", reminder.pk, exc, exc_info=True)
        result = _record_failure(reminder, token, exc, now=timezone.now())
        setattr(outcome, result, getattr(outcome, result) + 1)
        return
    handover.record_sent(reminder, token=token, now=timezone.now())
    outcome.sent += 1
    outcome.ids.append(reminder.pk)


def _deliver_claimed(claim: Claim, backend=None) -> Outcome:
    """Send a claim's rows; over `backend`'s connection if given (a sweep
    keeps one for all its batches; it stays open), else over one of its own."""
    outcome = Outcome()
    if not claim.ids:
        return outcome
    rows = list(
        Reminder.objects.filter(pk__in=claim.ids, claim_token=claim.token, status=Status.SENDING)
        .select_related(*RELATED)
        .order_by("due_at", "id")
    )
    own = backend is None
    batch = Batch(claim.token, mail.open_backend() if own else backend, batch_facts(rows), outcome)
    renew_every = settings.REMINDER_CLAIM_LEASE_SECONDS / 3
    renewed = time.monotonic()
    try:
        for reminder in rows:
            if time.monotonic() - renewed >= renew_every:
                renew_claim(claim)
                renewed = time.monotonic()
            _deliver(reminder, batch)
    finally:
        if own:
            mail.reset_backend(batch.backend)
    return outcome


def renew_claim(claim: Claim) -> int:
    """The worker is alive: push the lease of its unsent rows forward, so
    a short lease takes back only a dead worker's rows."""
    now = timezone.now()
    return Reminder.objects.filter(
        pk__in=claim.ids, claim_token=claim.token, status=Status.SENDING, send_started_at__isnull=True
    ).update(claimed_at=now)


def reminders_sweep(*, now: dt.datetime | None = None, time_budget: float = 45.0) -> Outcome:
    """Send every due row: take back abandoned claims, then claim and send
    batches until none is due or the time budget is spent (the next sweep
    continues)."""
    outcome = recover_abandoned(now=now or timezone.now())
    started = time.monotonic()
    deadline = started + time_budget
    recovered_at = started
    # One SMTP connection for the sweep's batches (opened at its first message).
    backend = mail.open_backend()
    try:
        while time.monotonic() < deadline:
            if time.monotonic() - recovered_at >= settings.REMINDER_CLAIM_LEASE_SECONDS / 2:
                # A long sweep also takes back what a worker that died meanwhile held.
                outcome.add(recover_abandoned(now=now or timezone.now()))
                recovered_at = time.monotonic()
            claim = claim_due(now=now or timezone.now(), limit=settings.REMINDER_SWEEP_BATCH)
            if not claim.ids:
                break
            outcome.add(_deliver_claimed(claim, backend))
    finally:
        mail.reset_backend(backend)
    return outcome


def due_count(*, now: dt.datetime | None = None) -> int:
    """Pending rows due now (the sweep's backlog)."""
    return Reminder.objects.filter(status=Status.PENDING, due_at__lte=now or timezone.now()).count()


def reminders_send(*, reminder_ids: list[int], now: dt.datetime | None = None) -> Outcome:
    """Send these rows now if they are still pending and due (the nudge after
    a booking); rows a sweep claimed already are left to it."""
    claim = claim_due(now=now or timezone.now(), limit=len(reminder_ids), ids=list(reminder_ids))
    return _deliver_claimed(claim)
