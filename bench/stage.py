"""One database, every size: migrate, then for N in the sizes grow the
dataset to N (seed_bench) and run each benchmark against it.

    DATABASE_URL=... python -m bench.stage --sizes 1000,10000,100000 --out FILE [--load]

Run by `python -m bench` once per database (settings read DATABASE_URL at
start-up, so each database gets its own process).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


SEED_GOAL = "100,000 in < 120 s; 1,000,000 in < 600 s (PostgreSQL)"


def _seed_met(n: int, total_seconds: float) -> bool | None:
    """Seeding time to reach n from empty (a reused database only tops up: informative)."""
    if n >= 1_000_000:
        return total_seconds < 600
    if n >= 100_000:
        return total_seconds < 120
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--load", action="store_true", help="also the HTTP load test at 100,000 appointments and beyond"
    )
    parser.add_argument(
        "--reminders", action="store_true", help="also the reminder sweep at the largest size"
    )
    parser.add_argument("--http", action="store_true", help="also the pages over HTTP at each size")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench import (
        booking,
        calendar_feed,
        day_sheet,
        harness,
        http_load,
        http_pages,
        reminder_sweep,
        seeding,
        slot_finder,
    )
    from bench.context import Stage

    call_command("migrate", verbosity=0, interactive=False)
    results: list[dict] = []
    seeded_total = 0.0
    for i, n in enumerate(sizes):
        largest = i == len(sizes) - 1
        began = time.perf_counter()
        report = seeding.seed(appointments=n)
        seconds = time.perf_counter() - began
        seeded_total += seconds
        stage = Stage.make(n=n, anchor=report.anchor, largest=largest)
        log(f"[{stage.db} {n:,}] seeded {report.before:,} → {report.after:,} in {seconds:.1f} s")
        results.append(
            harness.result(
                "seed_bench (bulk insert)",
                stage.db,
                n,
                added=report.after - report.before,
                seconds=round(seconds, 1),
                total_seconds=round(seeded_total, 1),
                goal=SEED_GOAL if stage.db == "PostgreSQL" else "informative",
                met=_seed_met(n, seeded_total) if stage.db == "PostgreSQL" else None,
            )
        )
        modules = [calendar_feed, day_sheet, booking, slot_finder]
        if args.http:
            modules.append(http_pages)
        if largest and args.reminders:
            modules.append(reminder_sweep)
        # The load test at 100k and beyond (issue 19's scales), and at the largest size.
        if args.load and (largest or n >= 100_000):
            modules.append(http_load)
        for module in modules:
            log(f"[{stage.db} {n:,}] {module.__name__.split('.')[-1]}…")
            began = time.perf_counter()
            try:
                results += module.run(stage)
            except Exception as exc:  # one broken benchmark must not hide the others' numbers
                traceback.print_exc()
                results.append(
                    harness.result(
                        getattr(module, "NAME", module.__name__),
                        stage.db,
                        n,
                        error=repr(exc)[:300],
                        met=False,
                    )
                )
            name = module.__name__.split(".")[-1]
            log(f"[{stage.db} {n:,}] {name} done in {time.perf_counter() - began:.1f} s")
            # What is measured so far, in case the run is stopped (the final write replaces it).
            Path(args.out).with_suffix(".partial.json").write_text(json.dumps(results, indent=1, default=str))
    Path(args.out).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
