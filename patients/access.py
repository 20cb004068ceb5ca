"""Who may do what with patients: one place for the pages and the API.

Every role handles demographics; screening answers are clinical. `has_role`
lets clinic admins do everything, so they are not listed.
"""

from clinic.roles import HasRole, Role

STAFF = (Role.FRONT_DESK, Role.THERAPIST)
CLINICAL = (Role.THERAPIST,)

StaffPermission = HasRole.for_roles(*STAFF)
ClinicalPermission = HasRole.for_roles(*CLINICAL)
