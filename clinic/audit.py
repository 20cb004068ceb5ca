"""The audit trail for health records (django-auditlog).

Who changed what and when, with old and new values, for the models listed in
settings.AUDITLOG_INCLUDE_TRACKING_MODELS; and who *read* a session note or a
screening (`log_access`). Entries are browsed, never edited, in the admin
(clinic.admin). One place for the plumbing; apps call `log_access`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from urllib.parse import unquote

from auditlog.cid import get_cid
from auditlog.middleware import AuditlogMiddleware
from auditlog.mixins import AuditlogHistoryAdminMixin
from auditlog.models import LogEntry
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.text import capfirst

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


# -- admin ----------------------------------------------------------------------
class AuditHistoryAdminMixin(AuditlogHistoryAdminMixin):
    """ModelAdmin mixin: an "Audit log" page per record (who changed what,
    old → new, and who read it), linked from the change list. A record's
    history can take in its dependants (`audit_related`), e.g. a visit's
    note and addenda."""

    show_auditlog_history_link = True
    auditlog_history_per_page = 50

    def audit_related(self, obj) -> Iterable[models.Model]:
        return ()

    def auditlog_history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise PermissionDenied
        records = [obj, *[r for r in self.audit_related(obj) if r is not None]]
        condition = Q(pk__in=[])
        for record in records:
            content_type = ContentType.objects.get_for_model(record)
            condition |= Q(content_type=content_type, object_pk=str(record.pk))
        entries = (
            LogEntry.objects.filter(condition).select_related("actor", "content_type").order_by("-timestamp")
        )
        page = self.get_paginator(request, entries, self.auditlog_history_per_page).get_page(
            request.GET.get(PAGE_VAR, 1)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Audit log: {obj}",
            "module_name": str(capfirst(self.model._meta.verbose_name_plural)),
            "page_range": page.paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "pagination_required": page.paginator.count > self.auditlog_history_per_page,
            "object": obj,
            "opts": self.model._meta,
            "log_entries": page,
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.auditlog_history_template, context)


class AccessLoggedAdminMixin:
    """ModelAdmin mixin for health records: opening one, or a list page of
    them, is logged as a read (log_access)."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if original is not None and request.method == "GET":
            log_access(request, [original])
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            log_access(request, list(changelist.result_list))
        return response
