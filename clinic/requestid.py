"""Request ids: one per HTTP request, in every log line it causes, in the
response (X-Request-ID) and in the Celery tasks it publishes (a message
header, set again in the worker while the task runs), so one id follows a
booking from the front desk's click to the reminder worker's log line.

An id the reverse proxy sends (X-Request-ID) is kept when it is short and
plain; anything else is replaced, never logged as given."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
HEADER = "X-Request-ID"
PLAIN = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_id() -> str:
    return uuid.uuid4().hex


def accepted(given: str | None) -> str:
    return given if given and PLAIN.match(given) else new_id()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accepted(request.headers.get(HEADER))
        token = REQUEST_ID.set(request_id)
        request.request_id = request_id
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (and the Celery task id, when in a task) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        if not hasattr(record, "task_id"):
            record.task_id = _task_id()
        return True


def _task_id() -> str:
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - Celery is a dependency
        return "-"
    task = current_task
    return getattr(getattr(task, "request", None), "id", None) or "-" if task else "-"
