from django.contrib import admin

from clinic.admin import ClinicAdminModelAdmin, ReadOnlyModelAdmin
from clinic.audit import AccessLoggedAdminMixin, AuditHistoryAdminMixin
from patients.models import Patient, Payer, Screening
from patients.services import DEMOGRAPHIC_FIELDS, patient_update


@admin.register(Patient)
class PatientAdmin(AuditHistoryAdminMixin, ClinicAdminModelAdmin, admin.ModelAdmin):
    """Registration happens on the Patients page (MRN, duplicate check);
    the admin edits demographics through the same service."""

    list_display = ("mrn", "last_name", "first_name", "date_of_birth", "phone", "reminder_opt_in")
    search_fields = ("mrn", "last_name", "first_name", "phone", "email")
    list_filter = ("reminder_opt_in", "sex")
    readonly_fields = ("mrn", "created_at", "updated_at")
    fields = ("mrn", *DEMOGRAPHIC_FIELDS, "created_at", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # clinical history hangs off the patient

    def save_model(self, request, obj, form, change) -> None:
        # An admin saw the form: same name and birth date is intentional here.
        patient_update(
            patient=obj,
            data={name: form.cleaned_data[name] for name in DEMOGRAPHIC_FIELDS},
            confirm_duplicate=True,
        )


@admin.register(Screening)
class ScreeningAdmin(AccessLoggedAdminMixin, AuditHistoryAdminMixin, ReadOnlyModelAdmin, admin.ModelAdmin):
    """Read-only history: a review is recorded as a new screening on the
    patient's page, never by editing an old one."""

    list_display = ("patient", "screened_at", "screened_by", "pregnancy", "pacemaker", "drug_allergy")
    list_filter = ("screened_at",)
    search_fields = ("patient__mrn", "patient__last_name")
    list_select_related = ("patient", "screened_by")


@admin.register(Payer)
class PayerAdmin(AuditHistoryAdminMixin, ClinicAdminModelAdmin, admin.ModelAdmin):
    list_display = ["name", "daily_97033_unit_cap", "is_active"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
