"""Role-aware navigation: each entry names the roles that see it."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from clinic.access import ADMIN, CLINICAL, STAFF
from clinic.roles import Role, has_role


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    roles: tuple[str, ...]


NAV: tuple[NavEntry, ...] = (
    NavEntry("Patients", "patients:list", STAFF),
    NavEntry("Day sheet", "appointments:day", STAFF),
    NavEntry("Calendar", "appointments:calendar", STAFF),
    NavEntry("Waitlist", "appointments:waitlist", (Role.FRONT_DESK,)),
    NavEntry("Billing", "notes:billing", ADMIN),
    NavEntry("Stock", "supplies:list", CLINICAL),
    NavEntry("Economics", "supplies:economics", ADMIN),
    NavEntry("Admin", "admin:index", ADMIN),
    NavEntry("API", "api:docs", STAFF),
)


def nav_for(request) -> list[dict]:
    items = []
    for entry in NAV:
        if not has_role(request.user, *entry.roles):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:  # the page arrives with a later feature
            continue
        items.append({"label": entry.label, "url": url, "active": False})
    # The longest matching prefix wins: /schedule/day/ is the day sheet, not the calendar.
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return items
