"""The slot finder: free slots for one session of a 6-session
iontophoresis plan over four weeks of next month, across all 40 therapists.
Two measures: the API as the booking page calls it (first 200 slots) and
the full scan (`slots_free(limit=None)`, what "next free slot" walks)."""

from __future__ import annotations

import datetime as dt

from appointments import selectors
from bench import dataset, harness
from bench.context import Stage
from bench.profiling import profile
from treatments.models import TreatmentPlan

GOAL_MS = 100.0
BUDGET_S = 5 if harness.QUICK else 15  # the full scan takes seconds a call at 100k: fewer repetitions


def run(stage: Stage) -> list[dict]:
    plan = (
        TreatmentPlan.objects.select_related("patient")
        .filter(indication=dataset.WAITING_INDICATION, modality="iontophoresis", sessions_prescribed=6)
        .order_by("pk")
        .first()
    )
    date_from = stage.anchor + dt.timedelta(days=7)
    date_to = date_from + dt.timedelta(weeks=4) - dt.timedelta(days=1)
    params = {"plan": plan.pk, "date_from": date_from.isoformat(), "date_to": date_to.isoformat()}

    def api():
        response = stage.client.get("/api/v1/slots/", params)
        assert response.status_code == 200, response.status_code
        return response

    def full():
        return selectors.slots_free(plan=plan, date_from=date_from, date_to=date_to, limit=None)

    rows = []
    for name, fn, count in (
        ("Slot finder API, 4 weeks × 40 therapists", api, lambda: len(api().json()["results"])),
        ("Slot finder full scan (no limit)", full, lambda: len(full())),
    ):
        queries, found = harness.counted(count)  # also the warm-up
        timing = harness.timed(fn, warmup=0, budget_s=BUDGET_S, min_reps=3)
        row = harness.result(
            name,
            stage.db,
            stage.n,
            rows=found,
            median_ms=harness.ms(timing.median),
            p95_ms=harness.ms(timing.p95),
            queries=queries,
            goal=f"p95 < {GOAL_MS:g} ms"
            + (" (PostgreSQL)" if stage.db == "PostgreSQL" else " (informative)"),
            met=timing.p95 < GOAL_MS if stage.db == "PostgreSQL" else None,
        )
        if row["met"] is False and stage.largest:
            slug = "slots-api" if fn is api else "slots-full"
            row["profile"] = profile(fn, name=f"{slug}-{stage.slug}", calls=5 if fn is api else 1)
        rows.append(row)
    return rows
