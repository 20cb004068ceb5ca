"""The bench's gunicorn config: the project's gunicorn.conf.py (what docker
compose runs) unchanged, plus one hook. When BENCH_PROFILE_DIR is set, a
request carrying `X-Bench-Profile: <name>` runs under pyinstrument inside
the worker and its text profile is written to <dir>/profile-<name>.txt, so a
missed target is profiled as the HTTP request it is (production settings,
middleware, sessions), not through the test client. Other requests pass
through untouched."""

from __future__ import annotations

import os
from pathlib import Path

_PROJECT_CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
# Our own file: exactly the settings compose runs.
exec(compile(_PROJECT_CONFIG.read_text(), str(_PROJECT_CONFIG), "exec"))


def _profiling(app, directory: Path):
    def wsgi(environ, start_response):
        name = environ.get("HTTP_X_BENCH_PROFILE", "")
        if not name or not name.replace("-", "").isalnum():
            return app(environ, start_response)
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        try:
            body = b"".join(app(environ, start_response))
        finally:
            profiler.stop()
            path = directory / f"profile-{name}.txt"
            header = f"# pyinstrument: one HTTP request in a gunicorn worker: {environ.get('PATH_INFO')}\n\n"
            path.write_text(header + profiler.output_text(unicode=True, color=False, show_all=False))
        return [body]

    return wsgi


# The project's own hook (gc.freeze and the collector's thresholds) must run
# too: defining ours alone replaced it, and the bench measured workers whose
# full collections (60–85 ms on a 300-row day sheet) were the p95.
_project_post_worker_init = post_worker_init  # noqa: F821 - defined by the exec above


def post_worker_init(worker):
    _project_post_worker_init(worker)
    directory = os.environ.get("BENCH_PROFILE_DIR")
    if directory:
        worker.wsgi = _profiling(worker.wsgi, Path(directory))
