"""The generator alone (no database): deterministic, and never overlapping."""

import datetime as dt
import itertools
from collections import defaultdict

from bench import dataset

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
