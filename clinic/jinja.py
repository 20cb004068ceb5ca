"""The Jinja2 environment for the few hot partials rendered with Jinja2.

Django's template language stays the project's language for pages; a
partial that repeats hundreds of times on one page (the day sheet's rows) is
rendered by Jinja2, which compiles templates to Python and renders them
several times faster. Autoescaping is on, as in Django's templates.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from jinja2 import Environment


def hm(value: dt.datetime) -> str:
    """An aware datetime as the clinic's local "HH:MM"."""
    return timezone.localtime(value).strftime("%H:%M")


def environment(**options) -> Environment:
    options.pop("autoescape", None)  # always on, whatever the settings say
    env = Environment(autoescape=True, **options)
    env.filters["hm"] = hm
    return env
