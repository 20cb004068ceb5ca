"""Scheduling API: resources, appointments with their actions, series
booking and the slot finder. Serializers validate shape; every rule lives in
appointments.services."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.urls import path
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from appointments import selectors, services
from appointments.access import AdminPermission, BookingPermission, StaffPermission
from appointments.feeds import therapist_feed
from appointments.models import Appointment, Device, Room, Therapist
from appointments.reminders_api import register as register_reminders
from appointments.waitlist_api import register as register_waitlist
from clinic.localtime import local_day_bounds
from clinic.roles import HasRole
from treatments.models import TreatmentPlan


class ReadForStaffWriteForAdmin(HasRole):
    def has_permission(self, request, view) -> bool:
        allowed = StaffPermission if request.method in ("GET", "HEAD", "OPTIONS") else AdminPermission
        return allowed().has_permission(request, view)


# -- resources ---------------------------------------------------------------
class TherapistSerializer(serializers.ModelSerializer):
    class Meta:
        model = Therapist
        fields = ["id", "user", "display_name", "modalities", "is_active"]


class RoomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "name", "modalities", "is_active"]


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ["id", "name", "kind", "serial_number", "home_room", "in_service", "calibration_due"]


class TherapistViewSet(viewsets.ModelViewSet):
    queryset = Therapist.objects.order_by("display_name")
    serializer_class = TherapistSerializer
    permission_classes = [ReadForStaffWriteForAdmin]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class RoomViewSet(TherapistViewSet):
    queryset = Room.objects.order_by("name")
    serializer_class = RoomSerializer


class DeviceViewSet(TherapistViewSet):
    queryset = Device.objects.order_by("kind", "name")
    serializer_class = DeviceSerializer


# -- appointments --------------------------------------------------------------
class AppointmentSerializer(serializers.ModelSerializer):
    session_number = serializers.IntegerField(read_only=True, allow_null=True)
    patient = serializers.PrimaryKeyRelatedField(read_only=True)
    end = serializers.DateTimeField(read_only=True)
    status = serializers.CharField(read_only=True)
    late_cancellation = serializers.BooleanField(read_only=True)
    sessions_total = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "plan",
            "therapist",
            "room",
            "device",
            "start",
            "end",
            "status",
            "session_number",
            "sessions_total",
            "cancel_reason",
            "late_cancellation",
        ]
        read_only_fields = ["cancel_reason"]
        extra_kwargs = {
            "therapist": {"required": False, "allow_null": True},
            "room": {"required": False, "allow_null": True},
            "device": {"required": False, "allow_null": True},
        }

    def get_sessions_total(self, obj) -> int:
        return obj.plan.session_limit


class AppointmentFilter(filters.FilterSet):
    date_from = filters.DateFilter(method="filter_date_from", help_text="YYYY-MM-DD, clinic time, inclusive")
    date_to = filters.DateFilter(method="filter_date_to", help_text="YYYY-MM-DD, clinic time, inclusive")
    status = filters.ChoiceFilter(choices=Appointment.Status.choices)

    class Meta:
        model = Appointment
        fields = ["date_from", "date_to", "therapist", "room", "patient", "plan", "status"]

    def filter_date_from(self, queryset, name, value: dt.date):
        return queryset.filter(start__gte=local_day_bounds(value)[0])

    def filter_date_to(self, queryset, name, value: dt.date):
        return queryset.filter(start__lt=local_day_bounds(value)[1])


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class RescheduleSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    therapist = serializers.PrimaryKeyRelatedField(queryset=Therapist.objects.all(), required=False)
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all(), required=False)


class AppointmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Appointments. Create books one session (R1–R5; 409 with `conflicts`
    when a resource is taken); changes go through the actions."""

    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter

    def get_queryset(self):
        return selectors.appointment_list().order_by("start", "id")

    def get_permissions(self):
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [StaffPermission()]
        return [BookingPermission()]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        appointment = services.appointment_book(
            plan=data["plan"],
            start=data["start"],
            therapist=data.get("therapist"),
            room=data.get("room"),
            device=data.get("device"),
            user=request.user,
        )
        return Response(self._out(appointment), status=status.HTTP_201_CREATED)

    def _out(self, appointment: Appointment) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=appointment.pk)).data

    @extend_schema(request=CancelSerializer, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        appointment = services.appointment_cancel(
            appointment=self.get_object(), reason=body.validated_data["reason"], user=request.user
        )
        return Response(self._out(appointment))

    @extend_schema(request=RescheduleSerializer, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        body = RescheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        appointment = services.appointment_reschedule(
            appointment=self.get_object(), user=request.user, **body.validated_data
        )
        return Response(self._out(appointment))

    @extend_schema(request=None, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        return Response(
            self._out(services.appointment_check_in(appointment=self.get_object(), user=request.user))
        )

    @extend_schema(request=None, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        return Response(
            self._out(services.appointment_no_show(appointment=self.get_object(), user=request.user))
        )


# -- series and slots ------------------------------------------------------------
class BookSeriesSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="First session; later ones keep its local time of day.")
    therapist = serializers.PrimaryKeyRelatedField(queryset=Therapist.objects.all(), required=False)
    allow_partial = serializers.BooleanField(
        default=False, help_text="Book what fits instead of all-or-nothing."
    )
    preview = serializers.BooleanField(default=False, help_text="Only show where the sessions would go.")


class SeriesOccurrenceSerializer(serializers.Serializer):
    session_number = serializers.IntegerField(source="number")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    therapist = serializers.IntegerField(source="therapist.id", allow_null=True, default=None)
    room = serializers.IntegerField(source="room.id", allow_null=True, default=None)
    device = serializers.IntegerField(source="device.id", allow_null=True, default=None)
    ok = serializers.BooleanField()
    reason = serializers.CharField()
    codes = serializers.ListField(
        child=serializers.CharField(), help_text="The rule codes behind the reason (e.g. R5.week)."
    )


class BookSeriesView(APIView):
    """POST plans/{id}/book-series/ — book every remaining session of a plan
    (201 with the appointments, or 409 naming each occurrence that cannot be
    placed). With "preview": true, 200 with where they would go."""

    permission_classes = [BookingPermission]

    @extend_schema(
        request=BookSeriesSerializer,
        responses={201: AppointmentSerializer(many=True), 200: SeriesOccurrenceSerializer(many=True)},
        operation_id="plans_book_series",
    )
    def post(self, request, pk: int):
        plan = get_object_or_404(TreatmentPlan, pk=pk)
        body = BookSeriesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["preview"]:
            preview = services.series_preview(plan=plan, start=data["start"], therapist=data.get("therapist"))
            return Response(SeriesOccurrenceSerializer(preview.occurrences, many=True).data)
        booked = services.series_book(
            plan=plan,
            start=data["start"],
            therapist=data.get("therapist"),
            allow_partial=data["allow_partial"],
            user=request.user,
        )
        rows = selectors.appointment_list().filter(pk__in=[a.pk for a in booked]).order_by("start")
        return Response(AppointmentSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    therapist = serializers.IntegerField(source="therapist.id")
    room = serializers.IntegerField(source="room.id")
    device = serializers.IntegerField(source="device.id")


class SlotQuerySerializer(serializers.Serializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=TreatmentPlan.objects.select_related("patient"))
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    therapist = serializers.IntegerField(required=False)

    def validate(self, attrs):
        if attrs["date_to"] < attrs["date_from"]:
            raise ValidationError({"date_to": "date_to must be on or after date_from."})
        if (attrs["date_to"] - attrs["date_from"]).days > 62:
            raise ValidationError({"date_to": "Search at most two months at a time."})
        return attrs


class SlotView(APIView):
    """GET slots/?plan=&date_from=&date_to= — free slots for one session."""

    permission_classes = [StaffPermission]

    @extend_schema(
        parameters=[
            OpenApiParameter("plan", int, required=True),
            OpenApiParameter("date_from", dt.date, required=True),
            OpenApiParameter("date_to", dt.date, required=True),
            OpenApiParameter("therapist", int, required=False),
        ],
        responses=inline_serializer("SlotList", {"results": SlotSerializer(many=True)}),
    )
    def get(self, request):
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        slots = selectors.slots_free(
            plan=data["plan"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            therapist=data.get("therapist"),
        )
        return Response({"results": SlotSerializer(slots, many=True).data})


def register(router: DefaultRouter) -> list:
    router.register("therapists", TherapistViewSet, basename="therapist")
    router.register("rooms", RoomViewSet, basename="room")
    router.register("devices", DeviceViewSet, basename="device")
    router.register("appointments", AppointmentViewSet, basename="appointment")
    register_reminders(router)
    register_waitlist(router)
    return [
        path("plans/<int:pk>/book-series/", BookSeriesView.as_view(), name="plan-book-series"),
        path("slots/", SlotView.as_view(), name="slots"),
        path("calendar.ics", therapist_feed, name="calendar-feed"),
    ]
