import os
import time
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler
from celery.signals import import_modules

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_embedded_broker_dirs() -> None:
    """The embedded broker (kombu's filesystem transport) and result backend
    keep their files under var/broker/; create the folders before use."""
    from django.conf import settings

    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    for key in ("data_folder_in", "control_folder"):
        Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
    if settings.CELERY_RESULT_BACKEND.startswith("file://"):
        Path(settings.CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)


@import_modules.connect
def _prepare(sender=None, **kwargs) -> None:
    ensure_embedded_broker_dirs()


class HeartbeatScheduler(PersistentScheduler):
    """Beat's scheduler, touching a heartbeat file as it ticks, so a
    healthcheck (`python -m clinic.healthcheck beat`) can tell a live beat
    from a hung one: beat answers no `inspect ping`."""

    heartbeat_every = 5.0
    _last_beat = 0.0

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        now = time.monotonic()
        if now - self._last_beat >= self.heartbeat_every:
            from django.conf import settings

            path = Path(settings.CELERY_BEAT_HEARTBEAT_FILE)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
            self._last_beat = now
        return interval
