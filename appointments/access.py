"""Who may do what with the schedule: one place for the pages and the API.

Every staff member books, moves, cancels and checks in, and reads the
schedule, the resources and the message log; resources (therapists, rooms,
devices) are written by clinic admins; resending a patient email is the
front desk's (therapists read the log only). `has_role` lets clinic admins
pass every check."""

from clinic.access import ADMIN, CLINICAL, STAFF, AdminPermission, StaffPermission
from clinic.roles import HasRole, Role

BOOKING = STAFF
RESOURCES = ADMIN
MESSAGE_LOG = STAFF
RESEND = (Role.FRONT_DESK,)
# Writing the plan from an evaluation visit is a therapist's act.
EVALUATION_PLAN = CLINICAL
# A therapist's own calendar feed (its URL and rotating it): the therapist's.
CALENDAR_FEED = CLINICAL

BookingPermission = StaffPermission
ResendPermission = HasRole.for_roles(*RESEND)
CalendarFeedPermission = HasRole.for_roles(*CALENDAR_FEED)

__all__ = [
    "BOOKING",
    "EVALUATION_PLAN",
    "CALENDAR_FEED",
    "MESSAGE_LOG",
    "RESEND",
    "RESOURCES",
    "AdminPermission",
    "BookingPermission",
    "CalendarFeedPermission",
    "ResendPermission",
    "StaffPermission",
]
