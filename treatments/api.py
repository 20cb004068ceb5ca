"""`/api/v1/medications/` and `/api/v1/plans/`: serializers validate shape,
the services in treatments.services own every rule (R6, R7, R8, status)."""

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from clinic.access import TherapistPermission
from clinic.api import RoleScopedFieldsMixin, StrictBooleanFilter
from clinic.roles import HasRole
from patients.models import Patient
from treatments import services
from treatments.access import PLAN_FIELDS, CatalogPermission, ClinicalPermission, StaffPermission
from treatments.authorizations import authorization_create, authorization_update
from treatments.models import Authorization, Medication, Modality, TreatmentPlan
from treatments.selectors import authorizations_with_use, plan_counts, plans_with_counts


class ReadStaffWriteRoles:
    """Everyone with a role reads; `write_permission` writes."""

    write_permission: type[HasRole] = ClinicalPermission

    def get_permissions(self):
        if self.request.method in permissions.SAFE_METHODS:
            return [StaffPermission()]
        return [self.write_permission()]


# ---------------------------------------------------------------- medications


# The same choice set as a plan's `modality`: point at that enum so the schema
# names it once (two names for one choice set is a schema warning).
@extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/ModalityEnum"}})
class ModalityListField(serializers.ListField):
    pass


class MedicationSerializer(serializers.ModelSerializer):
    modalities = ModalityListField(
        child=serializers.ChoiceField(choices=Modality.choices),
        allow_empty=False,
        help_text="Modalities this medication may be used with.",
    )

    class Meta:
        model = Medication
        fields = [
            "id",
            "name",
            "concentration",
            "polarity",
            "modalities",
            "is_drug",
            "max_volume_ml",
            "is_active",
            "notes",
        ]
        read_only_fields = ["is_active"]
        validators = []  # uniqueness is the service's (and the database's) job


class MedicationFilter(django_filters.FilterSet):
    modality = django_filters.ChoiceFilter(choices=Modality.choices, method="filter_modality")
    active = StrictBooleanFilter(field_name="is_active")

    class Meta:
        model = Medication
        fields = ["modality", "active"]

    def filter_modality(self, queryset, name, value):
        # The values are distinct words ("iontophoresis", "phonophoresis",
        # "tap_water"); a text match on the JSON works on SQLite and PostgreSQL.
        return queryset.filter(modalities__icontains=value)


class MedicationViewSet(ReadStaffWriteRoles, viewsets.ModelViewSet):
    """Everyone reads the catalog; clinic admins add, edit and deactivate.
    Nothing is deleted: plans point at their medication."""

    serializer_class = MedicationSerializer
    filterset_class = MedicationFilter
    write_permission = CatalogPermission
    queryset = Medication.objects.order_by("name", "concentration", "id")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.medication_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.medication_update(
            medication=serializer.instance, data=serializer.validated_data
        )

    @extend_schema(request=None, responses=MedicationSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        medication = services.medication_deactivate(medication=self.get_object())
        return Response(MedicationSerializer(medication).data)


# ---------------------------------------------------------------------- plans


class PlanCountsSerializer(serializers.Serializer):
    prescribed = serializers.IntegerField()
    authorized = serializers.IntegerField(allow_null=True)
    scheduled = serializers.IntegerField(help_text="Booked sessions still to happen.")
    completed = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="Authorized (else prescribed) − scheduled − completed.")


class PlanSerializer(RoleScopedFieldsMixin, serializers.ModelSerializer):
    """A plan; the front desk reads its logistics only (treatments.access.PLAN_FIELDS)."""

    field_policy = PLAN_FIELDS
    counts = serializers.SerializerMethodField()
    min_interval_hours = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text="Empty: the modality's default (48/24/24 h)."
    )
    session_minutes = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=5,
        help_text="Empty: the modality's default (30/20/40 min).",
    )
    frequency_mhz = serializers.IntegerField(required=False, allow_null=True, help_text="1 or 3 MHz.")
    duty_cycle_pct = serializers.IntegerField(
        required=False, allow_null=True, help_text="10, 20, 50 or 100 %."
    )
    confirm_out_of_range = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Accept values outside the typical range (R7); device limits always apply.",
    )

    class Meta:
        model = TreatmentPlan
        fields = [
            "id",
            "patient",
            *services.PLAN_FIELDS,  # modality … session_minutes, then the target parameters
            "status",
            "phase",
            "counts",
            "override_reason",
            "override_by",
            "override_at",
            "status_changed_at",
            "status_reason",
            "created_at",
            "confirm_out_of_range",
        ]
        read_only_fields = [
            "status",
            "phase",
            "override_reason",
            "override_by",
            "override_at",
            "status_changed_at",
            "status_reason",
            "created_at",
        ]

    @extend_schema_field(PlanCountsSerializer)
    def get_counts(self, plan: TreatmentPlan) -> dict:
        return plan_counts(plan)


class PlanOverrideSerializer(serializers.Serializer):
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Needed only when the screening does not allow the plan (R6); therapists only.",
    )


class PlanReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class PlanMaintenanceSerializer(serializers.Serializer):
    interval_days = serializers.IntegerField(
        min_value=1, help_text="Days between maintenance sessions (typically 7–28)."
    )


class PlanFilter(django_filters.FilterSet):
    class Meta:
        model = TreatmentPlan
        fields = ["patient", "status", "modality"]


class PlanViewSet(ReadStaffWriteRoles, viewsets.ModelViewSet):
    """Everyone reads plans and their counters (R14); therapists and clinic
    admins create, change and move them through their statuses."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    write_permission = ClinicalPermission
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database reads
            return TreatmentPlan.objects.none()
        return plans_with_counts(TreatmentPlan.objects.order_by("-created_at", "-id"))

    def _fresh(self, plan: TreatmentPlan) -> TreatmentPlan:
        return self.get_queryset().get(pk=plan.pk)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_out_of_range", False)
        patient: Patient = data.pop("patient")
        plan = services.plan_create(
            patient=patient, user=self.request.user, data=data, confirm_out_of_range=confirm
        )
        serializer.instance = self._fresh(plan)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_out_of_range", False)
        patient = data.pop("patient", None)
        if patient is not None and patient.pk != serializer.instance.patient_id:
            raise ValidationError({"patient": "A plan cannot move to another patient."})
        plan = services.plan_update(
            plan=serializer.instance, user=self.request.user, data=data, confirm_out_of_range=confirm
        )
        serializer.instance = self._fresh(plan)

    def _transition(
        self, request: Request, action_name: str, payload: type[serializers.Serializer]
    ) -> Response:
        body = payload(data=request.data)
        body.is_valid(raise_exception=True)
        service = getattr(services, f"plan_{action_name}")
        plan = service(plan=self.get_object(), user=request.user, **body.validated_data)
        return Response(PlanSerializer(self._fresh(plan), context=self.get_serializer_context()).data)

    @extend_schema(
        request=PlanOverrideSerializer,
        responses=PlanSerializer,
        summary="draft → active (R6 gate or override)",
    )
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "activate", PlanOverrideSerializer)

    @extend_schema(request=PlanReasonSerializer, responses=PlanSerializer, summary="active → on hold")
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "hold", PlanReasonSerializer)

    @extend_schema(
        request=PlanOverrideSerializer,
        responses=PlanSerializer,
        summary="on hold → active (R6 gate or override)",
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "resume", PlanOverrideSerializer)

    @extend_schema(
        request=PlanReasonSerializer, responses=PlanSerializer, summary="active or on hold → completed"
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "complete", PlanReasonSerializer)

    @extend_schema(
        request=PlanMaintenanceSerializer,
        responses=PlanSerializer,
        summary="initial → maintenance phase (R21; therapists, tap-water plans)",
    )
    @action(detail=True, methods=["post"])
    def maintenance(self, request: Request, pk: str | None = None) -> Response:
        if not TherapistPermission().has_permission(request, self):
            raise exceptions.PermissionDenied("Only a therapist may move a plan to maintenance (R20).")
        body = PlanMaintenanceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = services.plan_enter_maintenance(
            plan=self.get_object(), user=request.user, interval_days=body.validated_data["interval_days"]
        )
        return Response(PlanSerializer(self._fresh(plan), context=self.get_serializer_context()).data)

    @extend_schema(request=PlanReasonSerializer, responses=PlanSerializer, summary="→ cancelled")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "cancel", PlanReasonSerializer)


# ------------------------------------------------------------- authorizations
class AuthorizationSerializer(serializers.ModelSerializer):
    visits_used = serializers.IntegerField(read_only=True, help_text="Visits booked or done in the period.")
    visits_left = serializers.IntegerField(read_only=True)

    class Meta:
        model = Authorization
        fields = [
            "id",
            "plan",
            "payer",
            "number",
            "visits_authorized",
            "valid_from",
            "valid_to",
            "notes",
            "visits_used",
            "visits_left",
        ]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["plan"].read_only = True  # an authorization stays with its plan
        return fields


class AuthorizationFilter(django_filters.FilterSet):
    class Meta:
        model = Authorization
        fields = ["plan", "payer"]


class AuthorizationViewSet(viewsets.ModelViewSet):
    """R22: the front desk (who handles insurance), therapists and clinic
    admins read and write a plan's authorizations. Never deleted: a renewal
    is a new authorization; a past one stays as the record of what was paid."""

    serializer_class = AuthorizationSerializer
    filterset_class = AuthorizationFilter
    permission_classes = [StaffPermission]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Authorization.objects.none()
        return authorizations_with_use()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        created = authorization_create(plan=plan, data=data, user=self.request.user)
        serializer.instance = self.get_queryset().get(pk=created.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("plan", None)
        updated = authorization_update(authorization=serializer.instance, data=data)
        serializer.instance = self.get_queryset().get(pk=updated.pk)


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("medications", MedicationViewSet, basename="medication")
    router.register("plans", PlanViewSet, basename="plan")
    router.register("authorizations", AuthorizationViewSet, basename="authorization")
