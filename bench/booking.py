"""Booking one session through the API (every rule R1–R5, the insert, the
history row, the response) against a bare view doing one INSERT of the same
row. Each booking gets its own plan (a waiting referral) and its own time,
a month past the seeded horizon, so no booking is refused; every row made
here is deleted afterwards."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from appointments.models import Appointment, ClinicClosure, Device, Reminder, Room, Therapist
from bench import dataset, harness
from bench.context import Stage
from bench.profiling import profile
from clinic.localtime import local_datetime
from treatments.models import TreatmentPlan

NAME = "Booking via API (rules + insert)"
# Pattern 0 (Mon–Fri 08:00–12:00, 12:30–16:30): 45-minute steps fit every modality.
TIMES = [dt.time(8, 0), dt.time(8, 45), dt.time(9, 30), dt.time(10, 15), dt.time(11, 0)] + [
    dt.time(12, 30),
    dt.time(13, 15),
    dt.time(14, 0),
    dt.time(14, 45),
    dt.time(15, 30),
]


def free_starts(anchor: dt.date) -> Iterator[dt.datetime]:
    """Distinct, non-overlapping starts on working days past the seeded horizon."""
    day = anchor + dt.timedelta(days=dataset.DAYS_AHEAD + 30)
    closed = set(ClinicClosure.objects.filter(start_date__gte=day).values_list("start_date", flat=True))
    while True:
        if day.weekday() < 5 and day not in closed:
            for at in TIMES:
                yield local_datetime(day, at)
        day += dt.timedelta(days=1)


def run(stage: Stage) -> list[dict]:
    therapist = Therapist.objects.get(user__username=f"{dataset.USERNAME_PREFIX}therapist-01")
    plans = iter(
        TreatmentPlan.objects.filter(
            indication=dataset.WAITING_INDICATION, status=TreatmentPlan.Status.ACTIVE
        ).order_by("pk")
    )
    starts = free_starts(stage.anchor)
    made: list[int] = []

    def ours():
        plan, start = next(plans), next(starts)
        response = stage.client.post(
            "/api/v1/appointments/",
            {"plan": plan.pk, "start": start.isoformat(), "therapist": therapist.pk},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        made.append(response.json()["id"])

    room = Room.objects.filter(name=f"{dataset.ROOM_PREFIX}13").get()  # every modality
    devices = {
        kind: Device.objects.filter(kind=kind, serial_number__startswith=dataset.DEVICE_SERIAL_PREFIX)
        .order_by("pk")
        .first()
        .pk
        for kind in Device.Kind.values
    }

    def bare():
        plan, start = next(plans), next(starts)
        response = stage.client.post(
            "/bench/bare/insert/",
            json.dumps(
                {
                    "patient": plan.patient_id,
                    "plan": plan.pk,
                    "therapist": therapist.pk,
                    "room": room.pk,
                    "device": devices[Device.KIND_FOR_MODALITY[plan.modality]],
                    "start": start.isoformat(),
                    "end": (start + dt.timedelta(minutes=plan.session_minutes)).isoformat(),
                }
            ),
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        made.append(response.json()["id"])

    try:
        mine, base = harness.interleaved(ours, bare)
        queries, bare_queries = harness.count_queries(ours), harness.count_queries(bare)
        row = harness.result(
            NAME,
            stage.db,
            stage.n,
            rows=None,
            median_ms=harness.ms(mine.median),
            p95_ms=harness.ms(mine.p95),
            queries=queries,
            bare_median_ms=harness.ms(base.median),
            bare_p95_ms=harness.ms(base.p95),
            bare_queries=bare_queries,
            ratio=round(mine.median / base.median, 2),
            goal="p50/p95 and ratio reported (no target)",
            met=None,
        )
        if stage.largest and stage.db == "PostgreSQL":
            row["profile"] = profile(ours, name=f"booking-{stage.slug}", calls=10)
    finally:
        # Booking also planned their emails (outbox rows protect the visit).
        Reminder.objects.filter(appointment_id__in=made).delete()
        Appointment.objects.filter(pk__in=made).delete()
    return [row]
