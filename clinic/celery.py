import os
import time
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler
from celery.signals import before_task_publish, import_modules, task_postrun, task_prerun

from clinic.requestid import REQUEST_ID

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


# The request id travels as a message header (ids only, like the task's
# arguments) and is set again in the worker while the task runs.
@before_task_publish.connect(dispatch_uid="clinic.celery.request_id_out")
def _request_id_out(headers=None, **kwargs) -> None:
    if headers is not None and (request_id := REQUEST_ID.get()):
        headers.setdefault("request_id", request_id)


_tokens: dict[str, object] = {}


@task_prerun.connect(dispatch_uid="clinic.celery.request_id_in")
def _request_id_in(task_id=None, task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    headers = getattr(request, "headers", None) or {}
    request_id = getattr(request, "request_id", None) or headers.get("request_id")
    if request_id and task_id:
        _tokens[task_id] = REQUEST_ID.set(str(request_id))


@task_postrun.connect(dispatch_uid="clinic.celery.request_id_done")
def _request_id_done(task_id=None, **kwargs) -> None:
    if (token := _tokens.pop(task_id, None)) is not None:
        REQUEST_ID.reset(token)


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
