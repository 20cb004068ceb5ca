"""Timing: our code and its baseline measured in the same run, interleaved
(ABAB…, then BABA…) so a noisy neighbour slows both alike; medians and p95s;
query counts from one extra, separate call (capturing queries costs time)."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

QUICK = os.environ.get("BENCH_QUICK", "").lower() in {"1", "true", "yes"}
REPS = int(os.environ.get("BENCH_REPS", "10" if QUICK else "30"))
WARMUP = 3
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" if not QUICK else ROOT / "var" / "bench"


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return percentile(self.samples_ms, 0.5)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 0.95)


def _once(fn: Callable[[], object]) -> float:
    began = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - began) / 1e6


def timed(
    fn: Callable[[], object],
    *,
    reps: int = REPS,
    warmup: int = WARMUP,
    budget_s: float | None = None,
    min_reps: int = 5,
) -> Timing:
    """`reps` timings, or fewer (at least `min_reps`) once they pass `budget_s` seconds."""
    for _ in range(warmup):
        fn()
    gc.collect()
    timing = Timing()
    began = time.perf_counter()
    for _ in range(reps):
        timing.samples_ms.append(_once(fn))
        if budget_s and len(timing.samples_ms) >= min_reps and time.perf_counter() - began > budget_s:
            break
    return timing


def interleaved(
    ours: Callable[[], object], bare: Callable[[], object], *, reps: int = REPS, warmup: int = WARMUP
) -> tuple[Timing, Timing]:
    for _ in range(warmup):
        ours()
        bare()
    gc.collect()
    mine, base = Timing(), Timing()
    for i in range(reps):
        if i % 2 == 0:
            mine.samples_ms.append(_once(ours))
            base.samples_ms.append(_once(bare))
        else:
            base.samples_ms.append(_once(bare))
            mine.samples_ms.append(_once(ours))
    return mine, base


def counted(fn: Callable[[], object]) -> tuple[int, object]:
    """(queries, result) of one call."""
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    return len(captured.captured_queries), result


def count_queries(fn: Callable[[], object]) -> int:
    return counted(fn)[0]


def ms(value: float) -> float:
    return round(value, 2)


def result(benchmark: str, db: str, n: int | None, **fields) -> dict:
    return {"benchmark": benchmark, "db": db, "n": n, **fields}
