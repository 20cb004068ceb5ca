"""Every URL in the urlconf needs a login, except the few public ones."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinic.roles import Role, has_role, role_of

# Views that are public by design (ARCHITECTURE.md): health check, login, and
# the patient's signed-link pages (their token is the credential); /metrics
# takes a bearer token instead of a login (clinic/tests/test_observability.py).
PUBLIC_NAMES = {"healthz", "favicon", "login", "token", "metrics"}
PUBLIC_PREFIXES = ("/r/",)


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _example_path(route: str) -> str:
    """Turn a route (path() or re_path() syntax) into a concrete URL."""
    path = re.sub(r"\(\?P<format>[^)]*\)", "", route)  # DRF's optional .json suffix
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = re.sub(r"<int:\w+>", "1", path)
    path = re.sub(r"<(?:\w+:)?\w+>", "x", path)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "")
    path = re.sub(r"\\\.|\\", "", path)
    path = path.replace("?", "")
    return "/" + path


def all_routes():
    routes = _walk(get_resolver().url_patterns)
    return sorted({(_example_path(route), entry.name or "") for route, entry in routes})


def protected_paths():
    return [p for p, name in all_routes() if name not in PUBLIC_NAMES and not p.startswith(PUBLIC_PREFIXES)]


@pytest.mark.django_db
@pytest.mark.parametrize("path", protected_paths())
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    if path.startswith("/api/"):
        assert response.status_code in (401, 403), path
    else:
        assert response.status_code == 302, path
        assert response["Location"].startswith((reverse("login"), "/admin/login/")), path


def test_walk_finds_the_app_urls():
    paths = {path for path, _ in all_routes()}
    assert "/" in paths
    assert "/healthz" in paths
    assert any(p.startswith("/api/v1/") for p in paths)


@pytest.mark.django_db
def test_public_urls_answer_anonymously(client):
    assert client.get(reverse("healthz")).status_code in (200, 503)
    assert client.get(reverse("login")).status_code == 200


@pytest.mark.django_db
def test_the_three_role_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "front_desk",
        "therapist",
        "clinic_admin",
    }


@pytest.mark.django_db
def test_demo_front_desk_logs_in_with_the_demo_password(client, settings):
    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)  # idempotent
    response = client.post(reverse("login"), {"username": "frontdesk", "password": settings.DEMO_PASSWORD})
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "Front desk" in home.content.decode()


@pytest.mark.django_db
def test_wrong_password_rerenders_the_form_with_the_username_kept(client, front_desk):
    response = client.post(reverse("login"), {"username": "fd", "password": "nope"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Please enter a correct username and password" in body
    assert 'value="fd"' in body


@pytest.mark.django_db
def test_role_helpers(front_desk, therapist_user, clinic_admin):
    assert has_role(front_desk, Role.FRONT_DESK)
    assert not has_role(front_desk, Role.THERAPIST)
    assert has_role(clinic_admin, Role.THERAPIST)  # admins may do everything
    assert role_of(therapist_user) == Role.THERAPIST


@pytest.mark.django_db
def test_navigation_depends_on_role(client, front_desk, clinic_admin):
    client.force_login(front_desk)
    assert "/admin/" not in client.get(reverse("home")).content.decode()
    client.force_login(clinic_admin)
    assert "/admin/" in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_unknown_page_gets_the_friendly_404(client, front_desk):
    client.force_login(front_desk)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
def test_logout_ends_the_session(client, front_desk):
    client.force_login(front_desk)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302
