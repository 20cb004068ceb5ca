from django.contrib import admin
from django.shortcuts import redirect

from clinic.admin import ClinicAdminModelAdmin, ReadOnlyModelAdmin
from supplies.forms import SupplyItemForm
from supplies.models import ExpiredUseAttempt, FeeSchedule, Lot, StockMovement, SupplyItem, SupplySettings


@admin.register(SupplyItem)
class SupplyItemAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    form = SupplyItemForm
    list_display = (
        "name",
        "kind",
        "medication",
        "electrode_type",
        "unit",
        "unit_cost",
        "reorder_level",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # lots and movements point at it: deactivate instead


@admin.register(Lot)
class LotAdmin(ReadOnlyModelAdmin, admin.ModelAdmin):
    """Read-only: stock arrives on the receiving page and moves only as movements."""

    list_display = ("item", "lot_number", "expiry", "quantity_received", "on_hand", "unit_cost")
    list_filter = ("item__kind",)
    search_fields = ("lot_number", "item__name")
    list_select_related = ("item",)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyModelAdmin, admin.ModelAdmin):
    list_display = ("created_at", "lot", "kind", "quantity", "note", "reason", "created_by")
    list_filter = ("kind",)
    list_select_related = ("lot__item", "created_by", "note")


@admin.register(ExpiredUseAttempt)
class ExpiredUseAttemptAdmin(ReadOnlyModelAdmin, admin.ModelAdmin):
    list_display = ("created_at", "lot", "session_date", "appointment", "user")
    list_select_related = ("lot__item", "user", "appointment")


@admin.register(FeeSchedule)
class FeeScheduleAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    list_display = ("payer", "cpt_code", "fee_per_unit", "valid_from")
    list_filter = ("cpt_code", "payer")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # past sessions are priced with it: add a newer row instead


@admin.register(SupplySettings)
class SupplySettingsAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    """The single row: the therapist's time cost, gel per session, expiry warning."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        return redirect("admin:supplies_supplysettings_change", SupplySettings.current().pk)
