"""The project's role sets: one meaning of "staff" everywhere.

Each app's `access.py` names what it needs from these (and adds its own);
views, API permissions and templates (through the `can` context) read them
from there. `has_role` lets clinic admins pass every check, so they are not
listed.
"""

from clinic.roles import HasRole, Role

# Everyone who works with patients: the front desk and the therapists.
STAFF = (Role.FRONT_DESK, Role.THERAPIST)
# Clinical reads and writes: screening answers, plans' clinical fields, notes.
CLINICAL = (Role.THERAPIST,)
# Settings, catalog, resources, users, billing exports.
ADMIN = (Role.CLINIC_ADMIN,)

StaffPermission = HasRole.for_roles(*STAFF)
ClinicalPermission = HasRole.for_roles(*CLINICAL)
AdminPermission = HasRole.for_roles(*ADMIN)
