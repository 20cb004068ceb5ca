"""Hardening checked by tests: security headers and cookies in production
settings, a Content-Security-Policy without inline scripts, CSRF on every
form, no upload fields, the rate limiter, and logs without names."""

import logging
import re
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from clinic.logfilters import RedactFilter, redact
from clinic.ratelimit import hit, rate_limit
from clinic.tests.world import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
OURS = ("clinic", "patients", "treatments", "appointments")


def _csp(response) -> dict[str, list[str]]:
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        policy[name] = values
    return policy


# -- headers and cookies -----------------------------------------------------------
@pytest.mark.django_db
@override_settings(
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
)
def test_a_page_answers_with_the_security_headers_and_secure_cookies(front_desk):
    assert not settings.DEBUG  # the suite runs with the production settings (clinic.test_settings)
    client = Client()
    login = client.post(reverse("login"), {"username": "fd", "password": PASSWORD}, secure=True)
    assert login.status_code == 302
    session = login.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    response = client.get(reverse("patients:list"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = _csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    form = client.get(reverse("patients:create"), secure=True)
    assert form.cookies[settings.CSRF_COOKIE_NAME]["secure"]


def test_production_settings_are_strict():
    """What `check --deploy` does not see: the production branch of settings."""
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_HSTS_SECONDS >= 31536000 and settings.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and settings.SESSION_COOKIE_HTTPONLY
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME.total_seconds() == 1800
    assert len(settings.AUTH_PASSWORD_VALIDATORS) >= 4
    assert settings.IDLE_TIMEOUT_MINUTES == 30


@pytest.mark.django_db
def test_the_calendar_allows_only_fullcalendars_nonced_style(client, front_desk):
    client.force_login(front_desk)
    response = client.get(reverse("appointments:calendar"))
    nonce = re.search(r'<meta name="csp-nonce" content="([^"]+)">', response.content.decode()).group(1)
    policy = _csp(response)
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["script-src"] == ["'self'"]


@pytest.mark.django_db
def test_only_the_api_docs_relax_style_src_and_nothing_relaxes_scripts(client, front_desk):
    client.force_login(front_desk)
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    policy = _csp(response)
    assert "'unsafe-inline'" in policy["style-src"]
    assert policy["script-src"] == ["'self'"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())
    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


# -- templates: no inline script or style --------------------------------------------
TEMPLATE_DIRS = [ROOT / "templates"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


# HTML emails need inline styles (mail clients drop stylesheets); no CSP applies there.
EMAIL_TEMPLATES = ROOT / "templates" / "jinja2" / "appointments" / "email"


def _templates():
    for folder in TEMPLATE_DIRS:
        yield from sorted(p for p in folder.rglob("*.html") if EMAIL_TEMPLATES not in p.parents)


@pytest.mark.parametrize("template", list(_templates()), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_inline_script_handler_or_style(template):
    text = re.sub(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", "", template.read_text(), flags=re.S)
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to static/js (json_script is fine)"
    assert not EVENT_HANDLER.search(text), "on*= handler: use addEventListener in static/js"
    assert "javascript:" not in text.lower()
    assert not STYLE.search(text), "inline style: use a class in static/css (the CSP blocks it)"


def test_the_template_scan_catches_inline_code():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/js/x.js"></script>')
    assert not INLINE_SCRIPT.search('<script id="d" type="application/json">{}</script>')
    assert EVENT_HANDLER.search('<button onclick="x()">')
    assert STYLE.search('<div style="color: red">')


# -- CSRF and uploads ------------------------------------------------------------------
def test_csrf_protection_covers_every_view():
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    offenders = [
        str(path.relative_to(ROOT))
        for app in OURS
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts and "csrf_exempt" in path.read_text()
    ]
    # The one exemption: RFC 8058 one-click unsubscribe, which mail providers
    # POST without our page (the signed token is the authority; it only
    # turns the patient's own reminders off or on).
    assert offenders in ([], ["appointments/links.py"]), offenders
    if offenders:
        source = (ROOT / "appointments/links.py").read_text()
        assert (
            source.count("@csrf_exempt") == 1
            and "def unsubscribe(" in source.split("@csrf_exempt", 1)[1][:400]
        )


@pytest.mark.django_db
def test_a_form_post_without_the_csrf_token_is_refused(front_desk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(front_desk)
    response = client.post(reverse("patients:create"), {"first_name": "A"})
    assert response.status_code == 403


def test_no_model_takes_uploads():
    """Nothing is uploaded today; a FileField would need type, size and name
    validation (and storage outside the web root) before it lands."""
    uploads = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in OURS
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]
    assert not uploads, uploads


# -- the rate limiter (for the patient's signed links under /r/) -----------------------
@pytest.fixture
def fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_rate_limit_allows_up_to_the_limit_per_client_then_429(fresh_cache, rf: RequestFactory, time_machine):
    time_machine.move_to("2030-01-01 10:00:00+00:00", tick=False)

    @rate_limit("test-link", limit=3, period=60)
    def view(request):
        from django.http import HttpResponse

        return HttpResponse("ok")

    def call(address):
        request = rf.get("/r/x/", REMOTE_ADDR=address)
        return view(request)

    assert [call("10.0.0.1").status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = call("10.0.0.1")
    assert refused["Retry-After"] == "60" and b"Too many requests" in refused.content
    assert call("10.0.0.2").status_code == 200  # another client has its own count
    time_machine.move_to("2030-01-01 10:01:00+00:00", tick=False)
    assert call("10.0.0.1").status_code == 200  # a new window


def test_rate_limit_fails_open_when_the_cache_is_down(monkeypatch, caplog):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "add", broken)
    assert hit(scope="x", key="10.0.0.1", limit=1, period=60)
    assert "cache unavailable" in caplog.text


@override_settings(RATELIMIT_USE_X_FORWARDED_FOR=True)
def test_rate_limit_reads_the_proxys_address_when_told(rf):
    from clinic.ratelimit import client_address

    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.9", REMOTE_ADDR="127.0.0.1")
    assert client_address(request) == "10.0.0.9"


# -- logs hold ids ---------------------------------------------------------------------
def test_redaction_keeps_paths_and_ids_but_not_queries_emails_or_values():
    line = '"GET /patients/?q=Smith HTTP/1.1" 200 512'
    assert redact(line) == '"GET /patients/?[redacted] HTTP/1.1" 200 512'
    assert redact("Not Found: /patients/42/") == "Not Found: /patients/42/"
    assert redact("mail to jane.doe@example.org failed") == "mail to [email] failed"
    detail = "DETAIL:  Key (email, last_name)=(jane@example.org, Doe) already exists."
    assert redact(detail) == "DETAIL:  Key (email, last_name)=([redacted]) already exists."


def test_the_filter_redacts_formatted_messages_and_tracebacks():
    try:
        raise ValueError("Key (last_name)=(Doe) already exists")
    except ValueError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Error: %s", ("/x?q=Doe",), sys.exc_info()
        )
    assert RedactFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "Doe" not in text and "Error: /x?[redacted]" in text


@pytest.mark.django_db
def test_requests_log_no_patient_names(client, therapist_user, caplog):
    from patients.tests.factories import PatientFactory

    patient = PatientFactory(last_name="Quixotewell", email="quixote@example.invalid")
    client.force_login(therapist_user)
    caplog.set_level(logging.INFO)
    client.get(reverse("patients:list"), {"q": "Quixotewell"})
    client.get(f"/patients/{patient.pk + 1000}/?q=Quixotewell")  # a 404 is logged
    client.post(reverse("login"), {"username": "Quixotewell", "password": "x"})  # a failed login
    lines = [logging.Formatter().format(r) for r in caplog.records if RedactFilter().filter(r)]
    assert lines  # something was logged
    assert not [line for line in lines if "Quixote" in line or "quixote@" in line]


def test_our_log_calls_pass_no_names():
    """Our own logger calls: no patient or user attributes in the arguments."""
    calls = []
    for app in OURS:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for line in path.read_text().splitlines():
                if re.search(r"\blogger\.\w+\(", line):
                    calls.append((path.name, line.strip()))
    assert calls
    named = [c for c in calls if re.search(r"name|email|phone|\.subjective|\.text|full_name", c[1])]
    assert not named, named


def test_gunicorn_access_lines_leave_out_query_strings_and_referrers():
    namespace: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)  # our own config file
    fmt = namespace["access_log_format"]
    assert "%(U)s" in fmt
    assert not any(code in fmt for code in ("%(r)s", "%(q)s", "%(f)s", "%({"))
