"""Who may do what with session notes. The note is clinical: therapists
read, write, sign and add addenda; the front desk sees only whether a note
exists and is signed (day sheet). Billing exports are for clinic admins."""

from clinic.access import ADMIN, CLINICAL, AdminPermission, ClinicalPermission

NOTE = CLINICAL
BILLING = ADMIN
NotePermission = ClinicalPermission
BillingPermission = AdminPermission

__all__ = ["BILLING", "NOTE", "BillingPermission", "NotePermission"]
