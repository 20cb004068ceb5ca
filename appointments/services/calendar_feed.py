"""A therapist's personal calendar feed: its URL carries the credential, so
the therapist can replace it (a lost phone, a shared link) and the old URL
stops working at once."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from appointments.models import Therapist, _calendar_token


def calendar_feed_url(*, therapist: Therapist) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse('api:calendar-feed')}?token={therapist.calendar_token}"


@transaction.atomic
def calendar_feed_rotate(*, therapist: Therapist) -> Therapist:
    """A new token; the feed answers 403 to the old one from this commit on
    (the feed looks the token up on every request, nothing caches it)."""
    therapist = Therapist.objects.select_for_update().get(pk=therapist.pk)
    therapist.calendar_token = _calendar_token()
    therapist.save(update_fields=["calendar_token", "updated_at"])
    return therapist
