"""Clinic time: the database stores UTC, people read `CLINIC_TIME_ZONE`.

Every app renders and groups by these (a local date, a day's bounds, a
calendar week), so they live at the bottom of the layers.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings


def clinic_tz() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def local_datetime(day: dt.date, at: dt.time) -> dt.datetime:
    """The aware instant of a wall-clock time on a local date (DST-safe: the
    zone's offset on that date, not today's)."""
    return dt.datetime.combine(day, at, tzinfo=clinic_tz())


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return local_datetime(day, dt.time.min), local_datetime(day + dt.timedelta(days=1), dt.time.min)


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(clinic_tz()).date()


def hhmm(moment: dt.datetime) -> str:
    return moment.astimezone(clinic_tz()).strftime("%H:%M")


def span(start: dt.datetime, end: dt.datetime) -> str:
    """'10:00–10:30' in clinic time."""
    return f"{hhmm(start)}–{hhmm(end)}"


def week_key(moment: dt.datetime) -> tuple[int, int]:
    """The calendar week (ISO, Monday first) of an instant, in clinic time."""
    iso = local_date(moment).isocalendar()
    return iso.year, iso.week
