from django.conf import settings
from django.http import HttpRequest

from clinic.access import ADMIN, CLINICAL, STAFF, is_therapist
from clinic.navigation import nav_for
from clinic.roles import Role, has_role, roles_of


def clinic(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_TIME_ZONE": settings.CLINIC_TIME_ZONE,
        "IDLE_TIMEOUT_SECONDS": settings.IDLE_TIMEOUT_MINUTES * 60,
        "IDLE_WARNING_SECONDS": settings.IDLE_WARNING_MINUTES * 60,
        "user_roles": roles_of(user) if authenticated else frozenset(),
        "user_role_labels": sorted(Role(r).label for r in roles_of(user)) if authenticated else [],
        "nav_items": nav_for(request) if authenticated else [],
        # What the templates may show, from the same role sets as the views.
        "can": {
            "staff": authenticated and has_role(user, *STAFF),
            "clinical": authenticated and has_role(user, *CLINICAL),
            "admin": authenticated and has_role(user, *ADMIN),
            # R20: sign, addenda, overrides, screening reviews.
            "treat": authenticated and is_therapist(user),
        },
    }
