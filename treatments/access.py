"""Who may do what with plans and the catalog: one place for the pages and
the API. Every staff member reads plans and their counters (booking needs
them); clinical work (create, edit, status) is for therapists; the catalog
is written by clinic admins."""

from clinic.access import ADMIN, CLINICAL, STAFF, AdminPermission, ClinicalPermission, StaffPermission

CATALOG = ADMIN
CatalogPermission = AdminPermission

__all__ = ["CATALOG", "CLINICAL", "STAFF", "CatalogPermission", "ClinicalPermission", "StaffPermission"]
