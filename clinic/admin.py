"""The audit trail and login lockouts in the admin, for clinic admins.

Audit entries are read-only for everyone, superusers included: no add,
change or delete page, no bulk action. Lockouts can be lifted (deleting the
attempt record is how django-axes unlocks a username).
"""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from clinic.roles import Role, has_role


def _clinic_admin(request) -> bool:
    return has_role(request.user, Role.CLINIC_ADMIN)


class ReadOnlyForClinicAdmins:
    def has_module_permission(self, request) -> bool:
        return _clinic_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _clinic_admin(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        return {}


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditEntryAdmin(ReadOnlyForClinicAdmins, LogEntryAdmin):
    """Every change and read of a health record: filter by resource type,
    search by record (e.g. "Note for appointment 12"), user or value."""

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # Links from a record's history page filter on the record itself.
        return lookup in {"object_pk", "object_id"} or super().lookup_allowed(lookup, value, request)


for model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(AccessAttempt)
class LockoutAdmin(ReadOnlyForClinicAdmins, AccessAttemptAdmin):
    """Failed logins per username; deleting a row unlocks it."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return _clinic_admin(request)

    def get_actions(self, request):
        return admin.ModelAdmin.get_actions(self, request)


@admin.register(AccessLog)
class LoginLogAdmin(ReadOnlyForClinicAdmins, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class LoginFailureLogAdmin(ReadOnlyForClinicAdmins, AccessFailureLogAdmin):
    pass
