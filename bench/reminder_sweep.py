"""Reminder sweep: 10,000 due reminders, one worker, sent over SMTP to a
local sink (aiosmtpd on 127.0.0.1): messages per minute.

The sweep is built by the reminders feature. This module looks for it and,
when this build does not have it, reports "not available in this build"
instead of a number. What it looks for (ARCHITECTURE.md "Reminder flow"):
- a `Reminder` model in `appointments` (fields `due_at`, `status`);
- reminder rows planned by `appointments.reminders.plan_for_booking(appointment)`
  (called for future scheduled visits, inside a transaction: rows appear on commit);
- a sweep function, the first of SWEEP_NAMES found in SWEEP_MODULES, called as
  `sweep(now=...)` (or without arguments) until it sends nothing more.

Two lines: one worker, then three workers sweeping the same backlog at once
(each a process of its own with its own database connection, as Celery's
prefork workers are). The sink runs in this process and the sweeps in
worker processes, as in production the mail server is never inside the
worker; it records each message's X-Phoresis-Reminder header, so each line
also says whether every row arrived exactly once.
"""

from __future__ import annotations

import importlib
import inspect
import multiprocessing
import re
import socket
import time
from collections import Counter
from collections.abc import Callable

from django.apps import apps
from django.db import connection, connections, transaction
from django.db.models import Max
from django.test.utils import override_settings
from django.utils import timezone

from appointments.models import Appointment
from bench import harness
from bench.context import Stage

NAME = "Reminder sweep: 10,000 due, 1 worker, SMTP sink"
NAME_3 = "Reminder sweep: 10,000 due, 3 workers, SMTP sink"
TARGET = 1_000 if harness.QUICK else 10_000
GOAL_PER_MINUTE = 10_000
GOAL_PER_MINUTE_3 = 25_000
SWEEP_MODULES = ("appointments.reminders", "appointments.services", "appointments.tasks")
SWEEP_NAMES = ("reminders_sweep", "reminder_sweep", "sweep_reminders", "reminders_send_due", "sweep")
TIME_LIMIT_S = 240


def find_sweep() -> tuple[Callable | None, type | None, str]:
    try:
        model = apps.get_model("appointments", "Reminder")
    except LookupError:
        return None, None, "no Reminder model"
    for module_name in SWEEP_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in SWEEP_NAMES:
            candidate = getattr(module, name, None)
            if callable(candidate):
                return candidate, model, f"{module_name}.{name}"
    return None, model, "no sweep function"


def unavailable(stage: Stage, reason: str) -> list[dict]:
    return [
        harness.result(
            NAME,
            stage.db,
            stage.n,
            unavailable=f"not available in this build ({reason})",
            goal=f"≥ {GOAL_PER_MINUTE:,} messages/min",
            met=None,
        )
    ]


REMINDER_HEADER = re.compile(rb"^X-Phoresis-Reminder: *(\d+)", re.MULTILINE | re.IGNORECASE)
DOT_STUFFED = re.compile(rb"^\.", re.MULTILINE)


def block_reading_controller() -> type:
    """aiosmtpd's Controller serving an SMTP whose DATA reads the message in
    blocks. aiosmtpd reads DATA a line at a time (an await, a debug log
    call and a list append per line): 0.85 ms of CPU for a 140-line
    reminder, as much as a third of the worker's own cost, on the same two
    cores the workers share, where production's mail server is another
    machine. Reading up to the end-of-data mark in blocks and undoing the
    dot-stuffing in one pass (RFC 5321 §4.5.2) is the same protocol for a
    fraction of that. It is safe without PIPELINING, which aiosmtpd does
    not offer: the client sends nothing after the mark until it has the
    reply, so the mark ends what was read."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import MISSING, SMTP

    class BlockDataSMTP(SMTP):
        async def smtp_DATA(self, arg: str) -> None:
            # aiosmtpd's checks and replies, in its order.
            if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
                return
            if not self.envelope.rcpt_tos:
                await self.push("503 Error: need RCPT command")
                return
            if arg:
                await self.push("501 Syntax: DATA")
                return
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            received = bytearray()
            while not (received == b".\r\n" or received.endswith(b"\r\n.\r\n")):
                block = await self._reader.read(1 << 16)
                if not block:  # the client went away: no message
                    return
                received += block
            content = DOT_STUFFED.sub(b"", bytes(received[:-3]))
            self.envelope.content = self.envelope.original_content = content
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push("250 OK" if status is MISSING else status)

    class BlockDataController(Controller):
        def factory(self):
            return BlockDataSMTP(self.handler, **self.SMTP_kwargs)

    return BlockDataController


class Sink:
    """An SMTP server on 127.0.0.1 that counts what it receives, by reminder row."""

    def __init__(self) -> None:
        Controller = block_reading_controller()  # noqa: N806 - a class

        self.count = 0
        self.rows: Counter[int] = Counter()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.count += 1
                if found := REMINDER_HEADER.search(envelope.original_content or b""):
                    sink.rows[int(found.group(1))] += 1
                return "250 OK"

        # A real free port: the controller's start-up check connects to it.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # server_hostname: else aiosmtpd resolves socket.getfqdn() per
        # connection inside its event loop (seconds on a slow resolver).
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="localhost")

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    def exactly_once(self, ids: set[int]) -> bool:
        return set(self.rows) == ids and all(n == 1 for n in self.rows.values())


def smtp_settings(port: int) -> override_settings:
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
    )


def _busy(outcome) -> bool:
    """Whether a sweep found anything to do (an Outcome, a dict of counts or a number)."""
    counts = outcome.as_dict() if hasattr(outcome, "as_dict") else outcome
    return any(counts.values()) if isinstance(counts, dict) else bool(counts)


def _worker(sweep: Callable, port: int, go, time_limit: float) -> None:
    """One worker process: sweep until a sweep finds nothing to claim."""
    takes_now = "now" in inspect.signature(sweep).parameters
    go.wait()
    began = time.perf_counter()
    with smtp_settings(port):
        while time.perf_counter() - began < time_limit:
            if not _busy(sweep(now=timezone.now()) if takes_now else sweep()):
                break
    connections.close_all()


def sweep_with_workers(sweep: Callable, workers: int, ids: set[int]) -> dict:
    """`workers` processes sweep the due rows at once; the sink here counts.
    Timed from the start signal to the last message in."""
    context = multiprocessing.get_context("fork")
    go = context.Event()
    sink = Sink()
    # Forked before the sink's thread starts, each with a connection of its own.
    connections.close_all()
    procs = [
        context.Process(target=_worker, args=(sweep, sink.port, go, TIME_LIMIT_S)) for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    with sink:
        began = last_at = time.perf_counter()
        go.set()
        last = 0
        while any(proc.is_alive() for proc in procs) and sink.count < len(ids):
            if sink.count != last:
                last, last_at = sink.count, time.perf_counter()
            time.sleep(0.005)
        ended = time.perf_counter() if sink.count >= len(ids) else last_at
        for proc in procs:
            proc.join(TIME_LIMIT_S)
        time.sleep(0.2)  # a duplicate still on its way would show
        sent, once = sink.count, sink.exactly_once(ids)
    return {"sent": sent, "seconds": ended - began, "exactly_once": once}


def plan_due(model, reminders) -> tuple[int, set[int]]:
    """Plan the visits' reminder rows; (due rows, their ids)."""
    first_new = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    visits = Appointment.objects.filter(
        status=Appointment.Status.SCHEDULED, start__gt=timezone.now(), patient__reminder_opt_in=True
    ).order_by("start")[:TARGET]
    # Notices wait out the undo window (REMINDER_UNDO_MINUTES); the bench
    # measures sending, so they are due at once here, and no booking nudges
    # a worker (10,000 publishes on commit, to a broker nobody reads here).
    with transaction.atomic(), override_settings(REMINDER_UNDO_MINUTES=0, REMINDER_NUDGE=False):
        for appointment in visits:
            reminders.plan_for_booking(appointment)
    # Fresh planner statistics after this bulk load, as seeding does after
    # its own: production's autovacuum analyses the outbox within a minute,
    # the CI server runs without it, and with statistics from an empty
    # table PostgreSQL may look a row up by scanning a whole index.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {model._meta.db_table}")
    due = model.objects.filter(pk__gte=first_new, due_at__lte=timezone.now())
    return first_new, set(due.values_list("pk", flat=True))


def line(name: str, stage: Stage, goal: int, due: int, measured: dict, found: str) -> dict:
    sent, elapsed = measured["sent"], measured["seconds"]
    per_minute = sent / elapsed * 60 if elapsed else 0.0
    return harness.result(
        name,
        stage.db,
        stage.n,
        rows=due,
        sent=sent,
        seconds=round(elapsed, 1),
        per_minute=round(per_minute),
        exactly_once=measured["exactly_once"],
        sweep=found,
        goal=f"≥ {goal:,} messages/min, exactly once",
        met=sent >= due and measured["exactly_once"] and per_minute >= goal,
    )


def run(stage: Stage) -> list[dict]:
    sweep, model, found = find_sweep()
    if sweep is None:
        return unavailable(stage, found)
    try:
        from appointments import reminders
    except ImportError:
        return unavailable(stage, "no appointments.reminders")
    results = []
    for name, workers, goal in ((NAME, 1, GOAL_PER_MINUTE), (NAME_3, 3, GOAL_PER_MINUTE_3)):
        first_new = None
        try:
            first_new, ids = plan_due(model, reminders)
            if not ids:
                return unavailable(stage, f"{found} found, but booking plans no due reminder")
            measured = sweep_with_workers(sweep, workers, ids)
        finally:
            if first_new is not None:
                model.objects.filter(pk__gte=first_new).delete()
        results.append(line(name, stage, goal, len(ids), measured, found))
    return results
