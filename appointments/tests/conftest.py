import datetime as dt

import pytest

from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.localtime import local_datetime
from patients.tests.factories import ScreeningFactory
from treatments.tests.factories import PlanFactory


def next_weekday(weekday: int, *, after: dt.date | None = None, weeks: int = 1) -> dt.date:
    """A date on `weekday` at least `weeks` weeks ahead (tests stay in the future)."""
    base = (after or dt.date.today()) + dt.timedelta(weeks=weeks)
    return base + dt.timedelta(days=(weekday - base.weekday()) % 7)


@pytest.fixture
def monday() -> dt.date:
    return next_weekday(0)


@pytest.fixture
def at(monday):
    """at(day_offset, "HH:MM") → aware datetime in clinic time, days after `monday`."""

    def make(offset: int, hhmm: str) -> dt.datetime:
        hour, minute = map(int, hhmm.split(":"))
        return local_datetime(monday + dt.timedelta(days=offset), dt.time(hour, minute))

    return make


@pytest.fixture
def therapist(db):
    return TherapistFactory(display_name="Theo")


@pytest.fixture
def room(db):
    return RoomFactory(name="Room 2")


@pytest.fixture
def device(db, room):
    return DeviceFactory(name="Ionto A", home_room=room)


@pytest.fixture
def plan(db):
    plan = PlanFactory()
    ScreeningFactory(patient=plan.patient)
    return plan
