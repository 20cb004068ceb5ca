"""Who may do what with patients: one place for the pages and the API.

Every staff member handles demographics and coverage; screening answers are
clinical; the payer list is kept by clinic admins."""

from clinic.access import ADMIN, CLINICAL, STAFF, AdminPermission, ClinicalPermission, StaffPermission

# Payers are written by clinic admins (ADMIN), read by every staff member.
__all__ = ["ADMIN", "CLINICAL", "STAFF", "AdminPermission", "ClinicalPermission", "StaffPermission"]
