"""The Jinja2 environment for the few hot partials rendered with Jinja2.

Django's template language stays the project's language for pages; a
partial that repeats hundreds of times on one page (the day sheet's rows) is
rendered by Jinja2, which compiles templates to Python and renders them
several times faster. Autoescaping is on, as in Django's templates.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.conf import settings
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape

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


@cache
def mail_environment() -> Environment:
    """The patients' emails (templates/jinja2/appointments/email/): the
    reminder sweep renders three templates a message, which in Django's
    language cost a tenth of a worker's time per message. Escaped as HTML
    in the .html parts only (the text parts and the subject are plain
    text, as Django's `{% autoescape off %}` had them); a missing value
    renders empty, as in Django's templates; the file's last newline kept."""
    return Environment(
        loader=FileSystemLoader(settings.BASE_DIR / "templates" / "jinja2"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=ChainableUndefined,
        keep_trailing_newline=True,
        auto_reload=settings.DEBUG,
    )


def render_mail(name: str, context: dict) -> str:
    return mail_environment().get_template(name).render(context)
