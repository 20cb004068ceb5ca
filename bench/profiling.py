"""pyinstrument on a slow path: where a goal is missed, the text profile is
saved next to the results so the report can show where the time goes."""

from __future__ import annotations

from collections.abc import Callable

from bench.harness import RESULTS


def profile(fn: Callable[[], object], *, name: str, calls: int = 20) -> str:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(calls):
        fn()
    profiler.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"profile-{name}.txt"
    header = f"# pyinstrument: {calls} calls of {name}\n\n"
    path.write_text(header + profiler.output_text(unicode=True, color=False, show_all=False))
    return str(path.relative_to(RESULTS.parent.parent))
