"""Signed links for the patient's side of the program (no accounts).

- Intake: signed over the visit, like the /r/ links; it stops when the
  visit starts (the answers are for before it).
- Home log: signed over (program, link version) without expiry — a patient
  logs for months; rotating the link bumps the version (the old one answers
  403 at once) and revoking closes it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from homecare.models import HomeProgram

_INTAKE = "homecare.intake"
_HOME = "homecare.home"


class LinkInvalid(Exception):
    """Tampered, truncated or for nothing we know."""


class LinkClosed(Exception):
    """Genuine, but no longer usable: the visit started, or the link was
    replaced or revoked."""


def intake_token(appointment: Appointment) -> str:
    return signing.Signer(salt=_INTAKE).sign(str(appointment.pk))


def intake_url(appointment: Appointment) -> str:
    return settings.SITE_URL + reverse("homelinks:intake", args=[intake_token(appointment)])


def read_intake(token: str, *, now: dt.datetime | None = None) -> Appointment:
    try:
        pk = int(signing.Signer(salt=_INTAKE).unsign(token))
        appointment = Appointment.objects.select_related("patient").get(pk=pk)
    except (signing.BadSignature, ValueError, Appointment.DoesNotExist) as exc:
        raise LinkInvalid from exc
    if (
        now or timezone.now()
    ) >= appointment.start or appointment.status not in Appointment.UPCOMING_STATUSES:
        raise LinkClosed
    return appointment


def home_token(program: HomeProgram) -> str:
    return signing.Signer(salt=_HOME).sign(f"{program.pk}.{program.link_version}")


def home_url(program: HomeProgram) -> str:
    return settings.SITE_URL + reverse("homelinks:home", args=[home_token(program)])


def read_home(token: str) -> HomeProgram:
    try:
        pk, version = (int(part) for part in signing.Signer(salt=_HOME).unsign(token).split("."))
        program = HomeProgram.objects.select_related("plan__patient").get(pk=pk)
    except (signing.BadSignature, ValueError, HomeProgram.DoesNotExist) as exc:
        raise LinkInvalid from exc
    if version != program.link_version or not program.link_active:
        raise LinkClosed
    return program
