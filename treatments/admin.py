from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from clinic.admin import ClinicAdminModelAdmin, ReadOnlyModelAdmin
from clinic.audit import AuditHistoryAdminMixin
from clinic.models import ClinicRules
from treatments import services
from treatments.forms import MedicationForm
from treatments.models import Authorization, Medication, TreatmentPlan


class MedicationAdminForm(MedicationForm):
    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                services.medication_validate(
                    data=cleaned, instance=self.instance if self.instance.pk else None
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(Medication)
class MedicationAdmin(AuditHistoryAdminMixin, ClinicAdminModelAdmin, admin.ModelAdmin):
    form = MedicationAdminForm
    list_display = ("name", "concentration", "polarity", "modalities", "is_drug", "is_active")
    list_filter = ("is_active", "polarity", "is_drug")
    search_fields = ("name",)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if obj is not None else [f for f in fields if f != "is_active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Never delete a medication a plan uses (the FK PROTECTs it too):
        # deactivate it instead.
        if obj is not None and obj.plans.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would skip the per-row check
        return actions

    def save_model(self, request, obj, form, change) -> None:
        data = {name: form.cleaned_data[name] for name in form.cleaned_data}
        if change:
            services.medication_update(medication=obj, data=data)
        else:
            data.pop("is_active", None)
            created = services.medication_create(**data)
            obj.pk = created.pk


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(AuditHistoryAdminMixin, ReadOnlyModelAdmin, admin.ModelAdmin):
    """Read-only: plans change on their pages, where the rules (R6, R7, R8,
    the status machine) run."""

    list_display = (
        "id",
        "patient",
        "modality",
        "body_site",
        "status",
        "sessions_prescribed",
        "sessions_authorized",
    )
    list_filter = ("status", "modality")
    search_fields = ("patient__mrn", "patient__last_name", "body_site")
    list_select_related = ("patient", "medication")


@admin.register(Authorization)
class AuthorizationAdmin(AuditHistoryAdminMixin, ReadOnlyModelAdmin, admin.ModelAdmin):
    """Read-only: authorizations change on the plan's page or the API, where
    R22's checks run (no overlap, the visits already booked fit)."""

    list_display = ("number", "plan", "payer", "visits_authorized", "valid_from", "valid_to")
    list_filter = ("payer",)
    search_fields = ("number", "plan__patient__mrn", "plan__patient__last_name")
    list_select_related = ("plan", "payer")


class ClinicRulesForm(forms.ModelForm):
    class Meta:
        model = ClinicRules
        fields = [f.name for f in ClinicRules._meta.fields if f.name != "id"]

    PAIRS = (
        ("ionto_current_min_ma", "ionto_current_max_ma"),
        ("ionto_dose_typical_min", "ionto_dose_typical_max"),
        ("tap_current_typical_min", "tap_current_typical_max"),
        ("tap_minutes_min", "tap_minutes_max"),
        ("us_intensity_min", "us_intensity_max"),
        ("us_intensity_typical_min", "us_intensity_typical_max"),
        ("us_minutes_min", "us_minutes_max"),
        ("us_minutes_typical_min", "us_minutes_typical_max"),
    )

    def clean(self):
        cleaned = super().clean()
        for low, high in self.PAIRS:
            if (
                cleaned.get(low) is not None
                and cleaned.get(high) is not None
                and cleaned[low] > cleaned[high]
            ):
                self.add_error(high, "Must not be below the minimum.")
        return cleaned


# ClinicRules lives in clinic/ (which has no admin module of its own); its
# limits are almost all treatment parameters, so it is registered here.
@admin.register(ClinicRules)
class ClinicRulesAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    """The single row of the clinic's editable limits."""

    form = ClinicRulesForm

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        rules = ClinicRules.current()
        return redirect("admin:clinic_clinicrules_change", rules.pk)
