"""Every view a token alone opens is rate limited per client, through the
real views: the patient's signed links (/r/…), a therapist's calendar feed
and the API's token endpoint. Over the limit: 429 with Retry-After and no
data; another client is not affected; the next minute counts again."""

import pytest
from django.test import Client
from django.urls import reverse

from clinic.ratelimit import CALENDAR_FEED_LIMIT, SIGNED_LINK_LIMIT, TOKEN_LIMIT

NOW = "2030-01-07 15:00:10+00:00"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.mark.django_db
def test_the_30th_bad_signed_link_token_within_a_minute_answers_429(clock):
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [client.get(f"/r/bad-token-{n}/").status_code for n in range(30)]
    assert statuses[:SIGNED_LINK_LIMIT] == [400] * SIGNED_LINK_LIMIT
    assert statuses[29] == 429 and set(statuses[SIGNED_LINK_LIMIT:]) == {429}
    refused = client.get("/r/bad-token/cancel/")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"  # the window turns over at 15:01:00
    assert b"Too many requests" in refused.content
    # POSTs count too (confirm/cancel are POSTs)
    assert client.post("/r/bad-token/confirm/").status_code == 429
    # Another client has its own count; a new minute starts again.
    assert Client(REMOTE_ADDR="203.0.113.8").get("/r/bad-token/").status_code == 400
    clock.move_to("2030-01-07 15:01:00+00:00", tick=False)
    assert client.get("/r/bad-token/").status_code == 400


@pytest.mark.django_db
def test_wrong_calendar_feed_tokens_are_throttled(clock):
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [client.get("/api/v1/calendar.ics", {"token": f"guess-{n}"}).status_code for n in range(40)]
    assert statuses[:CALENDAR_FEED_LIMIT] == [403] * CALENDAR_FEED_LIMIT
    assert set(statuses[CALENDAR_FEED_LIMIT:]) == {429}
    refused = client.get("/api/v1/calendar.ics", {"token": "x"})
    assert refused["Retry-After"] == "50"
    assert refused.json() == {"detail": "Too many requests. Please wait a minute and try again."}


@pytest.mark.django_db
def test_the_token_endpoint_is_throttled_per_client(clock):
    client = Client(REMOTE_ADDR="203.0.113.10")
    url = reverse("api:token")
    statuses = [
        client.post(
            url, {"username": f"nobody{n}", "password": "x"}, content_type="application/json"
        ).status_code
        for n in range(TOKEN_LIMIT + 2)
    ]
    assert statuses[:TOKEN_LIMIT] == [400] * TOKEN_LIMIT
    assert statuses[TOKEN_LIMIT:] == [429, 429]
    refused = client.post(url, {"username": "a", "password": "b"}, content_type="application/json")
    assert refused.status_code == 429 and "Retry-After" in refused
    assert set(refused.json()) == {"detail"}
