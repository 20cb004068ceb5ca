"""The message log in the API: GET /api/v1/reminders/?appointment=&patient=
and POST /api/v1/reminders/{id}/resend/. Wired into the router by
appointments/api.py through `register(router)`."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from appointments.access import ResendPermission, StaffPermission
from appointments.models import Reminder
from appointments.reminders import reminder_resend
from appointments.reminders.selectors import reminders_for_log


class ReminderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reminder
        fields = [
            "id",
            "appointment",
            "patient",
            "kind",
            "slot_start",
            "offset_minutes",
            "due_at",
            "status",
            "sent_at",
            "attempts",
            "error",
            "skip_reason",
            "message_id",
            "resend_count",
        ]
        read_only_fields = fields


class ReminderFilter(filters.FilterSet):
    class Meta:
        model = Reminder
        fields = ["appointment", "patient", "kind", "status"]


class ReminderViewSet(viewsets.ReadOnlyModelViewSet):
    """Patient emails (R13): what was planned, sent, skipped or failed."""

    serializer_class = ReminderSerializer
    filterset_class = ReminderFilter

    def get_queryset(self):
        return reminders_for_log()

    def get_permissions(self):
        return [ResendPermission() if self.action == "resend" else StaffPermission()]

    @extend_schema(request=None, responses=ReminderSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None) -> Response:
        reminder = reminder_resend(reminder=self.get_object(), user=request.user)
        return Response(ReminderSerializer(reminder).data)


def register(router: DefaultRouter) -> list:
    """Add the message log to the /api/v1/ router; no extra URL patterns."""
    router.register("reminders", ReminderViewSet, basename="reminder")
    return []
