"""`appointments/{id}/note/` (GET, PUT), `note/sign/` and `note/addenda/`:
therapists only. The rules are in notes.services."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments.models import Appointment
from clinic.access import TherapistPermission
from clinic.audit import log_access
from clinic.auth import reauthenticate
from clinic.exceptions import Locked
from notes import services
from notes.access import NotePermission
from notes.models import Addendum, AdverseEvent, SessionNote


class AddendumSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Addendum
        fields = ["id", "text", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class AdverseEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdverseEvent
        fields = ["kind", "description", "action_taken"]
        extra_kwargs = {"kind": {"required": False}}


class NoteSerializer(serializers.ModelSerializer):
    confirm_out_of_range = serializers.BooleanField(write_only=True, required=False, default=False)
    # Where the drug came from (supplies): a lot on hand, or the patient's own vial.
    medication_stock_lot = serializers.IntegerField(
        write_only=True, required=False, allow_null=True, help_text="id of a lot on hand (supplies)"
    )
    medication_patient_supplied = serializers.BooleanField(
        write_only=True, required=False, help_text="the patient brought the vial: no stock is drawn"
    )
    addenda = AddendumSerializer(many=True, read_only=True)
    adverse_event = AdverseEventSerializer(write_only=True, required=False)
    adverse_events = AdverseEventSerializer(many=True, read_only=True)
    signed_by = serializers.CharField(
        source="signed_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = SessionNote
        fields = [
            *services.ALL_FIELDS,
            "dose_ma_min",
            "confirm_out_of_range",
            "medication_stock_lot",
            "medication_patient_supplied",
            "cpt_code",
            "billing_units",
            "status",
            "signed_by",
            "signed_at",
            "addenda",
            "adverse_event",
            "adverse_events",
        ]
        read_only_fields = ["dose_ma_min", "cpt_code", "billing_units", "status", "signed_at"]


class SignSerializer(serializers.Serializer):
    password = serializers.CharField(style={"input_type": "password"})
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class AddendumInSerializer(serializers.Serializer):
    text = serializers.CharField()


def _appointment(pk: int) -> Appointment:
    # An evaluation (no plan) has no session note: 404.
    return get_object_or_404(
        Appointment.objects.select_related("plan__medication"), pk=pk, plan__isnull=False
    )


def _note_out(appointment: Appointment) -> dict:
    note = (
        SessionNote.objects.select_related("signed_by")
        .prefetch_related("addenda__author", "adverse_events")
        .get(appointment=appointment)
    )
    return NoteSerializer(note).data


class NoteView(APIView):
    permission_classes = [NotePermission]

    @extend_schema(responses=NoteSerializer)
    def get(self, request, pk: int):
        appointment = _appointment(pk)
        note = SessionNote.objects.filter(appointment=appointment).first()
        if note is None:
            return Response(
                {"detail": "No note yet.", **services.initial_values(appointment.plan)}, status=404
            )
        log_access(request, [note])
        return Response(_note_out(appointment))

    @extend_schema(request=NoteSerializer, responses=NoteSerializer)
    def put(self, request, pk: int):
        appointment = _appointment(pk)
        existing = SessionNote.objects.filter(appointment=appointment).first()
        if existing is not None and existing.is_signed:
            raise Locked("This note is signed and locked. Add an addendum to correct or complete it.")
        body = NoteSerializer(data=request.data, partial=existing is not None)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        confirm = data.pop("confirm_out_of_range", False)
        adverse = data.pop("adverse_event", None)
        if existing is not None:
            values = {name: getattr(existing, name) for name in services.ALL_FIELDS}
            values.update(data)
        else:
            values = data
        services.note_save(
            appointment=appointment,
            values=values,
            user=request.user,
            confirm_out_of_range=confirm,
            adverse=adverse,
        )
        return Response(
            _note_out(appointment), status=status.HTTP_200_OK if existing else status.HTTP_201_CREATED
        )


class NoteSignView(APIView):
    permission_classes = [TherapistPermission]  # R20

    @extend_schema(request=SignSerializer, responses=NoteSerializer)
    def post(self, request, pk: int):
        appointment = _appointment(pk)
        body = SignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Counts a wrong password toward the account lockout, like a failed login.
        reauthenticate(request=request._request, user=request.user, password=body.validated_data["password"])
        services.note_sign(appointment=appointment, user=request.user, **body.validated_data)
        return Response(_note_out(appointment))


class AddendaView(APIView):
    permission_classes = [TherapistPermission]  # R20

    @extend_schema(request=AddendumInSerializer, responses={201: AddendumSerializer})
    def post(self, request, pk: int):
        appointment = _appointment(pk)
        body = AddendumInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        addendum = services.addendum_add(
            appointment=appointment, user=request.user, text=body.validated_data["text"]
        )
        return Response(AddendumSerializer(addendum).data, status=status.HTTP_201_CREATED)


def urls() -> list:
    return [
        path("appointments/<int:pk>/note/", NoteView.as_view(), name="appointment-note"),
        path("appointments/<int:pk>/note/sign/", NoteSignView.as_view(), name="appointment-note-sign"),
        path("appointments/<int:pk>/note/addenda/", AddendaView.as_view(), name="appointment-note-addenda"),
    ]
