"""The clinic's day sheet (every visit of the busiest day of next week): our
page against a bare view rendering the same rows from one raw SQL query."""

from __future__ import annotations

from appointments.models import Appointment
from bench import pages
from bench.context import Stage, busiest_week
from clinic.localtime import local_day_bounds

NAME = "Day sheet, whole clinic"


def run(stage: Stage) -> list[dict]:
    _, _, day = busiest_week(stage.anchor)
    params = {"date": day.isoformat()}
    ours = pages.getter(stage, "/schedule/day/", params)
    bare = pages.getter(stage, "/bench/bare/day/", params)
    start, end = local_day_bounds(day)
    rows = Appointment.objects.filter(start__lt=end, end__gt=start).count()
    if ours().content.count(b"MRN ") != rows or bare().content.count(b"MRN ") != rows:
        raise AssertionError("The day sheets do not list the day's visits.")
    return pages.against_bare(stage, name=NAME, slug="day-sheet", ours=ours, bare=bare, rows=rows)
