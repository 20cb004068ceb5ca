import datetime as dt
from decimal import Decimal

import pytest

from appointments.tests.conftest import next_weekday
from appointments.tests.test_tasks import _roles, broker, env, smtp_sink_fixture  # noqa: F401
from clinic.localtime import local_datetime
from clinic.tests.factories import UserFactory
from homecare import services
from notes.tests import test_clinical_safety as clinical
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.tests.factories import PlanFactory

# The clinic of the R16–R21 tests (a room with a device of each kind, a
# therapist); the broker, worker and SMTP server of the reminder tests above.
clinic = clinical.clinic
therapist = clinical.therapist

PROGRAM = {
    "device": "Hidrex home unit",
    "site": "hands",
    "current_ma": Decimal("14"),
    "minutes": 20,
    "sessions_per_week": 3,
    "polarity_alternation": "midway",
}


@pytest.fixture
def front_desk_user(db):
    return UserFactory(username="desk", role="front_desk")


@pytest.fixture
def day() -> dt.date:
    return next_weekday(1)


@pytest.fixture
def start_of_day(day, time_machine):
    """The clock at 08:00 clinic time on the test's day."""
    moment = local_datetime(day, dt.time(8))
    time_machine.move_to(moment, tick=False)
    return moment


@pytest.fixture
def tap_plan(clinic):
    patient = PatientFactory(first_name="Harper", last_name="Dewitt", date_of_birth=dt.date(1990, 5, 1))
    ScreeningFactory(patient=patient)
    return PlanFactory(patient=patient, tap_water=True)


@pytest.fixture
def program(tap_plan, therapist, start_of_day):
    return services.program_start(plan=tap_plan, user=therapist, values=PROGRAM)
