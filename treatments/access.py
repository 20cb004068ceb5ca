"""Who may do what with plans and the catalog: one place for the pages and
the API. Everyone reads plans and their counters (booking needs them);
clinical work (create, edit, status) is for therapists; the catalog is
written by clinic admins. `has_role` lets clinic admins do everything."""

from clinic.roles import HasRole, Role
from patients.access import CLINICAL, STAFF, ClinicalPermission, StaffPermission

CATALOG = (Role.CLINIC_ADMIN,)
CatalogPermission = HasRole.for_roles(*CATALOG)

__all__ = ["CATALOG", "CLINICAL", "STAFF", "CatalogPermission", "ClinicalPermission", "StaffPermission"]
