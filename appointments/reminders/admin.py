"""The reminder outbox in the admin: read-only (rows change only through the
services, so the exactly-once bookkeeping stays whole)."""

from django.contrib import admin

from appointments.models import Reminder
from clinic.admin import ReadOnlyModelAdmin


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyModelAdmin, admin.ModelAdmin):
    list_display = [
        "id", "kind", "patient", "appointment", "slot_start", "due_at", "status", "sent_at", "attempts"
    ]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["patient__last_name", "patient__mrn", "message_id"]
    date_hierarchy = "due_at"
    list_select_related = ["patient", "appointment"]
    readonly_fields = [f.name for f in Reminder._meta.fields]
