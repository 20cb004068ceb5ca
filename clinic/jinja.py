"""The Jinja2 environment for the few hot partials rendered with Jinja2.

Django's template language stays the project's language for pages; a
partial that repeats hundreds of times on one page (the day sheet's rows) is
rendered by Jinja2, which compiles templates to Python and renders them
several times faster. Autoescaping is on, as in Django's templates.
"""

from __future__ import annotations

import datetime as dt

from jinja2 import Environment

from clinic.localtime import clinic_tz


def hm(value: dt.datetime) -> str:
    """An aware datetime as the clinic's local "HH:MM" (astimezone to the
    cached zone: Django's localtime looks the current zone up each call)."""
    return value.astimezone(clinic_tz()).strftime("%H:%M")


def environment(**options) -> Environment:
    options.pop("autoescape", None)  # always on, whatever the settings say
    env = Environment(autoescape=True, **options)
    env.filters["hm"] = hm
    return env
