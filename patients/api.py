"""`/api/v1/patients/` and `/api/v1/patients/{id}/screening/`: serializers
validate shape, the services in patients.services own every rule."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action

# DRF's: a malformed id (the router accepts any text) is a 404, not a 500.
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from clinic.access import is_therapist
from clinic.audit import log_access
from clinic.models import ClinicRules
from patients import screening as safety
from patients.access import AdminPermission, ClinicalPermission, StaffPermission
from patients.models import Patient, Payer, Screening
from patients.selectors import attach_screening_status, patients_search, with_current_screening_id
from patients.services import (
    DEMOGRAPHIC_FIELDS,
    PHONE_REGION,
    DuplicateWarning,
    patient_create,
    patient_merge,
    patient_update,
    screening_record,
)


class PatientSerializer(serializers.ModelSerializer):
    phone = PhoneNumberField(region=PHONE_REGION, required=False, allow_blank=True)
    emergency_contact_phone = PhoneNumberField(region=PHONE_REGION, required=False, allow_blank=True)
    screening_status = serializers.SerializerMethodField(
        help_text="current, due or blocked (never the answers)"
    )
    confirm_duplicate = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Create or save even though a likely duplicate exists (similar name and same date "
        "of birth, or the same phone or email); without it such a request answers 400 with "
        "`duplicates`.",
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            *DEMOGRAPHIC_FIELDS,
            "is_active",
            "merged_into",
            "screening_status",
            "confirm_duplicate",
        ]
        read_only_fields = ["mrn", "is_active", "merged_into"]

    @extend_schema_field(serializers.ChoiceField(choices=[safety.CURRENT, safety.DUE, safety.BLOCKED]))
    def get_screening_status(self, patient: Patient) -> str:
        # Lists set it for the whole page in one query (attach_screening_status).
        status = getattr(patient, "screening_status", None)
        if status is None:
            status = safety.screening_status(safety.current_screening(patient), ClinicRules.current())
        return status


class ScreeningSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = Screening
        fields = [
            "id",
            *safety.ANSWER_FIELDS,
            "drug_allergy_details",
            "notes",
            "screened_at",
            "screened_by",
            "status",
        ]
        read_only_fields = ["id", "screened_at", "screened_by"]
        # A review asks every question again: each answer must be given.
        extra_kwargs = {name: {"required": True} for name in safety.ANSWER_FIELDS}

    # A pattern, not an enum: an enum would be named "Status" like the plan's.
    @extend_schema_field({"type": "string", "pattern": "^(current|due|blocked)$", "readOnly": True})
    def get_status(self, screening: Screening) -> str:
        return safety.screening_status(screening, ClinicRules.current())


# --------------------------------------------------------------------- payers
class PayerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payer
        fields = ["id", "name", "daily_97033_unit_cap", "is_active"]


class PayerViewSet(viewsets.ModelViewSet):
    """Every staff member reads the payers (the front desk records a
    patient's insurer); clinic admins add and edit them. Nothing is deleted:
    authorizations point at their payer."""

    serializer_class = PayerSerializer
    queryset = Payer.objects.order_by("name", "id")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_permissions(self):
        if self.request.method in permissions.SAFE_METHODS:
            return [StaffPermission()]
        return [AdminPermission()]


class MergeSerializer(serializers.Serializer):
    into = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.all(), help_text="The record that is kept and receives the history."
    )


def _duplicate_body(exc: DuplicateWarning) -> dict:
    return {
        "confirm_duplicate": exc.messages,
        "duplicates": [
            {
                "id": d.patient.pk,
                "mrn": d.patient.mrn,
                "name": f"{d.patient.last_name}, {d.patient.first_name}",
                "date_of_birth": d.patient.date_of_birth.isoformat(),
                "reasons": list(d.reasons),
            }
            for d in exc.duplicates
        ],
    }


class PatientFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", label="Name, MRN, date of birth (YYYY-MM-DD) or phone"
    )

    is_active = django_filters.BooleanFilter(
        method="filter_active", label="Active records only (default); false lists merged records"
    )

    class Meta:
        model = Patient
        fields = ["date_of_birth"]

    def filter_search(self, queryset, name, value):
        return patients_search(query=value, queryset=queryset, include_inactive=True)

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=value)


class PatientViewSet(viewsets.ModelViewSet):
    serializer_class = PatientSerializer
    permission_classes = [StaffPermission]
    filterset_class = PatientFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return with_current_screening_id(Patient.objects.order_by("last_name", "first_name", "id"))

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return attach_screening_status(page) if page is not None else None

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and "is_active" not in self.request.query_params:
            queryset = queryset.filter(is_active=True)  # merged records only when asked for
        return queryset

    # A likely duplicate answers 400 naming the candidates (ids as numbers,
    # which a raised DRF ValidationError would turn into text).
    def create(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().create(request, *args, **kwargs)
        except DuplicateWarning as exc:
            return Response(_duplicate_body(exc), status=status.HTTP_400_BAD_REQUEST)

    def update(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().update(request, *args, **kwargs)
        except DuplicateWarning as exc:
            return Response(_duplicate_body(exc), status=status.HTTP_400_BAD_REQUEST)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_duplicate", False)
        serializer.instance = patient_create(**data, confirm_duplicate=confirm)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_duplicate", False)
        serializer.instance = patient_update(
            patient=serializer.instance, data=data, confirm_duplicate=confirm
        )

    @extend_schema(
        summary="Merge this record into another (clinic admins): its history moves to `into`; "
        "this record stays, inactive",
        request=MergeSerializer,
        responses={200: PatientSerializer, 400: OpenApiResponse(OpenApiTypes.OBJECT, "Field errors")},
    )
    @action(detail=True, methods=["post"], permission_classes=[AdminPermission])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        patient = get_object_or_404(Patient, pk=pk)
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kept = patient_merge(patient=patient, into=serializer.validated_data["into"], user=request.user)
        return Response(PatientSerializer(kept).data)

    @extend_schema(
        methods=["GET"],
        summary="The patient's current screening (therapists and clinic admins)",
        responses={200: ScreeningSerializer, 404: OpenApiResponse(OpenApiTypes.OBJECT, "No screening yet")},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Record a review: a new screening dated now (the history is kept)",
        request=ScreeningSerializer,
        responses={201: ScreeningSerializer},
    )
    @action(detail=True, methods=["get", "put"], permission_classes=[ClinicalPermission])
    def screening(self, request: Request, pk: str | None = None) -> Response:
        patient = get_object_or_404(Patient, pk=pk)
        if request.method == "GET":
            current = safety.current_screening(patient)
            if current is None:
                return Response({"detail": "No screening recorded yet."}, status=status.HTTP_404_NOT_FOUND)
            log_access(request, [current])
            return Response(ScreeningSerializer(current).data)
        if not is_therapist(request.user):
            raise exceptions.PermissionDenied("Only a therapist may review a screening (R20).")
        serializer = ScreeningSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recorded = screening_record(
            patient=patient, screened_by=request.user, answers=serializer.validated_data
        )
        return Response(ScreeningSerializer(recorded).data, status=status.HTTP_201_CREATED)


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("patients", PatientViewSet, basename="patient")
    router.register("payers", PayerViewSet, basename="payer")
