"""Who may do what with patients: one place for the pages and the API.

Every staff member handles demographics; screening answers are clinical."""

from clinic.access import CLINICAL, STAFF, ClinicalPermission, StaffPermission

__all__ = ["CLINICAL", "STAFF", "ClinicalPermission", "StaffPermission"]
