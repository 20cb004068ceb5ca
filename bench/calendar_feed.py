"""The therapist week in the calendar: our JSON feed against a bare view
returning the same events from one raw SQL query."""

from __future__ import annotations

import datetime as dt

from appointments.availability import local_day_bounds
from bench import harness
from bench.context import Stage, busiest_week
from bench.profiling import profile

NAME = "Calendar feed, therapist week"
GOAL_RATIO = 2.0


def run(stage: Stage) -> list[dict]:
    monday, therapist, _ = busiest_week(stage.anchor)
    start = local_day_bounds(monday)[0]
    params = {
        "start": start.isoformat(),
        "end": (start + dt.timedelta(days=7)).isoformat(),
        "therapist": therapist or "",
    }

    def ours():
        response = stage.client.get("/schedule/events/", params)
        assert response.status_code == 200, response.status_code
        return response

    def bare():
        response = stage.client.get("/bench/bare/events/", params)
        assert response.status_code == 200, response.status_code
        return response

    rows = ours().json()
    if rows != bare().json():
        raise AssertionError("The bare calendar feed does not return the same events as ours.")
    mine, base = harness.interleaved(ours, bare)
    ratio = mine.median / base.median
    row = harness.result(
        NAME,
        stage.db,
        stage.n,
        rows=len(rows),
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
        row["profile"] = profile(ours, name=f"calendar-feed-{stage.slug}")
    return [row]
