"""The HTTP half of `make bench` (issue 19): what it needs and says when it
is missing, the gunicorn config compose and the bench share, the profiling
hook, and the HTTP table with its ratios and goals."""

import importlib.util
import multiprocessing
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from bench import deps, gunicorn_bench, harness, http_pages, http_server, report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def without_faker(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "faker" else real(name, *a)
    )


def test_bench_says_what_is_missing_and_how_to_get_it(without_faker):
    problem = deps.check_bench()
    assert "Faker (for seed_bench" in problem and "make install-dev" in problem
    assert deps.check_seed().startswith("seed_bench needs packages that are not installed: Faker")


def test_bench_runs_when_the_dev_requirements_are_there():
    assert deps.check_bench() is None


def test_seed_bench_stops_with_the_message_not_a_traceback(without_faker, db):
    with pytest.raises(CommandError, match=r"Faker .*make install-dev"):
        call_command("seed_bench", "--appointments", "10")


def _conf() -> dict:
    namespace: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)
    return namespace


def test_gunicorn_config_picks_the_worker_class_and_count(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    conf = _conf()
    assert conf["worker_class"] == "gthread"
    assert conf["workers"] == multiprocessing.cpu_count() + 1  # CPU-bound pages: one per core, and one more
    assert conf["threads"] >= 2 and conf["bind"] == "0.0.0.0:8000"
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    assert _conf()["workers"] == 7


def test_compose_and_the_bench_run_gunicorn_with_that_file():
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["command"]
    assert "--config gunicorn.conf.py" in web and "--workers" not in web and "--bind" not in web
    # The bench's config is the project's file plus one hook.
    assert gunicorn_bench.worker_class == _conf()["worker_class"]
    assert callable(gunicorn_bench.post_worker_init)


def test_the_bench_workers_run_the_projects_worker_hook_too(monkeypatch):
    """The bench's hook adds profiling to the project's (gc.freeze and the
    collector's thresholds), never replaces it: the HTTP numbers are those of
    the workers compose runs."""
    import gc
    import types

    monkeypatch.delenv("BENCH_PROFILE_DIR", raising=False)
    before = gc.get_threshold()
    try:
        gunicorn_bench.post_worker_init(types.SimpleNamespace(wsgi=object()))
        assert gc.get_threshold() == (50_000, 20, 100)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_server_runs_the_production_settings():
    env = http_server.server_env(8123)
    assert env["DJANGO_SETTINGS_MODULE"] == "clinic.settings" and env["DEBUG"] == "false"
    assert env["GUNICORN_BIND"] == "127.0.0.1:8123"


def test_profiling_hook_profiles_only_a_marked_request(tmp_path):
    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    wrapped = gunicorn_bench._profiling(app, tmp_path)
    assert wrapped({"PATH_INFO": "/x"}, lambda *a: None) == [b"ok"]
    assert list(tmp_path.iterdir()) == []
    marked = {"PATH_INFO": "/schedule/day/", "HTTP_X_BENCH_PROFILE": "http-day-sheet-1"}
    assert wrapped(marked, lambda *a: None) == [b"ok"]
    text = (tmp_path / "profile-http-day-sheet-1.txt").read_text()
    assert "one HTTP request in a gunicorn worker: /schedule/day/" in text
    # A name that could leave the directory is ignored.
    wrapped({"PATH_INFO": "/", "HTTP_X_BENCH_PROFILE": "../../etc/x"}, lambda *a: None)
    assert [p.name for p in tmp_path.iterdir()] == ["profile-http-day-sheet-1.txt"]


class _Stage:
    db, n = "PostgreSQL", 100_000


def _page(target, page_ms, *, kb=10.0):
    page = http_pages.Page("HTTP day sheet, whole clinic", "day-sheet", lambda: None, lambda: None, target)
    page.samples = {"page": page_ms, "healthz": [2.0] * len(page_ms), "floor": [1.0] * len(page_ms)}
    page.sizes = [int(kb * 1024)]
    page.rows = 300
    return page


def test_a_row_meets_its_target_only_when_every_part_is_met():
    target = http_pages.Target(p95_ms=120, max_kb=120)
    fast = http_pages.row_for(_page(target, [50.0] * 20), _Stage())
    assert fast["met"] and fast["ratio_healthz"] == 25.0 and fast["ratio_floor"] == 50.0
    assert not http_pages.row_for(_page(target, [50.0] * 20, kb=130), _Stage())["met"]
    assert not http_pages.row_for(_page(target, [50.0] * 18 + [200.0] * 2), _Stage())["met"]
    booking = http_pages.Target(p50_ms=40, max_queries=12)
    assert not http_pages.row_for(_page(booking, [30.0] * 20), _Stage(), queries=26)["met"]
    assert http_pages.row_for(_page(booking, [30.0] * 20), _Stage(), queries=12)["met"]


def test_http_table_shows_ratios_sizes_and_goals():
    row = http_pages.row_for(_page(http_pages.Target(p95_ms=120, max_kb=120), [50.0] * 20), _Stage())
    row["workers"] = "gthread 5×4"
    text = "\n".join(report.http_table([row, harness.result("Day sheet", "PostgreSQL", 1000, ratio=2.0)]))
    assert "## Over HTTP (gunicorn gthread 5×4, production settings, logged-in session)" in text
    line = next(line for line in text.splitlines() if line.startswith("| day sheet"))
    cells = r"\| 300 \| 50\.0 ms \| 50\.0 ms \| 10\.0 KB \| — \| 2\.0 ms \| 1\.0 ms \| 25\.0× \| 50\.0× \|"
    assert re.search(cells, line)
    assert line.endswith("| p95 ≤ 120 ms, ≤ 120 KB | yes |")
    # The in-process table leaves the HTTP rows to their own table.
    assert "day sheet, whole clinic" not in report.table([row]).lower()
