"""/api/v1/ for supplies: `supply-items/`, `lots/` (POST receives stock),
`stock-movements/` (read-only), `fee-schedules/` and
`reports/session-economics/?month=YYYY-MM`. The rules are in
supplies.services; costs are for clinic admins only."""

from __future__ import annotations

import django_filters
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from clinic.api import RoleScopedFieldsMixin
from supplies import selectors, services
from supplies.access import (
    LOT_API,
    LOT_FIELDS,
    SUPPLY_ITEM_API,
    SUPPLY_ITEM_FIELDS,
    CatalogPermission,
    EconomicsPermission,
    StockPermission,
)
from supplies.models import FeeSchedule, Lot, StockMovement, SupplyItem


class SupplyItemSerializer(RoleScopedFieldsMixin, serializers.ModelSerializer):
    field_policy = SUPPLY_ITEM_FIELDS  # costs are for clinic admins (economics)
    in_stock = serializers.DecimalField(max_digits=11, decimal_places=2, read_only=True)

    class Meta:
        model = SupplyItem
        fields = list(SUPPLY_ITEM_API)

    def validate(self, attrs):
        merged = {**({} if self.instance is None else {f: getattr(self.instance, f) for f in attrs}), **attrs}
        kind = merged.get("kind", getattr(self.instance, "kind", None))
        errors = {}
        if kind == SupplyItem.Kind.DRUG_VIAL:
            if not merged.get("medication", getattr(self.instance, "medication", None)):
                errors["medication"] = "A drug vial names its catalog medication."
            if merged.get("unit", getattr(self.instance, "unit", None)) != SupplyItem.Unit.ML:
                errors["unit"] = "Drug vials are counted in mL."
        if kind == SupplyItem.Kind.ELECTRODE and not merged.get(
            "electrode_type", getattr(self.instance, "electrode_type", "")
        ):
            errors["electrode_type"] = "Choose the electrode type."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class SupplyItemViewSet(viewsets.ModelViewSet):
    """Therapists read the catalog; clinic admins write it. Nothing is
    deleted (lots point at their item): set is_active false instead."""

    serializer_class = SupplyItemSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    filterset_fields = ["kind", "is_active"]

    def get_queryset(self):
        return selectors.items_with_stock().order_by("kind", "name", "id")

    def _with_stock(self, serializer) -> None:
        # Answer with the stock on hand too (an annotation): a new item's is 0.
        item = serializer.save()
        serializer.instance = self.get_queryset().get(pk=item.pk)

    perform_create = perform_update = _with_stock

    def get_permissions(self):
        if self.request.method in permissions.SAFE_METHODS:
            return [StockPermission()]
        return [CatalogPermission()]


class LotSerializer(RoleScopedFieldsMixin, serializers.ModelSerializer):
    field_policy = LOT_FIELDS
    quantity = serializers.DecimalField(max_digits=9, decimal_places=2, write_only=True, min_value=0)
    unit_cost = serializers.DecimalField(
        max_digits=9, decimal_places=4, required=False, allow_null=True, min_value=0
    )

    class Meta:
        model = Lot
        fields = list(LOT_API)
        read_only_fields = ["quantity_received", "on_hand", "received_at", "received_by"]
        # A second receipt of a lot tops it up (the service), so no unique-together check here.
        validators = []
        extra_kwargs = {"lot_number": {"validators": []}}


class LotFilter(django_filters.FilterSet):
    on_hand = django_filters.BooleanFilter(method="filter_on_hand", label="only lots with stock left")
    usable_on = django_filters.DateFilter(method="filter_usable_on", label="not expired on this date (R9)")

    class Meta:
        model = Lot
        fields = ["item", "item__kind", "item__medication"]

    def filter_on_hand(self, queryset, name, value):
        return queryset.filter(on_hand__gt=0) if value else queryset.filter(on_hand=0)

    def filter_usable_on(self, queryset, name, value):
        return queryset.filter(expiry__gte=value)


class LotViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Lots on the shelf; POST receives stock (a lot already there is topped up)."""

    serializer_class = LotSerializer
    permission_classes = [StockPermission]
    filterset_class = LotFilter
    queryset = Lot.objects.select_related("item").order_by("expiry", "id")

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lot = services.lot_receive(
            item=data["item"],
            lot_number=data["lot_number"],
            expiry=data["expiry"],
            quantity=data["quantity"],
            unit_cost=data.get("unit_cost"),
            user=request.user,
        )
        return Response(self.get_serializer(lot).data, status=status.HTTP_201_CREATED)


class StockMovementSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = StockMovement
        fields = ["id", "lot", "kind", "quantity", "note", "reason", "created_by", "created_at"]


class StockMovementViewSet(viewsets.ReadOnlyModelViewSet):
    """Every change to stock, newest first: who, when, why."""

    serializer_class = StockMovementSerializer
    permission_classes = [StockPermission]
    filterset_fields = ["lot", "note", "kind"]
    queryset = StockMovement.objects.select_related("created_by").order_by("-created_at", "-id")


class FeeScheduleSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeeSchedule
        fields = ["id", "payer", "cpt_code", "fee_per_unit", "valid_from"]
        validators = []  # the same payer, code and date again replaces the fee (services.fee_set)


class FeeScheduleViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Payers' fees per unit with valid-from dates (clinic admins)."""

    serializer_class = FeeScheduleSerializer
    permission_classes = [EconomicsPermission]
    filterset_fields = ["payer", "cpt_code"]
    queryset = FeeSchedule.objects.order_by("payer_id", "cpt_code", "-valid_from", "id")

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        fee = services.fee_set(**body.validated_data)
        return Response(self.get_serializer(fee).data, status=status.HTTP_201_CREATED)


class EconomicsGroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    sessions = serializers.IntegerField()
    units = serializers.IntegerField()
    supply_cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    time_cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    reimbursement = serializers.DecimalField(max_digits=12, decimal_places=2)
    margin = serializers.DecimalField(max_digits=12, decimal_places=2)
    sessions_without_fee = serializers.IntegerField()


class EconomicsReportSerializer(serializers.Serializer):
    month = serializers.CharField()
    therapist_hourly_cost = serializers.DecimalField(max_digits=8, decimal_places=2)
    total = EconomicsGroupSerializer()
    by_modality = EconomicsGroupSerializer(many=True)
    by_payer = EconomicsGroupSerializer(many=True)


class SessionEconomicsView(APIView):
    permission_classes = [EconomicsPermission]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "month",
                str,
                description="YYYY-MM (clinic time); by default this month, or the latest with sessions",
            )
        ],
        responses=EconomicsReportSerializer,
    )
    def get(self, request):
        raw = request.query_params.get("month")
        month = selectors.month_of(raw) if raw else selectors.default_month()
        if month is None:
            return Response({"month": ["Enter a month as YYYY-MM."]}, status=status.HTTP_400_BAD_REQUEST)
        report = selectors.monthly_report(month=month)
        return Response(
            {
                "month": f"{month:%Y-%m}",
                "therapist_hourly_cost": str(report["therapist_hourly_cost"]),
                "total": report["total"].as_dict(),
                "by_modality": [t.as_dict() for t in report["by_modality"]],
                "by_payer": [t.as_dict() for t in report["by_payer"]],
            }
        )


def register(router: DefaultRouter) -> list:
    """Add this app's viewsets to the /api/v1/ router; returns its other paths."""
    router.register("supply-items", SupplyItemViewSet, basename="supply-item")
    router.register("lots", LotViewSet, basename="lot")
    router.register("stock-movements", StockMovementViewSet, basename="stock-movement")
    router.register("fee-schedules", FeeScheduleViewSet, basename="fee-schedule")
    return [path("reports/session-economics/", SessionEconomicsView.as_view(), name="session-economics")]
