"""`/api/v1/waitlist/`: entries (one per active plan) and, per entry, the
free slots its plan could be booked into (`matches/`). The rules live in
appointments.services.waitlist."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from appointments import services
from appointments.access import StaffPermission
from appointments.models import WaitlistEntry
from appointments.services.waitlist import WEEKDAYS
from treatments.models import TreatmentPlan


class WeekdayNamesField(serializers.ListField):
    """Stored 0 = Monday … 6 = Sunday; read and written as names."""

    child = serializers.ChoiceField(choices=WEEKDAYS)

    def to_representation(self, data):
        return [WEEKDAYS[i] for i in data or []]

    def to_internal_value(self, data):
        return [WEEKDAYS.index(name) for name in super().to_internal_value(data)]


class WaitlistEntrySerializer(serializers.ModelSerializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=TreatmentPlan.objects.select_related("patient"))
    preferred_days = WeekdayNamesField(source="preferred_weekdays", required=False, default=list)
    earliest = serializers.TimeField(
        source="preferred_time_from", required=False, allow_null=True, format="%H:%M", help_text="HH:MM"
    )
    latest = serializers.TimeField(
        source="preferred_time_to", required=False, allow_null=True, format="%H:%M", help_text="HH:MM"
    )

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "patient",
            "plan",
            "preferred_days",
            "earliest",
            "latest",
            "earliest_date",
            "latest_date",
            "notes",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["patient", "is_active", "created_at"]


class WaitlistMatchSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    therapist = serializers.IntegerField(source="therapist.id")
    room = serializers.IntegerField(source="room.id")


class WaitlistFilter(filters.FilterSet):
    class Meta:
        model = WaitlistEntry
        fields = ["patient", "plan", "is_active"]


class WaitlistViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Staff list, add and remove waitlist entries; DELETE takes an entry
    off the list (it is kept, inactive)."""

    serializer_class = WaitlistEntrySerializer
    permission_classes = [StaffPermission]
    filterset_class = WaitlistFilter

    def get_queryset(self):
        queryset = WaitlistEntry.objects.select_related("patient", "plan").order_by("created_at", "id")
        if self.action == "list" and "is_active" not in self.request.query_params:
            queryset = queryset.filter(is_active=True)
        return queryset

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.waitlist_add(
            plan=data.pop("plan"),
            preferred_weekdays=data.pop("preferred_weekdays", []),
            **data,
        )

    def perform_destroy(self, instance):
        services.waitlist_remove(entry=instance)

    @extend_schema(
        summary="Free slots this entry's plan could be booked into (every booking rule, the "
        "entry's days and window, no other visit that day)",
        responses=inline_serializer("WaitlistMatches", {"results": WaitlistMatchSerializer(many=True)}),
    )
    @action(detail=True, methods=["get"])
    def matches(self, request: Request, pk: str | None = None) -> Response:
        entry = self.get_object()
        if not entry.is_active:
            return Response({"results": []}, status=status.HTTP_200_OK)
        slots = services.waitlist_entry_matches(entry)
        return Response({"results": WaitlistMatchSerializer(slots, many=True).data})


def register(router: DefaultRouter) -> None:
    router.register("waitlist", WaitlistViewSet, basename="waitlist")
