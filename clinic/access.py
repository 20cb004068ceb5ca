"""The project's role sets: one meaning of "staff" everywhere.

Each app's `access.py` names what it needs from these (and adds its own);
views, API permissions and templates (through the `can` context) read them
from there. `has_role` lets clinic admins pass every check, so they are not
listed.
"""

from django.core.exceptions import PermissionDenied

from clinic.roles import HasRole, IsTherapist, Role, holds_role

# Everyone who works with patients: the front desk and the therapists.
STAFF = (Role.FRONT_DESK, Role.THERAPIST)
# Clinical reads and writes: screening answers, plans' clinical fields, notes.
CLINICAL = (Role.THERAPIST,)
# Settings, catalog, resources, users, billing exports.
ADMIN = (Role.CLINIC_ADMIN,)

StaffPermission = HasRole.for_roles(*STAFF)
ClinicalPermission = HasRole.for_roles(*CLINICAL)
AdminPermission = HasRole.for_roles(*ADMIN)

# R20: clinical acts (an override, signing, an addendum, a screening review)
# need the therapist group itself; clinic admins do not pass by default here.
TREATING = Role.THERAPIST
TherapistPermission = IsTherapist
THERAPIST_ONLY = "Only a therapist may do this (R20): ask a therapist, or a clinic admin who treats."


def is_therapist(user) -> bool:
    return holds_role(user, TREATING)


def require_therapist(user, what: str = "") -> None:
    """Services call this for R20 so every path (page, API, admin) refuses alike."""
    if not is_therapist(user):
        raise PermissionDenied(f"Only a therapist may {what} (R20)." if what else THERAPIST_ONLY)
