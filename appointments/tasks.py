"""Celery transport for the reminder outbox: tasks take ids, call a service
and own the retry policy for infrastructure errors (database briefly away).
Email delivery retries live in the rows themselves (due_at backoff, see
appointments/reminders/sending.py), so they survive a lost worker or broker.
No task is published with an ETA or countdown far ahead: Redis would
re-deliver it after the visibility timeout."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from appointments import reminders
from appointments.reminders import sending
from clinic import metrics

logger = logging.getLogger(__name__)

# ignore_result: publishing must not also subscribe to a result backend that
# may be down (that waits ~20 s); nothing reads these results.
COMMON = {"ignore_result": True, "autoretry_for": (DatabaseError,), "max_retries": 3, "retry_backoff": 5}


@shared_task(name="appointments.tasks.reminders_sweep", **COMMON)
def reminders_sweep(helper: bool = False) -> dict:
    """Beat's sweep. With more than a batch due it first starts up to
    REMINDER_SWEEP_HELPERS more on the sweep queue (each claims its own rows,
    so every worker helps with a backlog); helpers start none."""
    if not helper and settings.REMINDER_SWEEP_HELPERS > 0:
        backlog = sending.due_count()
        helpers = min(settings.REMINDER_SWEEP_HELPERS, backlog // max(settings.REMINDER_SWEEP_BATCH, 1))
        for _ in range(helpers):
            reminders_sweep.apply_async(
                kwargs={"helper": True}, expires=max(settings.REMINDER_SWEEP_SECONDS - 5, 1)
            )
    started = time.monotonic()
    outcome = reminders.reminders_sweep()
    metrics.sweep_done(seconds=time.monotonic() - started, outcome=outcome.as_dict())
    if outcome.sent or outcome.failed or outcome.recovered:
        logger.info("reminders_sweep %s", outcome.as_dict())
    return outcome.as_dict()


@shared_task(name="appointments.tasks.reminders_send", **COMMON)
def reminders_send(reminder_ids: list[int]) -> dict:
    outcome = reminders.reminders_send(reminder_ids=[int(i) for i in reminder_ids])
    metrics.emails_done(outcome.as_dict())
    logger.info("reminders_send %s", outcome.as_dict())
    return outcome.as_dict()


@shared_task(name="appointments.tasks.maintenance_recalls_plan", **COMMON)
def maintenance_recalls_plan() -> int:
    planned = reminders.plan_maintenance_recalls()
    if planned:
        logger.info("maintenance_recalls_plan planned %s recall(s)", planned)
    return planned
