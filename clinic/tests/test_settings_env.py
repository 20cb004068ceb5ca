"""Settings are read from the environment (ARCHITECTURE.md names them)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "db = settings.DATABASES['default'];"
    "print(json.dumps({'debug': settings.DEBUG, 'hosts': settings.ALLOWED_HOSTS,"
    " 'engine': db['ENGINE'], 'name': str(db['NAME']), 'options': db.get('OPTIONS', {}),"
    " 'tz': settings.CLINIC_TIME_ZONE, 'clinic': settings.CLINIC_NAME, 'broker': settings.CELERY_BROKER_URL,"
    " 'email': settings.EMAIL_BACKEND, 'email_host': settings.EMAIL_HOST, 'email_port': settings.EMAIL_PORT,"
    " 'from': settings.DEFAULT_FROM_EMAIL, 'site': settings.SITE_URL, 'secret': settings.SECRET_KEY}))"
)


def _settings(**env) -> dict:
    inherited = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in inherited}
    clean.update(DJANGO_SETTINGS_MODULE="clinic.settings", **env)
    for key in [k for k, v in clean.items() if v is None]:
        del clean[key]
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_defaults_are_the_embedded_ones_in_debug():
    s = _settings(DEBUG="true", SECRET_KEY="", EMAIL_HOST="")
    assert s["debug"] is True
    assert s["hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].endswith("var/phoresis.sqlite3")
    assert s["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in s["options"]["init_command"]
    assert s["tz"] == "America/New_York"
    assert s["broker"] == "filesystem://"
    assert s["email"].endswith("filebased.EmailBackend")


def test_values_come_from_the_environment():
    s = _settings(
        DEBUG="false",
        SECRET_KEY="a-real-secret-from-the-environment-0123456789",
        ALLOWED_HOSTS="clinic.example,www.clinic.example",
        DATABASE_URL="postgres://u:p@db.example:5433/phoresis",
        REDIS_URL="redis://cache.example:6380/2",
        EMAIL_HOST="smtp.example",
        EMAIL_PORT="2525",
        DEFAULT_FROM_EMAIL="Clinic <desk@clinic.example>",
        CLINIC_NAME="Lakeside Physio",
        CLINIC_TIME_ZONE="Europe/Berlin",
        SITE_URL="https://clinic.example",
    )
    assert s["debug"] is False
    assert s["hosts"] == ["clinic.example", "www.clinic.example"]
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "phoresis"
    assert s["broker"] == "redis://cache.example:6380/2"
    assert s["email"].endswith("smtp.EmailBackend")
    assert (s["email_host"], s["email_port"]) == ("smtp.example", 2525)
    assert s["from"] == "Clinic <desk@clinic.example>"
    assert s["clinic"] == "Lakeside Physio"
    assert s["tz"] == "Europe/Berlin"
    assert s["site"] == "https://clinic.example"
    assert s["secret"] == "a-real-secret-from-the-environment-0123456789"


def test_no_default_secret_key_outside_debug():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings", DEBUG="false", SECRET_KEY="")
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


def test_manage_py_is_in_development_mode_but_the_web_server_is_not():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert manage.returncode == 0, manage.stderr
    wsgi = subprocess.run(
        [sys.executable, "-c", "import clinic.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wsgi.returncode != 0
    assert "SECRET_KEY must be set" in wsgi.stderr
