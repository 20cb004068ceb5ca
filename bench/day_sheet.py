"""The clinic's day sheet (every visit of the busiest day of next week): our
page against a bare view rendering the same rows from one raw SQL query."""

from __future__ import annotations

from appointments.availability import local_day_bounds
from appointments.models import Appointment
from bench import harness
from bench.context import Stage, busiest_week
from bench.profiling import profile

NAME = "Day sheet, whole clinic"
GOAL_RATIO = 2.0


def run(stage: Stage) -> list[dict]:
    _, _, day = busiest_week(stage.anchor)
    params = {"date": day.isoformat()}

    def ours():
        response = stage.client.get("/schedule/day/", params)
        assert response.status_code == 200, response.status_code
        return response

    def bare():
        response = stage.client.get("/bench/bare/day/", params)
        assert response.status_code == 200, response.status_code
        return response

    start, end = local_day_bounds(day)
    rows = Appointment.objects.filter(start__lt=end, end__gt=start).count()
    if ours().content.count(b"MRN ") != rows or bare().content.count(b"MRN ") != rows:
        raise AssertionError("The day sheets do not list the day's visits.")
    mine, base = harness.interleaved(ours, bare)
    ratio = mine.median / base.median
    row = harness.result(
        NAME,
        stage.db,
        stage.n,
        rows=rows,
        median_ms=harness.ms(mine.median),
        p95_ms=harness.ms(mine.p95),
        queries=harness.count_queries(ours),
        bare_median_ms=harness.ms(base.median),
        bare_p95_ms=harness.ms(base.p95),
        bare_queries=harness.count_queries(bare),
        ratio=round(ratio, 2),
        goal=f"≤ {GOAL_RATIO:g}× bare",
        met=ratio <= GOAL_RATIO,
    )
    if not row["met"] and stage.largest:
        row["profile"] = profile(ours, name=f"day-sheet-{stage.slug}")
    return [row]
