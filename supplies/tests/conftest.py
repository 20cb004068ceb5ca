import datetime as dt

import pytest

from appointments import services as scheduling
from appointments.models import Device, Room
from appointments.tests.conftest import next_weekday
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.localtime import local_datetime
from clinic.tests.factories import UserFactory
from patients.tests.factories import ScreeningFactory
from treatments.tests.factories import PlanFactory


def book_visit(
    time_machine,
    *,
    weekday: int = 1,
    at: dt.time = dt.time(10),
    day: dt.date | None = None,
    plan=None,
    **plan_kwargs,
):
    """A visit on a weekday (or `day`), the clock 20 minutes into it."""
    day = day or next_weekday(weekday)
    start = local_datetime(day, at)
    plan = plan or PlanFactory(**plan_kwargs)
    ScreeningFactory(patient=plan.patient, screened_at=start - dt.timedelta(days=1))
    if not Room.objects.exists():
        room = RoomFactory(name="Room S")
        DeviceFactory(home_room=room)
        DeviceFactory(home_room=room, kind=Device.Kind.ULTRASOUND)
        DeviceFactory(home_room=room, kind=Device.Kind.TAP_WATER)
        TherapistFactory(display_name="Sam")
    time_machine.move_to(start - dt.timedelta(hours=1), tick=False)
    appointment = scheduling.appointment_book(plan=plan, start=start)
    time_machine.move_to(start + dt.timedelta(minutes=20), tick=False)
    return appointment


@pytest.fixture
def visit(db, time_machine):
    """A dexamethasone iontophoresis visit, in progress."""
    return book_visit(time_machine)


@pytest.fixture
def therapist(db):
    return UserFactory(username="stock-th", role="therapist")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="stock-ca", role="clinic_admin", is_staff=True)
