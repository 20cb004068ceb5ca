"""Signed links for the patient's side of the program (no accounts).

- Intake: the visit's own signed link (appointments.reminders.tokens,
  purpose "intake"); it stops when the visit starts.
- Home log: signed over (program, link version) without expiry — a patient
  logs for months; rotating the link bumps the version (the old one answers
  403 at once) and revoking closes it.
"""

from __future__ import annotations

from django.core import signing

from appointments.models import Appointment
from appointments.reminders.tokens import LinkExpired, LinkInvalid, absolute_url, make_token, read_token
from homecare.models import HomeProgram

_HOME = "homecare.home"


class LinkClosed(Exception):
    """Genuine, but no longer usable: the visit started, or the link was
    replaced or revoked."""


def intake_url(appointment: Appointment) -> str:
    return absolute_url("homelinks:intake", make_token(appointment, "intake"))


def read_intake(token: str) -> Appointment:
    """The visit's own signed link (appointments.reminders.tokens), for the
    questions before it: closed once the visit started or is no longer ahead."""
    try:
        appointment = read_token(token, "intake")
    except LinkExpired as exc:
        raise LinkClosed from exc
    if appointment.status not in Appointment.UPCOMING_STATUSES:
        raise LinkClosed
    return appointment


def home_token(program: HomeProgram) -> str:
    return signing.Signer(salt=_HOME).sign(f"{program.pk}.{program.link_version}")


def home_url(program: HomeProgram) -> str:
    return absolute_url("homelinks:home", home_token(program))


def read_home(token: str) -> HomeProgram:
    try:
        pk, version = (int(part) for part in signing.Signer(salt=_HOME).unsign(token).split("."))
        program = HomeProgram.objects.select_related("plan__patient").get(pk=pk)
    except (signing.BadSignature, ValueError, HomeProgram.DoesNotExist) as exc:
        raise LinkInvalid from exc
    if version != program.link_version or not program.link_active:
        raise LinkClosed
    return program
