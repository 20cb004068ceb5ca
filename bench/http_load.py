"""HTTP load: gunicorn as compose runs it (production settings, DEBUG off,
the project's gunicorn.conf.py; bench.http_server) on 127.0.0.1 and a free
port, and locust headless with 50 and then 100 front-desk users for 60
seconds each, mixing day sheet, calendar feed, slot search, booking and
cancel.

The sessions log in through the real login page before the clock starts
(PBKDF2 costs ~0.5 s of CPU per login by design; a hundred at once would
measure the password hasher, not the pages). Only 127.0.0.1 is ever
contacted; gunicorn is stopped at the end and the bookings made are deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db.models import Max

from appointments.models import Appointment, Reminder, Therapist
from bench import dataset, harness, http_server
from bench.context import Stage, busiest_week
from bench.profiling import profile
from treatments.models import TreatmentPlan

NAME = "HTTP load"
# (users, p95 goal in ms): the front desk of a clinic group, and twice that.
LEVELS = [
    (int(users), float(goal))
    for users, goal in (
        level.split(":") for level in os.environ.get("BENCH_LOAD_LEVELS", "50:300,100:600").split(",")
    )
]
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "15" if harness.QUICK else "60"))
SPAWN_RATE = 10
# Seconds between one user's requests: a busy front desk clicks every few
# seconds (BENCH_LOAD_THINK="0.5,1.5" makes a stress test of it).
THINK = tuple(float(x) for x in os.environ.get("BENCH_LOAD_THINK", "1,5").split(","))
WORK = http_server.WORK


def locust_config(stage: Stage, sessions: list, users: int) -> dict:
    monday, _, _ = busiest_week(stage.anchor)
    days = [monday + dt.timedelta(days=i) for i in range(28) if (monday + dt.timedelta(days=i)).weekday() < 5]
    plans = list(
        TreatmentPlan.objects.filter(
            indication=dataset.WAITING_INDICATION, status=TreatmentPlan.Status.ACTIVE
        ).values_list("pk", flat=True)
    )
    return {
        "sessions": sessions,
        "users": users,
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


def run_locust(port: int, config: dict, users: int, log) -> dict:
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
            str(users),
            "-r",
            str(SPAWN_RATE),
            "-t",
            f"{SECONDS}s",
            "--host",
            f"http://{http_server.HOST}:{port}",
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
    first_new = (Appointment.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    rows = []
    try:
        with http_server.running() as port, open(WORK / "locust.log", "w") as locust_log:
            with ThreadPoolExecutor(max_workers=2) as pool:
                logins = list(
                    pool.map(
                        lambda _: http_server.login(
                            port, dataset.FRONT_DESK_USERNAME, settings.DEMO_PASSWORD
                        ),
                        range(max(users for users, _ in LEVELS)),
                    )
                )
            for users, goal_ms in LEVELS:
                config = locust_config(stage, [session for session, _ in logins[:users]], users)
                data = run_locust(port, config, users, locust_log)
                rows.append(_row(stage, data, users, goal_ms, [ms for _, ms in logins]))
                # Next level starts from the same schedule: this level's bookings go.
                Reminder.objects.filter(appointment_id__gte=first_new).delete()
                Appointment.objects.filter(pk__gte=first_new).delete()
    finally:
        Reminder.objects.filter(appointment_id__gte=first_new).delete()  # their planned emails
        Appointment.objects.filter(pk__gte=first_new).delete()
    return rows


def _row(stage: Stage, data: dict, users: int, goal_ms: float, login_ms: list[float]) -> dict:
    summary = summarise(data["samples"], SECONDS)
    row = harness.result(
        f"{NAME}: {http_server.workers_description()}, {users} users",
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
        users=users,
        think_s=list(THINK),
        goal=f"0 errors, p95 < {goal_ms:g} ms",
        met=summary["errors"] == 0 and summary["p95_ms"] < goal_ms,
    )
    if not row["met"] and summary["endpoints"]:
        slowest = max(summary["endpoints"].items(), key=lambda item: item[1]["p95_ms"])[0]
        row["slowest"] = slowest
        row["profile"] = _profile_endpoint(stage, slowest, users)
    return row


def _profile_endpoint(stage: Stage, name: str, users: int) -> str | None:
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
    slug = f"load-{users}-{name.replace(' ', '-')}-{stage.slug}"
    return profile(lambda: stage.client.get(path, params), name=slug)
