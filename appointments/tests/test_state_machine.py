"""Random book / cancel / reschedule / series operations never break the
scheduling invariants: no resource in two overlapping live visits (R1), no
plan over its count (R4), sessions spaced and capped per week (R5)."""

import contextlib
import datetime as dt
from collections import defaultdict
from itertools import combinations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from appointments import services
from appointments.models import Appointment
from appointments.tests.conftest import next_weekday
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.localtime import local_datetime, week_key
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.tests.factories import PlanFactory

DAYS = st.integers(min_value=0, max_value=11)
SLOTS = st.integers(min_value=0, max_value=7)  # 08:00 … 15:00, on the hour and half hour
INDEX = st.integers(min_value=0, max_value=50)


class Scheduling(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.monday = next_weekday(0)
        self.therapists = [TherapistFactory(), TherapistFactory()]
        self.rooms = [RoomFactory(name="SM Room 1"), RoomFactory(name="SM Room 2")]
        self.devices = [DeviceFactory(), DeviceFactory()]
        shared = PatientFactory()  # two plans of one patient: R1 for patients too
        self.plans = []
        for kwargs in (
            {"patient": shared},
            {"patient": shared, "sessions_authorized": 3},
            {},
            {"frequency_per_week": 3},
        ):
            plan = PlanFactory(**kwargs)
            ScreeningFactory(patient=plan.patient)
            self.plans.append(plan)

    def teardown(self):
        if hasattr(self, "atomic"):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

    def _start(self, day: int, slot: int) -> dt.datetime:
        hour, half = divmod(slot * 90, 60)
        return local_datetime(self.monday + dt.timedelta(days=day), dt.time(8 + hour, half))

    def _pick(self, index: int, statuses=Appointment.UPCOMING_STATUSES):
        live = list(Appointment.objects.filter(status__in=statuses).order_by("pk"))
        return live[index % len(live)] if live else None

    @rule(plan=INDEX, day=DAYS, slot=SLOTS, therapist=st.none() | INDEX)
    def book(self, plan, day, slot, therapist):
        with contextlib.suppress(ValidationError):
            services.appointment_book(
                plan=self.plans[plan % len(self.plans)],
                start=self._start(day, slot),
                therapist=None if therapist is None else self.therapists[therapist % 2],
            )

    @rule(index=INDEX)
    def cancel(self, index):
        appointment = self._pick(index)
        if appointment is not None:
            services.appointment_cancel(appointment=appointment, reason="state machine")

    @rule(index=INDEX, day=DAYS, slot=SLOTS)
    def reschedule(self, index, day, slot):
        appointment = self._pick(index)
        if appointment is None:
            return
        with contextlib.suppress(ValidationError):
            services.appointment_reschedule(appointment=appointment, start=self._start(day, slot))

    @rule(plan=INDEX, day=DAYS, slot=SLOTS, partial=st.booleans())
    def series(self, plan, day, slot, partial):
        with contextlib.suppress(ValidationError):
            services.series_book(
                plan=self.plans[plan % len(self.plans)], start=self._start(day, slot), allow_partial=partial
            )

    @invariant()
    def no_resource_is_double_booked(self):
        if not hasattr(self, "plans"):
            return
        live = list(Appointment.objects.exclude(status=Appointment.Status.CANCELLED))
        for a, b in combinations(live, 2):
            if a.start < b.end and b.start < a.end:
                for resource in ("therapist_id", "room_id", "device_id", "patient_id"):
                    assert getattr(a, resource) != getattr(b, resource), (resource, a, b)

    @invariant()
    def plans_keep_their_count_spacing_and_weekly_cap(self):
        if not hasattr(self, "plans"):
            return
        for plan in self.plans:
            starts = sorted(
                Appointment.objects.filter(plan=plan, status__in=Appointment.ACTIVE_STATUSES).values_list(
                    "start", flat=True
                )
            )
            assert len(starts) <= plan.session_limit
            gap = dt.timedelta(hours=plan.min_interval_hours)
            assert all(b - a >= gap for a, b in zip(starts, starts[1:], strict=False))
            per_week = defaultdict(int)
            for start in starts:
                per_week[week_key(start)] += 1
            assert all(n <= plan.frequency_per_week for n in per_week.values())


@pytest.mark.django_db
@pytest.mark.slow
def test_random_operations_keep_the_scheduling_invariants():
    machine = Scheduling.TestCase
    machine.settings = settings(
        max_examples=25,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        derandomize=True,
    )
    machine().runTest()
