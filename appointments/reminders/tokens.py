"""Signed patient links: /r/<token>/ (details), …/confirm/, …/cancel/,
…/reschedule/, and /r/unsubscribe/<token>/ (the patient's reminder opt-out).

A token is a TimestampSigner signature over the appointment id, salted with
its purpose (a details link cannot be turned into a cancel link). It expires
when the visit starts: the allowed age is the time from signing to the
visit's current start, so a link keeps working after the visit is moved
later and stops once the visit has begun.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from appointments.models import Appointment

# "intake": the home program's questions before a first visit (homecare
# builds its URL); like the others, valid until the visit starts.
PURPOSES = ("view", "confirm", "cancel", "reschedule", "intake")
URL_NAMES = {
    "view": "links:detail",
    "confirm": "links:confirm",
    "cancel": "links:cancel",
    "reschedule": "links:reschedule",
}
OPTOUT_SALT = "appointments.link.optout"


# A link's route, reversed once per route name (and script prefix) with this
# in the token's place: a sweep builds several links per message.
_PLACEHOLDER = "--token--"


@cache
def _route(name: str, prefix: str) -> str:
    return reverse(name, args=[_PLACEHOLDER])


def absolute_url(name: str, token: str) -> str:
    """SITE_URL + the named route (one `<str:token>` argument) for a token."""
    return settings.SITE_URL + _route(name, get_script_prefix()).replace(_PLACEHOLDER, token, 1)


class LinkInvalid(Exception):
    """Tampered, truncated, for another purpose, or for no appointment."""


class LinkExpired(Exception):
    """Genuine, but the visit has started."""


def _signer(purpose: str) -> signing.TimestampSigner:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    return signing.TimestampSigner(salt=f"appointments.link.{purpose}")


def make_token(appointment: Appointment, purpose: str) -> str:
    return _signer(purpose).sign(str(appointment.pk))


def link_url(appointment: Appointment, purpose: str) -> str:
    return absolute_url(URL_NAMES[purpose], make_token(appointment, purpose))


def read_token(token: str, purpose: str, *, now: dt.datetime | None = None) -> Appointment:
    signer = _signer(purpose)
    try:
        value = signer.unsign(token)
        appointment = Appointment.objects.select_related("patient", "plan").get(pk=int(value))
        signed_at = signing.b62_decode(token.rsplit(signer.sep, 2)[-2])
    except (signing.BadSignature, ValueError, Appointment.DoesNotExist) as exc:
        raise LinkInvalid from exc
    now = now or timezone.now()
    if now >= appointment.start:
        raise LinkExpired
    try:
        # The library's own age check, with the age allowed until the visit.
        signer.unsign(token, max_age=appointment.start.timestamp() - signed_at)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    return appointment


# A waitlist offer's claim link: signed over the offer (a Reminder row);
# it stops working when the offered time comes (checked by the page).
_CLAIM = signing.Signer(salt="appointments.waitlist.claim")


def make_claim_token(reminder) -> str:
    return _CLAIM.sign(str(reminder.pk))


def claim_url(reminder) -> str:
    return absolute_url("links:claim", make_claim_token(reminder))


def read_claim_token(token: str):
    from appointments.models import Reminder

    try:
        return Reminder.objects.select_related("waitlist_entry__plan", "offer_therapist", "patient").get(
            pk=int(_CLAIM.unsign(token)), kind=Reminder.Kind.WAITLIST_OFFER
        )
    except (signing.BadSignature, ValueError, Reminder.DoesNotExist) as exc:
        raise LinkInvalid from exc


# -- the reminder opt-out (List-Unsubscribe) ---------------------------------------
# Signed over the patient id, without expiry: an opt-out link in an old email
# must still work (RFC 8058 asks for it), and the page it opens shows nothing
# about the patient but the state of their reminders.
def make_optout_token(patient_id: int) -> str:
    return signing.Signer(salt=OPTOUT_SALT).sign(str(patient_id))


def optout_url(patient_id: int) -> str:
    return absolute_url("links:unsubscribe", make_optout_token(patient_id))


def read_optout_token(token: str) -> int:
    try:
        return int(signing.Signer(salt=OPTOUT_SALT).unsign(token))
    except (signing.BadSignature, ValueError) as exc:
        raise LinkInvalid from exc
