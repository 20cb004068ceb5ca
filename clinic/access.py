"""The project's role sets: one meaning of "staff" everywhere.

Each app's `access.py` names what it needs from these (and adds its own);
views, API permissions and templates (through the `can` context) read them
from there. `has_role` lets clinic admins pass every check, so they are not
listed.
"""

from django.core.exceptions import PermissionDenied

from clinic.roles import HasRole, IsTherapist, Role, has_role, holds_role

# Everyone who works with patients: the front desk and the therapists.
STAFF = (Role.FRONT_DESK, Role.THERAPIST)
# Clinical reads and writes: screening answers, plans' clinical fields, notes.
CLINICAL = (Role.THERAPIST,)
# Settings, catalog, resources, users, billing exports.
ADMIN = (Role.CLINIC_ADMIN,)

StaffPermission = HasRole.for_roles(*STAFF)
ClinicalPermission = HasRole.for_roles(*CLINICAL)
AdminPermission = HasRole.for_roles(*ADMIN)


class FieldPolicy:
    """Role-scoped fields of one resource, declared once in the app's
    `access.py` and read by its serializers, pages, exports and feeds.

    Every staff role reads `shared`; the `full` roles (clinical staff, and
    clinic admins, who pass every check) read every field. Whatever is not in
    `shared` is clinical: it never reaches anyone else."""

    registry: dict[str, "FieldPolicy"] = {}  # resource → policy (the privacy matrix reads it)

    def __init__(self, resource: str, *, shared: frozenset[str] | set[str], full: tuple = CLINICAL):
        self.resource = resource
        self.shared = frozenset(shared)
        self.full = full
        FieldPolicy.registry[resource] = self

    def sees_all(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and has_role(user, *self.full))

    def readable(self, user, fields) -> list[str]:
        """The names among `fields` that `user` may read, in their order."""
        if self.sees_all(user):
            return list(fields)
        return [name for name in fields if name in self.shared]

    def hidden(self, fields) -> list[str]:
        """The clinical names among `fields` (what a non-clinical role never gets)."""
        return [name for name in fields if name not in self.shared]


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
