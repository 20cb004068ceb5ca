"""HTTP load: gunicorn (2 workers, production settings, DEBUG off) on
127.0.0.1 and a free port, and locust headless with 50 front-desk users for
60 seconds mixing day sheet, calendar feed, slot search, booking and cancel.

The 50 sessions log in through the real login page before the clock starts
(PBKDF2 costs ~0.5 s of CPU per login by design; fifty at once would measure
the password hasher, not the pages). Only 127.0.0.1 is ever contacted;
gunicorn is stopped at the end and the bookings made are deleted.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Max

from appointments.models import Appointment, Reminder, Therapist
from bench import dataset, harness
from bench.context import Stage, busiest_week
from bench.profiling import profile
from treatments.models import TreatmentPlan

NAME = "HTTP load: gunicorn ×2, 50 users"
HOST = "127.0.0.1"
USERS = int(os.environ.get("BENCH_LOAD_USERS", "50"))
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "15" if harness.QUICK else "60"))
SPAWN_RATE = 10
# Seconds between one user's requests: a busy front desk clicks every few
# seconds (BENCH_LOAD_THINK="0.5,1.5" makes a stress test of it).
THINK = tuple(float(x) for x in os.environ.get("BENCH_LOAD_THINK", "1,5").split(","))
GOAL_P95_MS = 300.0
WORK = harness.ROOT / "var" / "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DEBUG="false",
        SECRET_KEY="bench-load-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",
        SITE_URL=f"http://{HOST}:{port}",
        STATIC_ROOT=str(WORK / "static"),
        LOG_LEVEL="WARNING",
    )
    return env


def _request(port: int, method: str, path: str, *, body: str | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see var/bench/gunicorn.log")
        try:
            if _request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def _cookies(headers) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in headers:
        if name.lower() == "set-cookie":
            jar.load(value)
    return {key: morsel.value for key, morsel in jar.items()}


def login(port: int, username: str, password: str) -> tuple[tuple[str, str], float]:
    """The real login page: GET the form, POST it. Returns (Cookie header, CSRF token) and its time."""
    began = time.perf_counter()
    status, headers, body = _request(port, "GET", "/accounts/login/")
    csrf = _cookies(headers)["csrftoken"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    status, headers, _ = _request(
        port,
        "POST",
        "/accounts/login/",
        body=urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"},
    )
    cookies = _cookies(headers)
    if status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"login failed: {status}")
    csrf = cookies.get("csrftoken", csrf)
    return (f"sessionid={cookies['sessionid']}; csrftoken={csrf}", csrf), (time.perf_counter() - began) * 1000


def locust_config(stage: Stage, sessions: list) -> dict:
    monday, _, _ = busiest_week(stage.anchor)
    days = [monday + dt.timedelta(days=i) for i in range(28) if (monday + dt.timedelta(days=i)).weekday() < 5]
    plans = list(
        TreatmentPlan.objects.filter(
            indication=dataset.WAITING_INDICATION, status=TreatmentPlan.Status.ACTIVE
        ).values_list("pk", flat=True)
    )
    return {
        "sessions": sessions,
        "users": USERS,
        "think_min": THINK[0],
        "think_max": THINK[1],
        "days": [d.isoformat() for d in days],
        "mondays": [(monday + dt.timedelta(weeks=w)).isoformat() for w in range(4)],
        "therapists": list(Therapist.objects.filter(is_active=True).values_list("pk", flat=True)),
        "plans": plans,
    }


def summarise(samples: list, seconds: float) -> dict:
    requests = [s for s in samples]
    times = [s[2] for s in requests]
    by_name: dict[str, list[float]] = {}
    for _, name, elapsed, _, _ in requests:
        by_name.setdefault(name, []).append(elapsed)
    errors = sum(1 for s in requests if s[3])
    return {
        "requests": len(requests),
        "rps": round(len(requests) / seconds, 1),
        "p50_ms": round(harness.percentile(times, 0.5), 1),
        "p95_ms": round(harness.percentile(times, 0.95), 1),
        "errors": errors,
        "endpoints": {
            name: {
                "requests": len(values),
                "p50_ms": round(harness.percentile(values, 0.5), 1),
                "p95_ms": round(harness.percentile(values, 0.95), 1),
            }
            for name, values in sorted(by_name.items())
        },
    }


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn's graceful stop; the workers follow the arbiter
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def start_server(port: int, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "clinic.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"{HOST}:{port}",
            "--timeout",
            "60",
        ],
        cwd=harness.ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def run_locust(port: int, config: dict, log) -> dict:
    config_path, samples_path = WORK / "locust-config.json", WORK / "locust-samples.json"
    config_path.write_text(json.dumps(config))
    samples_path.unlink(missing_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO")},
        "BENCH_LOCUST_CONFIG": str(config_path),
        "BENCH_LOCUST_SAMPLES": str(samples_path),
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(harness.ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(USERS),
            "-r",
            str(SPAWN_RATE),
            "-t",
            f"{SECONDS}s",
            "--host",
            f"http://{HOST}:{port}",
            "--csv",
            str(WORK / "locust"),
            "--only-summary",
            "--stop-timeout",
            "10",
            "--loglevel",
            "WARNING",
            "--exit-code-on-error",
            "0",
        ],
        cwd=WORK,
        env=env,
        check=True,
        timeout=SECONDS + 120,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return json.loads(samples_path.read_text())


def run(stage: Stage) -> list[dict]:
    WORK.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = server_env(port)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=harness.ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    first_new = (Appointment.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    with open(WORK / "gunicorn.log", "w") as server_log, open(WORK / "locust.log", "w") as locust_log:
        server = start_server(port, env, server_log)
        try:
            wait_ready(port, server)
            with ThreadPoolExecutor(max_workers=2) as pool:
                logins = list(
                    pool.map(
                        lambda _: login(port, dataset.FRONT_DESK_USERNAME, settings.DEMO_PASSWORD),
                        range(USERS),
                    )
                )
            config = locust_config(stage, [session for session, _ in logins])
            data = run_locust(port, config, locust_log)
        finally:
            stop(server)
            Reminder.objects.filter(appointment_id__gte=first_new).delete()  # their planned emails
            Appointment.objects.filter(pk__gte=first_new).delete()
    summary = summarise(data["samples"], SECONDS)
    login_ms = [elapsed for _, elapsed in logins]
    row = harness.result(
        NAME,
        stage.db,
        stage.n,
        rows=summary["requests"],
        rps=summary["rps"],
        median_ms=summary["p50_ms"],
        p95_ms=summary["p95_ms"],
        errors=summary["errors"],
        endpoints=summary["endpoints"],
        outcomes=data["outcomes"],
        login_p95_ms=round(harness.percentile(login_ms, 0.95), 1),
        seconds=SECONDS,
        users=USERS,
        think_s=list(THINK),
        goal=f"0 errors, p95 < {GOAL_P95_MS:g} ms",
        met=summary["errors"] == 0 and summary["p95_ms"] < GOAL_P95_MS,
    )
    if not row["met"]:
        slowest = max(summary["endpoints"].items(), key=lambda item: item[1]["p95_ms"])[0]
        row["slowest"] = slowest
        row["profile"] = _profile_endpoint(stage, slowest)
    return [row]


def _profile_endpoint(stage: Stage, name: str) -> str | None:
    """The slowest endpoint again, in-process, under pyinstrument."""
    monday, therapist, day = busiest_week(stage.anchor)
    plan = TreatmentPlan.objects.filter(indication=dataset.WAITING_INDICATION).order_by("pk").first()
    requests = {
        "day sheet": ("/schedule/day/", {"date": day.isoformat()}),
        "calendar feed": (
            "/schedule/events/",
            {
                "start": f"{monday}T00:00:00",
                "end": f"{monday + dt.timedelta(days=7)}T00:00:00",
                "therapist": therapist,
            },
        ),
        "slot search": (
            "/api/v1/slots/",
            {
                "plan": plan.pk,
                "date_from": monday.isoformat(),
                "date_to": (monday + dt.timedelta(days=27)).isoformat(),
            },
        ),
    }
    if name not in requests:
        return None
    path, params = requests[name]
    return profile(lambda: stage.client.get(path, params), name=f"load-{name.replace(' ', '-')}-{stage.slug}")
