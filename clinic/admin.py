"""Django admin for every app follows the clinic_admin role (the role groups
carry no model permissions). Also the audit trail and login lockouts:
audit entries are read-only for everyone, superusers included; lockouts can
be lifted (deleting the attempt record is how django-axes unlocks a username).
"""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from clinic.access import ADMIN
from clinic.roles import has_role


class ClinicAdminModelAdmin:
    """ModelAdmin mixin: the Django admin follows the clinic_admin role (the
    role groups carry no model permissions); subclasses narrow it further."""

    def has_module_permission(self, request) -> bool:
        return has_role(request.user, *ADMIN)

    def has_view_permission(self, request, obj=None) -> bool:
        return has_role(request.user, *ADMIN)

    def has_add_permission(self, request, obj=None) -> bool:
        return has_role(request.user, *ADMIN)

    def has_change_permission(self, request, obj=None) -> bool:
        return has_role(request.user, *ADMIN)

    def has_delete_permission(self, request, obj=None) -> bool:
        return has_role(request.user, *ADMIN)


class ReadOnlyModelAdmin(ClinicAdminModelAdmin):
    """Clinic admins look; changes go through the pages, where the rules run."""

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
class AuditEntryAdmin(ReadOnlyModelAdmin, LogEntryAdmin):
    """Every change and read of a health record: filter by resource type,
    search by record (e.g. "Note for appointment 12"), user or value."""

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # Links from a record's history page filter on the record itself.
        return lookup in {"object_pk", "object_id"} or super().lookup_allowed(lookup, value, request)


for model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(AccessAttempt)
class LockoutAdmin(ReadOnlyModelAdmin, AccessAttemptAdmin):
    """Failed logins per username; deleting a row unlocks it."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return has_role(request.user, *ADMIN)

    def get_actions(self, request):
        return admin.ModelAdmin.get_actions(self, request)


@admin.register(AccessLog)
class LoginLogAdmin(ReadOnlyModelAdmin, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class LoginFailureLogAdmin(ReadOnlyModelAdmin, AccessFailureLogAdmin):
    pass
