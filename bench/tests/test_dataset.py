"""The generator alone (no database): deterministic, and never overlapping;
then the seeder across eras (and, on PostgreSQL, its bulk load's schema)."""

import datetime as dt
import itertools
from collections import defaultdict

import pytest
from django.db import connection

from bench import dataset, seeding

ANCHOR = dt.date(2026, 3, 4)


def _take(n: int, **kwargs) -> list[tuple]:
    layout = dataset.build_layout(anchor=ANCHOR, **kwargs)
    return [
        (c.index, c.patient, c.modality, s.therapist, s.day, s.cell, s.room, s.device, s.draw)
        for c, s in itertools.islice(dataset.sessions(layout), n)
    ]


def test_same_seed_same_stream_other_seed_other_stream():
    assert _take(2000) == _take(2000)
    assert _take(2000) != _take(2000, seed=7)


def test_a_prefix_is_the_same_whatever_the_length_asked():
    assert _take(3000)[:1000] == _take(1000)


def test_cells_never_overlap_for_any_resource():
    layout = dataset.build_layout(anchor=ANCHOR)
    taken: dict[tuple, int] = defaultdict(int)
    for course, session in itertools.islice(dataset.sessions(layout), 30_000):
        cells = dataset.mask(session.cell, -(-session.minutes // dataset.CELL_MINUTES))
        for key in (
            ("therapist", session.therapist),
            ("room", session.room),
            ("device", session.device),
            ("patient", course.patient),
        ):
            assert not taken[(key, session.day)] & cells
            taken[(key, session.day)] |= cells


def test_rooms_and_devices_suit_the_modality():
    layout = dataset.build_layout(anchor=ANCHOR)
    kind = {"iontophoresis": "iontophoresis", "phonophoresis": "ultrasound", "tap_water": "tap_water"}
    for course, session in itertools.islice(dataset.sessions(layout), 5000):
        assert course.modality in layout.rooms[session.room].modalities
        device = layout.devices[session.device]
        assert device.kind == kind[course.modality] and device.in_service
        assert course.modality in layout.therapists[session.therapist].modalities


def test_holidays_are_the_us_clinic_holidays():
    names = dict(dataset.holidays(dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
    assert names[dt.date(2026, 11, 26)] == "Thanksgiving"
    assert names[dt.date(2026, 5, 25)] == "Memorial Day"
    assert names[dt.date(2026, 9, 7)] == "Labor Day"
    assert len(names) == 6


def test_eras_follow_one_another_back_in_time(monkeypatch):
    whole = _take(600)
    monkeypatch.setattr(dataset, "ERA_COURSES", 40)
    layout = dataset.build_layout(anchor=ANCHOR)
    stream = list(itertools.islice(dataset.sessions(layout), 600))
    eras = [course.layout.era for course, _ in stream]
    assert eras == sorted(eras) and eras[-1] >= 2
    # the first era is the stream as it always was, cut after ERA_COURSES courses
    first = [row for row, era in zip(_take(600), eras, strict=True) if era == 0]
    assert first == whole[: len(first)] and max(row[0] for row in first) < 40
    taken: dict[tuple, int] = defaultdict(int)
    for course, session in stream:
        era = course.layout
        assert era.days[0] == ANCHOR - dt.timedelta(days=dataset.DAYS_BACK + dataset.ERA_DAYS * era.era)
        assert len(era.days) == dataset.ERA_DAYS
        day = era.days[session.day]
        assert day not in era.closed and day.weekday() in era.therapists[session.therapist].hours
        cells = dataset.mask(session.cell, -(-session.minutes // dataset.CELL_MINUTES))
        for key in (("therapist", session.therapist), ("room", session.room), ("patient", course.patient)):
            assert not taken[(key, day)] & cells
            taken[(key, day)] |= cells
    older = dataset.era_layout(layout, 1)
    assert [t.display_name for t in older.therapists] == [t.display_name for t in layout.therapists]
    assert [t.leave for t in older.therapists] != [t.leave for t in layout.therapists]


def _schema(tables: tuple[str, ...]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s)"
            " UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
            " ORDER BY 1, 2, 3",
            [list(tables), list(tables)],
        )
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_seeding_across_eras_records_each_eras_leave_and_closures_and_flush_removes_them(monkeypatch):
    from appointments.models import Appointment, ClinicClosure, TherapistException
    from clinic.localtime import clinic_tz

    monkeypatch.setattr(dataset, "ERA_COURSES", 30)
    monkeypatch.setattr(seeding, "DEFER_INDEXES_FROM", 0)  # the bulk load's path, even this small
    tables = ("appointments_appointment", "appointments_appointmentchange", "treatments_treatmentplan")
    schema = _schema(tables) if connection.vendor == "postgresql" else None
    now = dt.datetime(2026, 3, 4, 12, 30, tzinfo=clinic_tz())
    report = seeding.seed(appointments=500, patients=200, anchor=ANCHOR, now=now)
    assert report.after == 500
    if schema is not None:
        assert _schema(tables) == schema
    oldest = ANCHOR - dt.timedelta(days=dataset.DAYS_BACK + 2 * dataset.ERA_DAYS)
    starts = sorted(
        s.astimezone(clinic_tz()).date() for s in Appointment.objects.values_list("start", flat=True)
    )
    assert (
        starts[0] < ANCHOR - dt.timedelta(days=dataset.DAYS_BACK + dataset.ERA_DAYS) and starts[0] >= oldest
    )
    closed = set(ClinicClosure.objects.values_list("start_date", flat=True))
    assert {d for d, _ in dataset.holidays(starts[0], starts[-1])} <= closed
    assert not closed & set(starts)
    away = defaultdict(list)
    for exc in TherapistException.objects.all():
        away[exc.therapist_id].append((exc.start, exc.end))
    assert min(start for spans in away.values() for start, _ in spans).date() < starts[0] + dt.timedelta(
        days=60
    )
    for appt in Appointment.objects.all():
        assert not any(a < appt.end and appt.start < b for a, b in away[appt.therapist_id])
    seeding.seed(appointments=500, patients=200, anchor=ANCHOR, now=now)  # nothing more to add
    assert ClinicClosure.objects.count() == len(closed)
    seeding.seed(appointments=0, flush_first=True)
    assert not ClinicClosure.objects.exists() and not Appointment.objects.exists()
