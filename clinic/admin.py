"""Django admin access for every app: it follows the clinic_admin role."""

from clinic.roles import Role, has_role


class ClinicAdminModelAdmin:
    """ModelAdmin mixin: the Django admin follows the clinic_admin role (the
    role groups carry no model permissions); subclasses narrow it further."""

    def has_module_permission(self, request) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)

    def has_view_permission(self, request, obj=None) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)

    def has_add_permission(self, request, obj=None) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)

    def has_change_permission(self, request, obj=None) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)

    def has_delete_permission(self, request, obj=None) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)


class ReadOnlyModelAdmin(ClinicAdminModelAdmin):
    """Clinic admins look; changes go through the pages, where the rules run."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
