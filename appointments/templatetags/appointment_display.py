"""How a visit's status looks, for Django's templates (the day sheet's Jinja2
rows get the same mapping from the view)."""

from django import template

from appointments.models import STATUS_BADGE

register = template.Library()


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGE.get(status, STATUS_BADGE["cancelled"])
