"""A page timed against its bare baseline: the shared shape of the calendar
feed and day sheet benchmarks."""

from __future__ import annotations

from collections.abc import Callable

from bench import harness
from bench.context import Stage
from bench.profiling import profile

GOAL_RATIO = 2.0


def getter(stage: Stage, url: str, params: dict) -> Callable[[], object]:
    """A GET through the stage's logged-in client that must answer 200."""

    def get():
        response = stage.client.get(url, params)
        assert response.status_code == 200, response.status_code
        return response

    return get


def against_bare(
    stage: Stage, *, name: str, slug: str, ours: Callable, bare: Callable, rows: int
) -> list[dict]:
    """Time `ours` and `bare` interleaved; one table row with the ratio, and a
    profile of ours at the largest size when it misses the goal."""
    mine, base = harness.interleaved(ours, bare)
    ratio = mine.median / base.median
    row = harness.result(
        name,
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
        row["profile"] = profile(ours, name=f"{slug}-{stage.slug}")
    return [row]
