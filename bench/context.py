"""What every benchmark of one database at one size needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.test import Client

from appointments.models import Appointment
from bench import dataset
from clinic.localtime import clinic_tz, local_day_bounds


@dataclass
class Stage:
    n: int
    anchor: dt.date
    client: Client
    user: User
    largest: bool  # the last (biggest) size of this run: profile missed goals here

    @property
    def db(self) -> str:
        return {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(connection.vendor, connection.vendor)

    @property
    def slug(self) -> str:
        return f"{connection.vendor}-{self.n}"

    @classmethod
    def make(cls, *, n: int, anchor: dt.date, largest: bool) -> Stage:
        user = User.objects.get(username=dataset.FRONT_DESK_USERNAME)
        client = Client()
        client.force_login(user)
        return cls(n=n, anchor=anchor, client=client, user=user, largest=largest)


def busiest_week(anchor: dt.date) -> tuple[dt.date, int | None, dt.date]:
    """Next week (Monday), its busiest therapist, and its busiest day: the
    front desk's typical view, with as many rows as this size gives."""
    monday = anchor + dt.timedelta(days=7 - anchor.weekday())
    start, end = local_day_bounds(monday)[0], local_day_bounds(monday + dt.timedelta(days=6))[1]
    week = Appointment.objects.filter(start__gte=start, start__lt=end)
    therapist = (
        week.exclude(status=Appointment.Status.CANCELLED)
        .values("therapist")
        .annotate(n=Count("id"))
        .order_by("-n", "therapist")
        .values_list("therapist", flat=True)
        .first()
    )
    day = (
        week.annotate(day=TruncDate("start", tzinfo=clinic_tz()))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("-n", "day")
        .values_list("day", flat=True)
        .first()
    )
    return monday, therapist, day or monday + dt.timedelta(days=1)
