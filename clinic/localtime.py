"""Clinic time: the database stores UTC, people read `CLINIC_TIME_ZONE`.

Every app renders and groups by these (a local date, a day's bounds, a
calendar week), so they live at the bottom of the layers.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


@cache
def clinic_tz() -> ZoneInfo:
    """The clinic's zone (read once: a slot search asks thousands of times)."""
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


@receiver(setting_changed)
def _zone_changed(*, setting: str, **kwargs) -> None:
    if setting == "CLINIC_TIME_ZONE":  # tests that move the clinic
        clinic_tz.cache_clear()


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


# The dates the schedule can hold: far enough for any visit, expiry or birth
# date, near enough that a day's bounds, a week or a series of sessions never
# leave what Python's datetime can represent (years 1–9999): a date outside
# is the user's input error (400), never an OverflowError (500).
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)
OUT_OF_RANGE = "Enter a date between 1900 and 2999."


def date_in_range(value: dt.date | dt.datetime) -> bool:
    day = value.date() if isinstance(value, dt.datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def validate_date_range(value: dt.date | dt.datetime) -> None:
    """A field validator (forms, DRF, django-filter): 400 with the field's error."""
    from django.core.exceptions import ValidationError

    if value is not None and not date_in_range(value):
        raise ValidationError(OUT_OF_RANGE, code="date_range")
