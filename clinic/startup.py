"""Refuse to start, with one clear message, instead of serving errors.

Two mistakes meet whoever runs gunicorn by hand first: no SECRET_KEY (the
settings refuse to load) and DEBUG off without `collectstatic` (every HTML
page would answer 500: "Missing staticfiles manifest entry"). The web
entry points (clinic/wsgi.py, clinic/asgi.py) call `application_or_exit`,
which prints one line naming the fix and exits with status 3, the code
gunicorn reads as "worker failed to boot" (it stops instead of respawning).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BOOT_ERROR = 3  # gunicorn.arbiter.Arbiter.WORKER_BOOT_ERROR


def static_problem() -> str | None:
    """Why HTML pages cannot be served with these settings (None: they can)."""
    from django.conf import settings

    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if settings.DEBUG or "Manifest" not in backend:
        return None
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.is_file():
        return (
            f"DEBUG is off and the static files are not collected ({manifest} is missing): "
            "run `python manage.py collectstatic --no-input` first (docker compose's web does)."
        )
    return None


def refuse(message: str) -> None:
    print(f"Phoresis cannot start: {message}", file=sys.stderr, flush=True)
    sys.exit(BOOT_ERROR)


def application_or_exit(make: Callable):
    # Settings first, then the static files, then the app: whitenoise would
    # warn about a missing STATIC_ROOT before our one line otherwise.
    from django.conf import settings

    try:
        settings.DEBUG  # noqa: B018 - loads the settings, which refuse a missing SECRET_KEY
    except ImproperlyConfigured as exc:
        refuse(f"{exc} Set it in the environment or in .env (see .env.example).")
    if problem := static_problem():
        refuse(problem)
    return make()
