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
"""

from __future__ import annotations

import importlib
import inspect
import socket
import time
from collections.abc import Callable

from django.apps import apps
from django.db import transaction
from django.db.models import Max
from django.test.utils import override_settings
from django.utils import timezone

from appointments.models import Appointment
from bench import harness
from bench.context import Stage

NAME = "Reminder sweep: 10,000 due, 1 worker, SMTP sink"
TARGET = 1_000 if harness.QUICK else 10_000
GOAL_PER_MINUTE = 10_000
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


class Sink:
    """An SMTP server on 127.0.0.1 that counts what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.count = 0
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.count += 1
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


def run(stage: Stage) -> list[dict]:
    sweep, model, found = find_sweep()
    if sweep is None:
        return unavailable(stage, found)
    try:
        from appointments import reminders
    except ImportError:
        return unavailable(stage, "no appointments.reminders")
    first_new = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    try:
        visits = Appointment.objects.filter(
            status=Appointment.Status.SCHEDULED, start__gt=timezone.now(), patient__reminder_opt_in=True
        ).order_by("start")[:TARGET]
        # Notices wait out the undo window (REMINDER_UNDO_MINUTES); the bench
        # measures sending, so they are due at once here.
        with transaction.atomic(), override_settings(REMINDER_UNDO_MINUTES=0):
            for appointment in visits:
                reminders.plan_for_booking(appointment)
        due = model.objects.filter(pk__gte=first_new, due_at__lte=timezone.now()).count()
        if due == 0:
            return unavailable(stage, f"{found} found, but booking plans no due reminder")
        takes_now = "now" in inspect.signature(sweep).parameters
        with (
            Sink() as sink,
            override_settings(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=sink.port,
                EMAIL_USE_TLS=False,
                EMAIL_HOST_USER="",
                EMAIL_HOST_PASSWORD="",
            ),
        ):
            began = time.perf_counter()
            while time.perf_counter() - began < TIME_LIMIT_S:
                before = sink.count
                sweep(now=timezone.now()) if takes_now else sweep()
                if sink.count == before or sink.count >= due:
                    break
            elapsed = time.perf_counter() - began
            sent = sink.count
    finally:
        model.objects.filter(pk__gte=first_new).delete()
    per_minute = sent / elapsed * 60 if elapsed else 0.0
    return [
        harness.result(
            NAME,
            stage.db,
            stage.n,
            rows=due,
            sent=sent,
            seconds=round(elapsed, 1),
            per_minute=round(per_minute),
            sweep=found,
            goal=f"≥ {GOAL_PER_MINUTE:,} messages/min",
            met=sent >= due and per_minute >= GOAL_PER_MINUTE,
        )
    ]
