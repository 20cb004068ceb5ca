"""Random book / cancel / reschedule / series / hold / resume / maintenance /
check-in / sign operations never break the invariants: no resource in two
overlapping live visits (R1), no plan over its count (R4), sessions spaced
and capped per week (R5), and no visit of a held plan checked in or signed
(R16). Every run books at least one session."""

import contextlib
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from itertools import combinations

import pytest
import time_machine
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
from notes import services as notes
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments import services as plan_services
from treatments.models import TreatmentPlan
from treatments.tests.factories import PlanFactory

NOTE = {
    "iontophoresis": {
        "current_ma": Decimal("4"),
        "treatment_minutes": Decimal("10"),
        "polarity": "negative",
        "electrode_type": "buffered",
        "medication_lot": "SM-1",
        "medication_volume_ml": Decimal("1.5"),
        "timed_minutes": 10,
    },
    "tap_water": {
        "tray": "hands",
        "current_ma": Decimal("15"),
        "treatment_minutes": Decimal("20"),
        "hdss": 2,
    },
}
CHECKS = {"skin_before": "normal", "skin_after": "normal", "pain_before": 3, "pain_after": 2}

DAYS = st.integers(min_value=0, max_value=11)
SLOTS = st.integers(min_value=0, max_value=7)  # 08:00 … 15:00, on the hour and half hour
INDEX = st.integers(min_value=0, max_value=50)
PASSWORD = "phoresis-demo"


class Scheduling(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.monday = next_weekday(0)
        self.therapists = [TherapistFactory(), TherapistFactory()]
        self.rooms = [RoomFactory(name="SM Room 1"), RoomFactory(name="SM Room 2")]
        self.devices = [DeviceFactory(), DeviceFactory(), DeviceFactory(kind="tap_water")]
        self.signer = self.therapists[0].user
        shared = PatientFactory()  # two plans of one patient: R1 for patients too
        self.plans = []
        for kwargs in (
            {"patient": shared},
            {"patient": shared, "sessions_authorized": 3},
            {},
            {"frequency_per_week": 3},
            {"tap_water": True},  # maintenance (R21)
        ):
            plan = PlanFactory(**kwargs)
            ScreeningFactory(patient=plan.patient)
            self.plans.append(plan)
        # Every run books at least one session: the machine must exercise bookings.
        first = services.appointment_book(plan=self.plans[2], start=self._start(0, 0))
        assert first.pk is not None
        self.bookings = 1
        self.signed = 0
        self.treated_while_held: list[tuple[str, int]] = []

    def teardown(self):
        if hasattr(self, "bookings"):
            assert self.bookings >= 1
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
            self.bookings += 1

    def _plan(self, index: int) -> TreatmentPlan:
        return TreatmentPlan.objects.get(pk=self.plans[index % len(self.plans)].pk)

    @rule(plan=INDEX)
    def hold(self, plan):
        with contextlib.suppress(ValidationError):
            plan_services.plan_hold(plan=self._plan(plan), user=self.signer, reason="state machine")

    @rule(plan=INDEX)
    def resume(self, plan):
        with contextlib.suppress(ValidationError):
            plan_services.plan_resume(plan=self._plan(plan), user=self.signer)

    @rule(plan=INDEX, days=st.integers(min_value=0, max_value=40))
    def maintenance(self, plan, days):
        target = self._plan(plan)
        try:
            plan_services.plan_enter_maintenance(plan=target, user=self.signer, interval_days=days)
        except ValidationError:
            return
        assert target.modality == "tap_water" and target.status == "active" and days >= 1

    @rule(index=INDEX)
    def check_in(self, index):
        appointment = self._pick(index)
        if appointment is None:
            return
        held = appointment.plan.status == TreatmentPlan.Status.ON_HOLD
        try:
            services.appointment_check_in(appointment=appointment, now=appointment.start)
        except ValidationError:
            return
        if held:
            self.treated_while_held.append(("checked in", appointment.pk))

    @rule(index=INDEX)
    def sign(self, index):
        appointment = self._pick(index, statuses=Appointment.BOOKED_STATUSES)
        if appointment is None:
            return
        plan = appointment.plan
        values = {**NOTE.get(plan.modality, NOTE["iontophoresis"]), **CHECKS}
        values.setdefault("medication_expiry", appointment.start.date() + dt.timedelta(days=30))
        if plan.modality == "tap_water":
            values.pop("medication_expiry")
        held = plan.status == TreatmentPlan.Status.ON_HOLD
        with time_machine.travel(appointment.start + dt.timedelta(minutes=25), tick=False):
            try:
                notes.note_save(appointment=appointment, values=values, user=self.signer)
                notes.note_sign(appointment=appointment, user=self.signer, password=PASSWORD)
            except ValidationError:
                return
        self.signed += 1
        if held:
            self.treated_while_held.append(("signed", appointment.pk))

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
    def no_visit_of_a_held_plan_was_checked_in_or_signed(self):
        assert getattr(self, "treated_while_held", []) == []

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
