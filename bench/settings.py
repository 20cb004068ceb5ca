"""Settings for the in-process benchmarks: production settings (DEBUG off,
the database from DATABASE_URL) plus the bare baseline views' URLs."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-with-enough-length-and-entropy-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from clinic.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# {% static %} without a collectstatic manifest; the templates are cached as in production.
STATIC_ROOT = str(BASE_DIR / "var" / "bench" / "static")  # noqa: F405
os.makedirs(STATIC_ROOT, exist_ok=True)  # whitenoise warns about a missing one
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
