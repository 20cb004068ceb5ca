"""The audit trail for health records (django-auditlog).

Who changed what and when, with old and new values, for the models listed in
settings.AUDITLOG_INCLUDE_TRACKING_MODELS; and who *read* a session note or a
screening (`log_access`). Entries are browsed, never edited, in the admin
(clinic.admin). One place for the plumbing; apps call `log_access`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar

from auditlog.cid import get_cid
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import HttpRequest

_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def _user_of(request: HttpRequest | None):
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


class AuditMiddleware(AuditlogMiddleware):
    """auditlog's middleware reads `request.user` before the view runs, when
    a token-authenticated API call still looks anonymous (DRF authenticates
    in the view, then sets the user on the Django request). Here the actor is
    read when each entry is saved, so API writes name their user too."""

    @staticmethod
    def _get_actor(request):
        return None  # resolved lazily by _set_actor_from_request

    def __call__(self, request):
        token = _request.set(request)
        try:
            return super().__call__(request)
        finally:
            _request.reset(token)


@receiver(pre_save, sender=LogEntry, dispatch_uid="clinic.audit.actor")
def _set_actor_from_request(sender, instance: LogEntry, **kwargs) -> None:
    if instance.actor_id is None:
        user = _user_of(_request.get())
        if user is not None:
            instance.actor = user
            instance.actor_email = user.email or None


def log_access(request: HttpRequest, instances: Iterable[models.Model]) -> None:
    """Record that the request's user read these records (one ACCESS entry
    each, in one query). For session notes and screenings: health records
    whose every read must be traceable."""
    user = _user_of(request)
    remote_addr = AuditMiddleware._get_remote_addr(request)
    cid = get_cid()
    entries = []
    for instance in instances:
        if instance is None or instance.pk is None:
            continue
        entries.append(
            LogEntry(
                content_type=ContentType.objects.get_for_model(instance),
                object_pk=str(instance.pk),
                object_id=instance.pk if isinstance(instance.pk, int) else None,
                object_repr=str(instance)[:255],
                action=LogEntry.Action.ACCESS,
                changes={},
                actor=user,
                actor_email=(user.email or None) if user else None,
                remote_addr=remote_addr,
                cid=cid,
            )
        )
    if entries:
        LogEntry.objects.bulk_create(entries)
