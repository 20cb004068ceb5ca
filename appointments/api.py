"""Scheduling API: resources, appointments with their actions, series
booking and the slot finder. Serializers validate shape; every rule lives in
appointments.services."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from appointments import selectors, services
from appointments.access import AdminPermission, BookingPermission, CalendarFeedPermission, StaffPermission
from appointments.feeds import therapist_feed
from appointments.models import Appointment, Device, Room, Therapist
from appointments.reminders_api import register as register_reminders
from appointments.waitlist_api import register as register_waitlist
from clinic.localtime import local_day_bounds, validate_date_range
from clinic.roles import HasRole
from patients.models import Patient
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
class _ReadByService(serializers.PrimaryKeyRelatedField):
    """A plan or therapist by id. When booking (context `ids_read_by_service`),
    only the id is checked here: the booking service reads the row once
    (the plan under its row lock, the therapist with the schedule) and
    answers a missing one with this field's own message."""

    def to_internal_value(self, data):
        if not self.context.get("ids_read_by_service"):
            return super().to_internal_value(data)
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < pk < 2**63:  # no row has it (and SQLite could not even bind it)
            self.fail("does_not_exist", pk_value=data)
        return pk


def _iso(value: dt.datetime | None, tz: dt.tzinfo | None = None) -> str | None:
    """serializers.DateTimeField's output (ISO 8601 in the current zone, "Z" for UTC);
    a long list passes the zone, looked up once."""
    if not value:
        return None
    text = value.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def slot_json(slots: list, tz: dt.tzinfo) -> list[dict]:
    """SlotSerializer's output, written field for field: a search lists up to
    500 slots, and the serializer's per-field machinery cost more than
    the walk that found them (tests compare the two key for key)."""
    return [
        {
            "start": _iso(slot.start, tz),
            "end": _iso(slot.end, tz),
            "therapist": slot.therapist.id,
            "room": slot.room.id,
            "device": slot.device.id if slot.device is not None else None,
        }
        for slot in slots
    ]


class AppointmentSerializer(serializers.ModelSerializer):
    session_number = serializers.IntegerField(read_only=True, allow_null=True)
    plan = _ReadByService(queryset=TreatmentPlan.objects.all(), required=False, allow_null=True)
    therapist = _ReadByService(queryset=Therapist.objects.all(), required=False, allow_null=True)
    kind = serializers.ChoiceField(
        choices=Appointment.Kind.choices,
        default=Appointment.Kind.SESSION,
        help_text="session (of a plan) or evaluation (patient, no plan; R1–R3 apply, R4/R5 do not).",
    )
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.all(),
        required=False,
        help_text="Required for an evaluation; for a session it is the plan's patient.",
    )
    end = serializers.DateTimeField(read_only=True)
    status = serializers.CharField(read_only=True)
    late_cancellation = serializers.BooleanField(read_only=True)
    sessions_total = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "kind",
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
            "plan": {"required": False, "allow_null": True},
            "start": {"validators": [validate_date_range]},
            "therapist": {"required": False, "allow_null": True},
            "room": {"required": False, "allow_null": True},
            "device": {"required": False, "allow_null": True},
        }

    def get_sessions_total(self, obj) -> int | None:
        if hasattr(obj, "plan_session_limit"):  # selectors.appointment_rows read it with the row
            return obj.plan_session_limit
        return obj.plan.session_limit if obj.plan_id else None

    def to_representation(self, instance):
        """A row of selectors.appointment_rows (the list: a therapist's week
        is dozens of rows) is read straight off the instance: the dict DRF's
        fields build, key for key and value for value (test_api compares
        them), without building and walking 14 field objects per row.
        Anything else goes through the fields."""
        if not hasattr(instance, "plan_session_limit"):
            return super().to_representation(instance)
        return {
            "id": instance.pk,
            "kind": instance.kind,
            "patient": instance.patient_id,
            "plan": instance.plan_id,
            "therapist": instance.therapist_id,
            "room": instance.room_id,
            "device": instance.device_id,
            "start": _iso(instance.start),
            "end": _iso(instance.end),
            "status": instance.status,
            "session_number": instance.session_number,
            "sessions_total": instance.plan_session_limit,
            "cancel_reason": instance.cancel_reason,
            "late_cancellation": instance.late_cancellation,
        }

    def validate(self, attrs):
        plan, patient = attrs.get("plan"), attrs.get("patient")
        if attrs.get("kind") == Appointment.Kind.EVALUATION:
            errors = {}
            if plan is not None:
                errors["plan"] = "An evaluation is booked without a plan."
            if patient is None:
                errors["patient"] = "An evaluation needs the patient."
            if attrs.get("device") is not None:
                errors["device"] = "An evaluation uses no device."
        else:
            errors = {}
            if plan is None:
                errors["plan"] = "A session needs its plan (or book an evaluation: kind=evaluation)."
            elif patient is not None:
                plan_patient = (
                    plan.patient_id
                    if isinstance(plan, TreatmentPlan)
                    else TreatmentPlan.objects.filter(pk=plan).values_list("patient_id", flat=True).first()
                )
                if plan_patient is None:
                    raise services.missing_related("plan", plan)
                if patient.pk != plan_patient:
                    errors["patient"] = "This is not the plan's patient."
        if errors:
            raise ValidationError(errors)
        return attrs


class AppointmentFilter(filters.FilterSet):
    date_from = filters.DateFilter(
        method="filter_date_from",
        help_text="YYYY-MM-DD, clinic time, inclusive",
        validators=[validate_date_range],
    )
    date_to = filters.DateFilter(
        method="filter_date_to",
        help_text="YYYY-MM-DD, clinic time, inclusive",
        validators=[validate_date_range],
    )
    status = filters.ChoiceFilter(choices=Appointment.Status.choices)

    class Meta:
        model = Appointment
        fields = ["date_from", "date_to", "therapist", "room", "patient", "plan", "status", "kind"]

    def filter_date_from(self, queryset, name, value: dt.date):
        return queryset.filter(start__gte=local_day_bounds(value)[0])

    def filter_date_to(self, queryset, name, value: dt.date):
        return queryset.filter(start__lt=local_day_bounds(value)[1])


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class RescheduleSerializer(serializers.Serializer):
    start = serializers.DateTimeField(validators=[validate_date_range])
    therapist = serializers.PrimaryKeyRelatedField(queryset=Therapist.objects.all(), required=False)
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all(), required=False)


class AppointmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Appointments. Create books one session (R1–R5; 409 with `conflicts`
    when a resource is taken); changes go through the actions."""

    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter

    def get_queryset(self):
        if self.action == "list":
            return selectors.appointment_rows().order_by("start", "id")
        return selectors.appointment_list().order_by("start", "id")

    def get_permissions(self):
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [StaffPermission()]
        return [BookingPermission()]

    def create(self, request, *args, **kwargs):
        # The plan and the therapist are read once, by the booking service
        # (the plan under its lock), not here too.
        context = {**self.get_serializer_context(), "ids_read_by_service": True}
        serializer = self.get_serializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["kind"] == Appointment.Kind.EVALUATION:
            appointment = services.evaluation_book(
                patient=data["patient"],
                start=data["start"],
                therapist=data.get("therapist"),
                room=data.get("room"),
                user=request.user,
            )
            return Response(self._out(appointment), status=status.HTTP_201_CREATED)
        appointment = services.appointment_book(
            plan=data["plan"],
            start=data["start"],
            therapist=data.get("therapist"),
            room=data.get("room"),
            device=data.get("device"),
            user=request.user,
        )
        # The service numbered the new session ("k of N"); its instance is the response.
        return Response(self.get_serializer(appointment).data, status=status.HTTP_201_CREATED)

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
    start = serializers.DateTimeField(
        help_text="First session; later ones keep its local time of day.", validators=[validate_date_range]
    )
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
    moved = serializers.CharField(help_text="Why the session is not where the requested pattern put it.")
    therapist_note = serializers.CharField(help_text="Why it is with another therapist than the series'.")


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
    device = serializers.IntegerField(source="device.id", allow_null=True, default=None)


class SlotDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField(help_text="Every free slot that day, listed or not.")


class SlotListSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Every free slot in the range (a real total, not a cap).")
    truncated = serializers.BooleanField(help_text="True when results lists only the first `limit`.")
    days = SlotDaySerializer(many=True)
    reason = serializers.CharField(help_text="Why there is no slot (empty when there are).")
    codes = serializers.ListField(child=serializers.CharField())
    results = SlotSerializer(many=True)


class SlotQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Appointment.Kind.choices, default=Appointment.Kind.SESSION)
    plan = serializers.PrimaryKeyRelatedField(
        queryset=TreatmentPlan.objects.select_related("patient"), required=False
    )
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all(), required=False)
    date_from = serializers.DateField(validators=[validate_date_range])
    date_to = serializers.DateField(validators=[validate_date_range])
    therapist = serializers.PrimaryKeyRelatedField(queryset=Therapist.objects.all(), required=False)
    after = serializers.TimeField(required=False, input_formats=["%H:%M"], help_text="HH:MM, clinic time")
    before = serializers.TimeField(required=False, input_formats=["%H:%M"], help_text="HH:MM, clinic time")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=200)

    def validate(self, attrs):
        if attrs["date_to"] < attrs["date_from"]:
            raise ValidationError({"date_to": "date_to must be on or after date_from."})
        if (attrs["date_to"] - attrs["date_from"]).days > 62:
            raise ValidationError({"date_to": "Search at most two months at a time."})
        if attrs.get("after") and attrs.get("before") and attrs["after"] >= attrs["before"]:
            raise ValidationError({"before": "before must be later than after."})
        if attrs["kind"] == Appointment.Kind.EVALUATION:
            if attrs.get("patient") is None:
                raise ValidationError({"patient": "An evaluation slot search needs the patient."})
            attrs["plan"] = None
        elif attrs.get("plan") is None:
            raise ValidationError({"plan": "This field is required (or kind=evaluation with patient)."})
        return attrs


class SlotView(APIView):
    """GET slots/?plan=&date_from=&date_to= — free slots for one session; or
    slots/?kind=evaluation&patient=&date_from=&date_to= for an evaluation.
    Also `therapist=`, `after=HH:MM`, `before=HH:MM`. `count` is the real
    total; `days` counts per day; `reason` says why there is none."""

    permission_classes = [StaffPermission]

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, required=False, enum=["session", "evaluation"]),
            OpenApiParameter("plan", int, required=False, description="Required for a session."),
            OpenApiParameter("patient", int, required=False, description="Required for an evaluation."),
            OpenApiParameter("date_from", dt.date, required=True),
            OpenApiParameter("date_to", dt.date, required=True),
            OpenApiParameter("therapist", int, required=False),
            OpenApiParameter("after", str, required=False, description="HH:MM: slots starting then or later"),
            OpenApiParameter("before", str, required=False, description="HH:MM: slots ending by then"),
            OpenApiParameter("limit", int, required=False, description="How many to list (default 200)"),
        ],
        responses=SlotListSerializer,
    )
    def get(self, request):
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        found = services.slot_search(
            plan=data["plan"],
            patient=data.get("patient"),
            date_from=data["date_from"],
            date_to=data["date_to"],
            therapist=data.get("therapist"),
            after=data.get("after"),
            before=data.get("before"),
            limit=data["limit"],
        )
        return Response(
            {
                "count": found.total,
                "truncated": found.truncated,
                "days": [{"date": day.date.isoformat(), "count": day.count} for day in found.days],
                "reason": found.reason,
                "codes": found.codes,
                "results": slot_json(found.slots, timezone.get_current_timezone()),
            }
        )


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.CharField(read_only=True, help_text="The feed's URL; its token is the credential.")


class MyCalendarFeedView(APIView):
    """GET me/calendar-feed/ — the signed-in therapist's feed URL; POST
    replaces its token (the old URL answers 403 at once)."""

    permission_classes = [CalendarFeedPermission]

    def _therapist(self, request) -> Therapist:
        return get_object_or_404(Therapist, user=request.user)

    @extend_schema(request=None, responses=CalendarFeedSerializer)
    def get(self, request):
        return Response({"url": services.calendar_feed_url(therapist=self._therapist(request))})

    @extend_schema(request=None, responses=CalendarFeedSerializer, summary="Replace the feed's token")
    def post(self, request):
        therapist = services.calendar_feed_rotate(therapist=self._therapist(request))
        return Response({"url": services.calendar_feed_url(therapist=therapist)})


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
        path("me/calendar-feed/", MyCalendarFeedView.as_view(), name="my-calendar-feed"),
    ]
