"""Response headers every answer carries: no caching of anything a signed-in
user sees (a shared front-desk browser keeps no health data), a
Permissions-Policy, static files with their long cache, and /favicon.ico."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

NO_STORE = "no-store"


def _private(response) -> bool:
    return NO_STORE in response["Cache-Control"] and response["Pragma"] == "no-cache"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["home", "patients:list", "treatments:list", "appointments:day", "appointments:calendar"]
)
def test_every_signed_in_page_is_no_store(client, front_desk, name):
    client.force_login(front_desk)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert _private(response), response.get("Cache-Control")


@pytest.mark.django_db
def test_api_answers_are_no_store_with_a_token_and_with_a_session(front_desk):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=front_desk).key}")
    assert _private(api.get("/api/v1/patients/"))
    assert _private(api.get("/api/v1/nowhere/"))  # a 404 too
    session = Client()
    session.force_login(front_desk)
    assert _private(session.get("/api/v1/patients/"))


@pytest.mark.django_db
def test_public_answers_are_not_cached_either():
    client = Client()
    assert _private(client.get(reverse("login")))
    assert _private(client.get(reverse("healthz")))
    assert _private(client.get("/r/not-a-token/"))


@pytest.mark.django_db
def test_permissions_policy_denies_what_no_page_uses(client, front_desk):
    client.force_login(front_desk)
    policy = client.get(reverse("home"))["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy
    assert "camera=()" in Client().get(reverse("login"))["Permissions-Policy"]


def test_static_files_keep_their_long_cache(settings):
    """WhiteNoise answers static files before our middleware runs: they keep
    WhiteNoise's cache header, never no-store."""
    settings.WHITENOISE_USE_FINDERS = True  # serve from static/ (no collectstatic in tests)
    settings.WHITENOISE_MAX_AGE = 31536000
    response = Client().get("/static/css/phoresis.css")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=31536000, public"
    assert "Pragma" not in response
    index = settings.MIDDLEWARE.index
    assert index("whitenoise.middleware.WhiteNoiseMiddleware") < index(
        "clinic.middleware.PrivateResponseMiddleware"
    )


@pytest.mark.django_db
def test_favicon_is_served_publicly_with_a_cache():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=86400" in response["Cache-Control"] and NO_STORE not in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/nowhere/", "/api/v1/plans/x/y/z/", "/api/v2/"])
def test_an_unknown_api_url_answers_json_404(front_desk, path):
    api = APIClient()
    api.force_authenticate(front_desk)
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
    anonymous = APIClient().get(path)
    assert anonymous.status_code == 404 and anonymous.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_an_unknown_page_still_answers_the_html_404(client, front_desk):
    client.force_login(front_desk)
    response = client.get("/nowhere/")
    assert response.status_code == 404 and b"<html" in response.content.lower()
