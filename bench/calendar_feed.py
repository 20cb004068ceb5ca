"""The therapist week in the calendar: our JSON feed against a bare view
returning the same events from one raw SQL query."""

from __future__ import annotations

import datetime as dt

from bench import pages
from bench.context import Stage, busiest_week
from clinic.localtime import local_day_bounds

NAME = "Calendar feed, therapist week"


def event_rows(events: list[dict]) -> list[tuple]:
    """What the bare feed must match: the same visits at the same times. It
    is the floor, without the page's extras (a colour per therapist,
    warnings, hold flags, resource ids)."""
    return [(e["id"], e["start"], e["end"], e["url"], e["extendedProps"]["status"]) for e in events]


def run(stage: Stage) -> list[dict]:
    monday, therapist, _ = busiest_week(stage.anchor)
    start = local_day_bounds(monday)[0]
    params = {
        "start": start.isoformat(),
        "end": (start + dt.timedelta(days=7)).isoformat(),
        "therapist": therapist or "",
    }
    ours = pages.getter(stage, "/schedule/events/", params)
    bare = pages.getter(stage, "/bench/bare/events/", params)
    rows = ours().json()
    if event_rows(rows) != event_rows(bare().json()):
        raise AssertionError("The bare calendar feed does not return the same events as ours.")
    return pages.against_bare(stage, name=NAME, slug="calendar-feed", ours=ours, bare=bare, rows=len(rows))
