"""Login protection: lockout after five wrong passwords (pages, API token,
note signing), idle logout with a warning, sessions end with the browser."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from clinic.tests.world import PASSWORD, World, build_world

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_account_until_the_cool_off_ends(client, front_desk, time_machine):
    time_machine.move_to(dt.datetime(2030, 3, 4, 9, tzinfo=dt.UTC), tick=False)
    for _ in range(5):
        assert _login(client, "fd", "wrong-password").status_code in (200, 429)
    refused = _login(client, "fd", PASSWORD)  # the sixth, with the right password
    assert refused.status_code == 429
    assert "locked" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    time_machine.move_to(dt.datetime(2030, 3, 4, 9, 29, tzinfo=dt.UTC), tick=False)
    assert _login(client, "fd", PASSWORD).status_code == 429  # still within the 30 minutes
    time_machine.move_to(dt.datetime(2030, 3, 4, 10, 1, tzinfo=dt.UTC), tick=False)
    assert _login(client, "fd", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(front_desk.pk)


def test_four_wrong_passwords_do_not_lock_and_a_success_resets_the_count(client, front_desk):
    for _ in range(4):
        _login(client, "fd", "wrong-password")
    assert _login(client, "fd", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, "fd", "wrong-password")
    assert _login(client, "fd", PASSWORD).status_code == 302


def test_the_lockout_is_per_username(client, front_desk, therapist_user):
    for _ in range(5):
        _login(client, "fd", "wrong-password")
    assert _login(client, "th", PASSWORD).status_code == 302


def test_the_api_token_endpoint_locks_too(front_desk):
    api = APIClient()
    for _ in range(5):
        assert api.post("/api/v1/auth/token/", {"username": "fd", "password": "nope"}).status_code in (
            400,
            429,
        )
    refused = api.post("/api/v1/auth/token/", {"username": "fd", "password": PASSWORD})
    assert refused.status_code == 429
    assert "token" not in refused.json() and "locked" in refused.json()["detail"]


def test_the_admin_login_locks_too(client, clinic_admin):
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "ca", "password": "nope"})
    refused = client.post(reverse("admin:login"), {"username": "ca", "password": PASSWORD})
    assert refused.status_code == 429


@pytest.fixture
def world(db, time_machine) -> World:
    return build_world(time_machine)


def test_wrong_passwords_when_signing_a_note_count_toward_the_lockout(world):
    from notes.models import SessionNote

    therapist = world.users["therapist"]
    # The world's note, back to a draft so there is something to sign.
    note = world.note
    SessionNote.objects.filter(pk=note.pk).update(
        status=SessionNote.Status.DRAFT, signed_by=None, signed_at=None
    )
    api = APIClient()
    api.force_authenticate(therapist)
    url = f"/api/v1/appointments/{world.appointment.pk}/note/sign/"
    for _ in range(4):
        response = api.post(url, {"password": "nope"}, format="json")
        assert response.status_code == 400 and "password" in response.json()
    assert api.post(url, {"password": "nope"}, format="json").status_code == 429  # the fifth locks
    assert api.post(url, {"password": PASSWORD}, format="json").status_code == 429
    assert SessionNote.objects.get(pk=note.pk).status == SessionNote.Status.DRAFT
    assert (
        APIClient().post("/api/v1/auth/token/", {"username": "th", "password": PASSWORD}).status_code == 429
    )


# -- idle logout -------------------------------------------------------------------
def test_a_session_idle_for_30_minutes_is_logged_out_with_a_message(client, front_desk, time_machine):
    time_machine.move_to(dt.datetime(2030, 3, 4, 9, tzinfo=dt.UTC), tick=False)
    client.force_login(front_desk)
    assert client.get(reverse("patients:list")).status_code == 200
    time_machine.move_to(dt.datetime(2030, 3, 4, 9, 29, tzinfo=dt.UTC), tick=False)
    assert client.get(reverse("patients:list")).status_code == 200  # activity restarts the clock
    time_machine.move_to(dt.datetime(2030, 3, 4, 9, 58, tzinfo=dt.UTC), tick=False)
    assert client.get(reverse("patients:list")).status_code == 200
    time_machine.move_to(dt.datetime(2030, 3, 4, 10, 29, tzinfo=dt.UTC), tick=False)
    response = client.get(reverse("patients:list"), follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "logged out after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_keepalive_counts_as_activity(client, front_desk, time_machine):
    time_machine.move_to(dt.datetime(2030, 3, 4, 9, tzinfo=dt.UTC), tick=False)
    client.force_login(front_desk)
    time_machine.move_to(dt.datetime(2030, 3, 4, 9, 26, tzinfo=dt.UTC), tick=False)
    assert client.post(reverse("keepalive")).status_code == 204
    time_machine.move_to(dt.datetime(2030, 3, 4, 9, 50, tzinfo=dt.UTC), tick=False)
    assert client.get(reverse("home")).status_code == 200


def test_pages_carry_the_idle_warning_settings_and_script(client, front_desk):
    client.force_login(front_desk)
    body = client.get(reverse("home")).content.decode()
    assert f'data-idle-timeout="{settings.IDLE_TIMEOUT_MINUTES * 60}"' in body
    assert 'data-idle-warning="300"' in body
    assert 'id="idle-warning"' in body and "js/phoresis.js" in body
    assert client.get(reverse("login")).status_code == 302  # (signed in: no login page)


def test_sessions_end_when_the_browser_closes(client, front_desk):
    response = _login(client, "fd", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie
    assert cookie["httponly"]


def test_weak_passwords_are_refused(clinic_admin):
    api = APIClient()
    api.force_authenticate(clinic_admin)
    for weak in ("short", "password123", "1234567890123", "newuser-1"):
        response = api.post(
            "/api/v1/users/",
            {"username": "newuser", "password": weak, "role": "front_desk", "email": "n@example.invalid"},
            format="json",
        )
        assert response.status_code == 400 and "password" in response.json(), weak
    ok = api.post(
        "/api/v1/users/",
        {"username": "newuser", "password": "Correct-Horse-Battery-9", "role": "front_desk"},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["role"] == "front_desk"
    listed = api.get("/api/v1/users/").json()["results"]
    assert {u["username"]: u["role"] for u in listed}["newuser"] == "front_desk"
