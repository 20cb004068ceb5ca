"""The reminder outbox in the admin: read-only (rows change only through the
services, so the exactly-once bookkeeping stays whole)."""

from django.contrib import admin

from appointments.models import Reminder


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = [
        "id", "kind", "patient", "appointment", "slot_start", "due_at", "status", "sent_at", "attempts"
    ]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["patient__last_name", "patient__mrn", "message_id"]
    date_hierarchy = "due_at"
    list_select_related = ["patient", "appointment"]
    readonly_fields = [f.name for f in Reminder._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
