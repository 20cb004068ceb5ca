from django.contrib import admin

from appointments.models import (
    Appointment,
    AppointmentChange,
    ClinicClosure,
    Device,
    Room,
    Therapist,
    TherapistException,
    WaitlistEntry,
    WorkingHours,
)
from appointments.reminders.admin import ReminderAdmin  # noqa: F401 - the message log, read-only
from clinic.admin import ClinicAdminModelAdmin, ReadOnlyModelAdmin
from clinic.audit import AuditHistoryAdminMixin


class WorkingHoursInline(ClinicAdminModelAdmin, admin.TabularInline):
    model = WorkingHours
    extra = 1


class ExceptionInline(ClinicAdminModelAdmin, admin.TabularInline):
    model = TherapistException
    extra = 0


@admin.register(Therapist)
class TherapistAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    list_display = ["display_name", "user", "modalities", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["display_name", "user__username"]
    inlines = [WorkingHoursInline, ExceptionInline]


@admin.register(Room)
class RoomAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    list_display = ["name", "modalities", "is_active"]


@admin.register(Device)
class DeviceAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    list_display = ["name", "kind", "serial_number", "home_room", "in_service", "calibration_due"]
    list_filter = ["kind", "in_service"]
    search_fields = ["name", "serial_number"]


@admin.register(ClinicClosure)
class ClinicClosureAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    list_display = ["start_date", "end_date", "reason"]


@admin.register(TherapistException)
class TherapistExceptionAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    list_display = ["therapist", "kind", "start", "end", "note"]
    list_filter = ["kind", "therapist"]


class ChangeInline(ReadOnlyModelAdmin, admin.TabularInline):
    model = AppointmentChange
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in AppointmentChange._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(AuditHistoryAdminMixin, ReadOnlyModelAdmin, admin.ModelAdmin):
    """Read-only for clinic admins: bookings and changes go through the
    scheduling pages so the rules (R1–R5) and the patient emails always
    apply. Its audit log takes in the visit's note, addenda and adverse events."""

    list_display = ["start", "patient", "therapist", "room", "status"]
    list_filter = ["status", "therapist", "room"]
    date_hierarchy = "start"
    list_select_related = ["patient", "therapist", "room"]
    inlines = [ChangeInline]

    def audit_related(self, obj):
        note = getattr(obj, "note", None)  # None when the visit has no note yet
        if note is None:
            return []
        return [note, *note.addenda.all(), *note.adverse_events.all()]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ClinicAdminModelAdmin, admin.ModelAdmin):
    list_display = ["patient", "plan", "preferred_weekdays", "is_active", "created_at"]
    list_filter = ["is_active"]
