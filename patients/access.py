"""Who may do what with patients: one place for the pages and the API.

Every role handles demographics; screening answers are clinical. `has_role`
lets clinic admins do everything, so they are not listed.
"""

from clinic.roles import HasRole, Role, has_role

STAFF = (Role.FRONT_DESK, Role.THERAPIST)
CLINICAL = (Role.THERAPIST,)

StaffPermission = HasRole.for_roles(*STAFF)
ClinicalPermission = HasRole.for_roles(*CLINICAL)


class ClinicAdminModelAdmin:
    """ModelAdmin mixin: the Django admin follows the clinic_admin role (the
    role groups carry no model permissions); subclasses narrow it further."""

    def has_module_permission(self, request) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)

    def has_view_permission(self, request, obj=None) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)

    def has_add_permission(self, request) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)

    def has_change_permission(self, request, obj=None) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)

    def has_delete_permission(self, request, obj=None) -> bool:
        return has_role(request.user, Role.CLINIC_ADMIN)


class ReadOnlyModelAdmin(ClinicAdminModelAdmin):
    """Clinic admins look; changes go through the pages, where the rules run."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
