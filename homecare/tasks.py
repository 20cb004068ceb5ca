"""Beat plans the home program's recalls hourly; the reminder sweep sends
them like every other patient email (appointments/reminders/)."""

from __future__ import annotations

import logging

from celery import shared_task

from appointments.tasks import COMMON
from homecare import services

logger = logging.getLogger(__name__)


@shared_task(name="homecare.tasks.home_recalls_plan", **COMMON)
def home_recalls_plan() -> int:
    planned = services.plan_home_recalls()
    if planned:
        logger.info("home_recalls_plan planned %s recall(s)", planned)
    return planned
