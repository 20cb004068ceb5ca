"""A therapist finds their calendar feed on the dashboard and through
`me/calendar-feed/`, and can replace its token: the old URL answers 403 at
once, the new one serves the feed."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from appointments.tests.factories import TherapistFactory

FEED = "/api/v1/calendar.ics"


def _token(url: str) -> str:
    return url.split("token=", 1)[1]


@pytest.fixture
def me(db):
    return TherapistFactory(display_name="Theo")


@pytest.fixture
def api(me):
    client = APIClient()
    client.force_authenticate(me.user)
    return client


def test_the_api_gives_the_therapist_their_feed_url(api, me, settings):
    body = api.get("/api/v1/me/calendar-feed/").json()
    assert body == {"url": f"{settings.SITE_URL.rstrip('/')}{FEED}?token={me.calendar_token}"}
    assert Client().get(FEED, {"token": _token(body["url"])}).status_code == 200


def test_rotating_the_token_turns_the_old_url_away_at_once(api, me):
    old = _token(api.get("/api/v1/me/calendar-feed/").json()["url"])
    rotated = api.post("/api/v1/me/calendar-feed/")
    assert rotated.status_code == 200
    new = _token(rotated.json()["url"])
    assert new != old and len(new) >= 32
    me.refresh_from_db()
    assert me.calendar_token == new
    assert Client().get(FEED, {"token": old}).status_code == 403
    feed = Client().get(FEED, {"token": new})
    assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.content
    assert api.get("/api/v1/me/calendar-feed/").json()["url"].endswith(new)


@pytest.mark.django_db
def test_only_a_therapist_has_a_feed(front_desk, clinic_admin):
    client = APIClient()
    client.force_authenticate(front_desk)
    assert client.get("/api/v1/me/calendar-feed/").status_code == 403
    assert client.post("/api/v1/me/calendar-feed/").status_code == 403
    client.force_authenticate(clinic_admin)  # no therapist profile: nothing to show
    assert client.get("/api/v1/me/calendar-feed/").json() == {
        "detail": "No Therapist matches the given query."
    }


def test_the_dashboard_shows_the_feed_and_rotates_it(me):
    client = Client()
    client.force_login(me.user)
    home = client.get(reverse("home")).content.decode()
    assert "My calendar feed" in home and f"token={me.calendar_token}" in home
    assert 'for="calendar-feed-url"' in home  # a visible label
    old = me.calendar_token
    response = client.post(reverse("appointments:calendar_feed_rotate"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    me.refresh_from_db()
    assert me.calendar_token != old
    page = response.content.decode()
    assert f"token={me.calendar_token}" in page and old not in page
    assert "The old one no longer works" in page
    assert Client().get(FEED, {"token": old}).status_code == 403


@pytest.mark.django_db
def test_the_front_desk_cannot_rotate_anyones_feed(client, front_desk, me):
    client.force_login(front_desk)
    old = me.calendar_token
    assert client.post(reverse("appointments:calendar_feed_rotate")).status_code == 403
    me.refresh_from_db()
    assert me.calendar_token == old
    assert "My calendar feed" not in client.get(reverse("home")).content.decode()
