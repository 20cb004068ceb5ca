"""Demo users for `seed_demo` (synthetic data only)."""

from django.conf import settings
from django.contrib.auth.models import Group, User

from clinic.roles import Role

DEMO_USERS = (
    # username, first, last, role
    ("frontdesk", "Fran", "Desk", Role.FRONT_DESK),
    ("therapist", "Theo", "Rapist", Role.THERAPIST),
    ("therapist2", "Tess", "Ward", Role.THERAPIST),
    ("admin", "Ada", "Admin", Role.CLINIC_ADMIN),
)


def seed() -> dict[str, User]:
    users = {}
    for username, first, last, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@phoresis.invalid"},
        )
        if created:
            user.set_password(settings.DEMO_PASSWORD)
        if role == Role.CLINIC_ADMIN:
            user.is_staff = True
            user.is_superuser = True
        user.save()
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users
