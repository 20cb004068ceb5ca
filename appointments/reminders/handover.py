"""The two writes every sent message costs, each one statement.

The commit point (sending.py) and the record of "sent" run once per
message, so the sweep's throughput is bounded by their round trips: the
commit point used to be four (BEGIN, the re-check's SELECT … FOR UPDATE,
UPDATE, COMMIT) and the ORM compiled both statements again for every
message. Here each is one statement, written once per process.

`hand_over` is the commit point for a message about a visit (confirmation,
reminder, rescheduled, cancellation: nearly every row). In one statement it
takes the visit's row lock, as reschedule and cancel do, and marks the row
handed over only if `sending.verdict_for` would let it go:

- the visit's row is locked first (FOR UPDATE in its sub-select); a
  move or cancellation holding it commits wholly before the statement goes
  on, and PostgreSQL then reads the visit's newest version (READ COMMITTED
  re-checks a row it had to wait for), so the statement sees the change,
  exactly as the re-read under the lock in a transaction did;
- the row itself is updated only if it is still this claim's and not handed
  over (a void committed meanwhile makes it match nothing);
- the visit is still current for the kind (not cancelled, not moved, still
  upcoming and not started; a cancellation notice: still cancelled and not
  over), the patient still opted in with an address, and the plan not on
  hold for the kinds that wait for a resume (R16).

It never says "send" where `verdict_for` would stop the message: when it
matches no row, the caller runs the full re-check in a transaction, which
finds the reason (void, skipped, held) or that the claim was lost. SQLite
has no FOR UPDATE; it serialises writers, and the statement is one.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.db import connection

from appointments.models import Appointment, Reminder
from patients.models import Patient
from treatments.models import TreatmentPlan

Kind = Reminder.Kind
Status = Reminder.Status

# The kinds whose re-check is about the visit alone (verdict_for's first
# branch), besides the cancellation notice.
VISIT_KINDS = (Kind.CONFIRMATION, Kind.REMINDER, Kind.RESCHEDULED)
# R16: these wait while the plan is on hold (sending.HELD_KINDS); the
# statement for VISIT_KINDS checks the hold, so the two must stay equal.
HELD_KINDS = VISIT_KINDS
KINDS = (*VISIT_KINDS, Kind.CANCELLATION)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


@cache
def _hand_over_sql(vendor: str, kind: str) -> str:
    """The statement for a visit's message of one kind (VISIT_KINDS share one)."""
    del vendor  # a cache key: the SQL differs by database
    r, a, p, t = _table(Reminder), _table(Appointment), _table(Patient), _table(TreatmentPlan)

    def rc(name: str) -> str:
        return f"{r}.{_column(Reminder, name)}"

    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    if kind == Kind.CANCELLATION:
        # Still cancelled, and not over.
        current = "visit.status = %s AND visit.ends > %s"
        held = ""
    else:
        # Still upcoming, at the slot the message announces, not started;
        # and (R16) the plan not on hold.
        current = (
            f"visit.status IN ({_marks(Appointment.UPCOMING_STATUSES)}) "
            f"AND visit.starts = {rc('slot_start')} AND visit.starts > %s"
        )
        held = (
            f"AND COALESCE((SELECT {t}.{_column(TreatmentPlan, 'status')} FROM {t} "  # nosec B608 - see below
            f"WHERE {t}.{_column(TreatmentPlan, 'id')} = {rc('plan_id')}), '') <> %s"
        )
    # Scalar sub-selects, not joins: planning a four-way join cost more than
    # running it (1.3 ms a message on PostgreSQL). The visit's sub-select
    # takes its row lock (a sub-select, not a CTE: Python's sqlite3 reports
    # no row count for a statement that does not start with UPDATE). The
    # status is compared in a form the (status, due_at) index cannot serve:
    # with statistics that see few rows 'sending', the planner otherwise
    # scans every claimed row instead of reading one by its key.
    # Identifiers from the models' metadata, quoted; every value is a parameter.
    return (
        f"UPDATE {r} SET {_column(Reminder, 'send_started_at')} = %s, "  # nosec B608 - identifiers only
        f"{_column(Reminder, 'message_id')} = %s, {_column(Reminder, 'updated_at')} = %s "
        f"WHERE {rc('id')} = %s AND {rc('claim_token')} = %s AND ({rc('status')} = %s) IS TRUE "
        f"AND {rc('send_started_at')} IS NULL AND {rc('kind')} = %s "
        f"AND (SELECT {current} FROM ("
        f"SELECT {_column(Appointment, 'id')} AS id, {_column(Appointment, 'status')} AS status, "
        f"{_column(Appointment, 'start')} AS starts, {_column(Appointment, 'end')} AS ends "
        f"FROM {a} WHERE {_column(Appointment, 'id')} = %s{lock}) AS visit "
        f"WHERE visit.id = {rc('appointment_id')}) "
        f"AND (SELECT {p}.{_column(Patient, 'reminder_opt_in')} AND {p}.{_column(Patient, 'email')} <> %s "
        f"FROM {p} WHERE {p}.{_column(Patient, 'id')} = {rc('patient_id')}) "
        f"{held}"
    )


def hand_over(reminder: Reminder, *, token: str, message_id: str, now: dt.datetime) -> bool:
    """Mark a visit's message handed over if it may still go out (see the
    module's docstring); False: nothing written, run the full re-check."""
    kind = reminder.kind
    if kind not in KINDS or not reminder.appointment_id:
        return False
    at = connection.ops.adapt_datetimefield_value(now)
    params = [at, message_id, at, reminder.pk, token, Status.SENDING, kind]
    if kind == Kind.CANCELLATION:
        params += [Appointment.Status.CANCELLED, at, reminder.appointment_id, ""]
    else:
        params += [
            *Appointment.UPCOMING_STATUSES,
            at,
            reminder.appointment_id,
            "",
            TreatmentPlan.Status.ON_HOLD,
        ]
    sql = _hand_over_sql(connection.vendor, Kind.CANCELLATION if kind == Kind.CANCELLATION else Kind.REMINDER)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


@cache
def _record_sent_sql(vendor: str) -> str:
    r = _table(Reminder)
    # PostgreSQL: this statement's commit does not wait for the disk
    # (synchronous_commit off for its own transaction only: set_config's
    # third argument). Losing it in a server crash cannot send a message
    # twice: the row stays handed over and the lease marks it unconfirmed,
    # as for a worker killed before this write. The next hand-over, which
    # does wait, flushes it anyway (the log is written in order). Half of
    # a message's commits stop waiting: on this machine, the 3-worker
    # sweep waited on them as much as on anything else.
    commit_mode = (
        " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS commit_mode"
        if vendor == "postgresql"
        else ""
    )
    return (
        f"UPDATE {r} SET {_column(Reminder, 'status')} = %s, {_column(Reminder, 'sent_at')} = %s, "  # nosec B608 - identifiers only
        f"{_column(Reminder, 'error')} = %s, {_column(Reminder, 'skip_reason')} = %s, "
        f"{_column(Reminder, 'updated_at')} = %s{commit_mode} "
        f"WHERE {r}.{_column(Reminder, 'id')} = %s AND {r}.{_column(Reminder, 'claim_token')} = %s"
    )


def record_sent(reminder: Reminder, *, token: str, now: dt.datetime) -> int:
    """The server answered 250: the row is sent. Matches on the token only:
    a row the lease recovery marked unconfirmed meanwhile was in fact
    delivered."""
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_record_sent_sql(connection.vendor), [Status.SENT, at, "", "", at, reminder.pk, token])
        return cursor.rowcount
