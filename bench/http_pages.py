"""The front desk's pages over HTTP: gunicorn with the production settings
and the compose config (bench.http_server), one logged-in session on a
kept-alive connection, each page timed in the same loop as `/healthz` (the
HTTP floor: routing, middleware, session, one query) and as the raw SQL that
fetches the page's rows (the database floor), in rotating order so a noisy
neighbour slows all three alike. The table shows p50/p95, the bytes sent,
both ratios and the target; where a target is missed, one more request runs
under pyinstrument inside the gunicorn worker and its profile is saved in
bench/results/ (profile-http-<page>-<n>.txt).

Booking is POST /api/v1/appointments/ (every rule, history, outbox, the
response) against one raw INSERT of the same row; its queries are counted
in-process on the same endpoint (HTTP cannot count them). Every row made
here is deleted afterwards.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings

from appointments.models import Appointment, Device, Reminder, Room, Therapist
from bench import bare, booking, dataset, harness, http_server
from bench.context import Stage, busiest_week
from clinic.localtime import local_day_bounds
from treatments.models import TreatmentPlan

NAME = "HTTP pages (gunicorn)"
REPS = harness.REPS if harness.QUICK else max(harness.REPS, 40)
WARMUP = 5


@dataclass
class Target:
    p95_ms: float | None = None
    p50_ms: float | None = None
    max_kb: float | None = None
    max_queries: int | None = None

    def text(self) -> str:
        parts = []
        if self.p50_ms is not None:
            parts.append(f"p50 ≤ {self.p50_ms:g} ms")
        if self.p95_ms is not None:
            parts.append(f"p95 ≤ {self.p95_ms:g} ms")
        if self.max_kb is not None:
            parts.append(f"≤ {self.max_kb:g} KB")
        if self.max_queries is not None:
            parts.append(f"≤ {self.max_queries} queries")
        return ", ".join(parts)


@dataclass
class Page:
    name: str
    slug: str
    send: Callable[[], tuple[int, bytes]]  # one HTTP request: (status, body)
    floor: Callable[[], object]  # the raw SQL for the same rows, in this process
    target: Target
    ok: tuple[int, ...] = (200,)
    rows: int | None = None
    profile_request: Callable[[], object] | None = None
    samples: dict[str, list[float]] = field(default_factory=lambda: {"page": [], "healthz": [], "floor": []})
    sizes: list[int] = field(default_factory=list)


def _clock(fn: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter_ns()
    value = fn()
    return (time.perf_counter_ns() - began) / 1e6, value


def measure(page: Page, healthz: Callable[[], tuple[int, bytes]], reps: int = REPS) -> None:
    """page, /healthz and the SQL floor, each `reps` times, in rotating order."""

    def page_once():
        elapsed, (status, body) = _clock(page.send)
        if status not in page.ok:
            raise AssertionError(f"{page.name}: HTTP {status}: {body[:300]!r}")
        page.samples["page"].append(elapsed)
        page.sizes.append(len(body))

    def healthz_once():
        elapsed, (status, _) = _clock(healthz)
        assert status == 200, status
        page.samples["healthz"].append(elapsed)

    def floor_once():
        page.samples["floor"].append(_clock(page.floor)[0])

    steps = [page_once, healthz_once, floor_once]
    for _ in range(WARMUP):
        for step in steps:
            step()
    for samples in page.samples.values():
        samples.clear()
    page.sizes.clear()
    gc.collect()
    for i in range(reps):
        for step in steps[i % 3 :] + steps[: i % 3]:
            step()


def row_for(page: Page, stage: Stage, queries: int | None = None) -> dict:
    p = {key: (harness.percentile(v, 0.5), harness.percentile(v, 0.95)) for key, v in page.samples.items()}
    kb = max(page.sizes) / 1024
    t = page.target
    checks = []
    if t.p95_ms is not None:
        checks.append(p["page"][1] <= t.p95_ms)
    if t.p50_ms is not None:
        checks.append(p["page"][0] <= t.p50_ms)
    if t.max_kb is not None:
        checks.append(kb <= t.max_kb)
    if t.max_queries is not None and queries is not None:
        checks.append(queries <= t.max_queries)
    return harness.result(
        page.name,
        stage.db,
        stage.n,
        http=True,
        rows=page.rows,
        median_ms=harness.ms(p["page"][0]),
        p95_ms=harness.ms(p["page"][1]),
        kb=round(kb, 1),
        queries=queries,
        healthz_median_ms=harness.ms(p["healthz"][0]),
        healthz_p95_ms=harness.ms(p["healthz"][1]),
        floor_median_ms=harness.ms(p["floor"][0]),
        floor_p95_ms=harness.ms(p["floor"][1]),
        ratio_healthz=round(p["page"][0] / p["healthz"][0], 2),
        ratio_floor=round(p["page"][0] / max(p["floor"][0], 0.001), 2),
        samples=len(page.samples["page"]),
        goal=t.text(),
        met=all(checks),
    )


def _sql(sql: str, params: list) -> Callable[[], object]:
    return lambda: bare._rows(sql, params)


def _week_sql(start: dt.datetime, end: dt.datetime, therapist: int | None) -> tuple[str, list]:
    sql = bare.SELECT + " AND a.status <> 'cancelled'"
    params: list = [end, start, start - bare.LONGEST_VISIT]
    if therapist:
        sql, params = sql + " AND a.therapist_id = %s", [*params, therapist]
    return sql + bare.ORDER, params


def pages(stage: Stage, browser: http_server.Browser, made: list[int]) -> list[Page]:
    monday, therapist, day = busiest_week(stage.anchor)
    get = browser.send
    # The day sheet: every visit of the busiest day of next week, the whole clinic.
    day_start, day_end = local_day_bounds(day)
    day_sql = (bare.SELECT + bare.ORDER, [day_end, day_start, day_start - bare.LONGEST_VISIT])
    day_path = "/schedule/day/?" + urlencode({"date": day.isoformat()})
    # The busiest therapist's week: calendar feed and the appointments list.
    week_start = local_day_bounds(monday)[0]
    week_end = week_start + dt.timedelta(days=7)
    week_sql = _week_sql(week_start, week_end, therapist)
    feed_path = "/schedule/events/?" + urlencode(
        {"start": week_start.isoformat(), "end": week_end.isoformat(), "therapist": therapist or ""}
    )
    sunday = monday + dt.timedelta(days=6)
    list_path = "/api/v1/appointments/?" + urlencode(
        {"therapist": therapist or "", "date_from": monday.isoformat(), "date_to": sunday.isoformat()}
    )
    list_sql = (
        bare.SELECT + " AND a.therapist_id = %s" + bare.ORDER,
        [local_day_bounds(sunday)[1], week_start, week_start - bare.LONGEST_VISIT, therapist],
    )
    # The slot finder: one session of a 6-session iontophoresis plan, four weeks, 40 therapists.
    plan = (
        TreatmentPlan.objects.filter(
            indication=dataset.WAITING_INDICATION, modality="iontophoresis", sessions_prescribed=6
        )
        .order_by("pk")
        .first()
    )
    date_from = stage.anchor + dt.timedelta(days=7)
    date_to = date_from + dt.timedelta(weeks=4) - dt.timedelta(days=1)
    slots_path = "/api/v1/slots/?" + urlencode(
        {"plan": plan.pk, "date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    )
    slots_start, slots_end = local_day_bounds(date_from)[0], local_day_bounds(date_to)[1]
    slots_sql = _week_sql(slots_start, slots_end, None)

    result = [
        Page(
            "HTTP day sheet, whole clinic",
            "day-sheet",
            lambda: get("GET", day_path),
            _sql(*day_sql),
            Target(p95_ms=120, max_kb=120),
            rows=len(bare._rows(*day_sql)),
        ),
        Page(
            "HTTP calendar feed, therapist week",
            "calendar-feed",
            lambda: get("GET", feed_path),
            _sql(*week_sql),
            Target(p95_ms=30),
            rows=len(bare._rows(*week_sql)),
        ),
        Page(
            "HTTP appointments list, therapist week",
            "appointments-list",
            lambda: get("GET", list_path),
            _sql(*list_sql),
            Target(p95_ms=30),
            rows=len(bare._rows(*list_sql)),
        ),
        Page(
            "HTTP slot finder, 4 weeks × 40 therapists",
            "slot-finder",
            lambda: get("GET", slots_path),
            _sql(*slots_sql),
            Target(p95_ms=100),
            rows=len(json.loads(get("GET", slots_path)[1])["results"]),
        ),
    ]
    paths = {
        "day-sheet": ("GET", day_path),
        "calendar-feed": ("GET", feed_path),
        "appointments-list": ("GET", list_path),
        "slot-finder": ("GET", slots_path),
    }
    for page in result:
        method, path = paths[page.slug]
        page.profile_request = _profiler(browser, method, path, f"http-{page.slug}-{stage.slug}")
    result.append(_booking(stage, browser, made))
    return result


def _profiler(browser: http_server.Browser, method: str, path: str, name: str, body_fn=None):
    def run():
        body = body_fn() if body_fn else None
        headers = {"X-Bench-Profile": name}
        if body is not None:
            headers["Content-Type"] = "application/json"
        browser.send(method, path, body=body, headers=headers)
        return f"bench/results/profile-{name}.txt"

    return run


def _booking(stage: Stage, browser: http_server.Browser, made: list[int]) -> Page:
    therapist = Therapist.objects.get(user__username=f"{dataset.USERNAME_PREFIX}therapist-01")
    # From the end of the waiting referrals: the in-process booking benchmark takes them from the start.
    plans = iter(
        TreatmentPlan.objects.filter(
            indication=dataset.WAITING_INDICATION, status=TreatmentPlan.Status.ACTIVE
        ).order_by("-pk")
    )
    starts = booking.free_starts(stage.anchor + dt.timedelta(days=60))
    room = Room.objects.filter(name=f"{dataset.ROOM_PREFIX}13").get()  # every modality
    devices = {
        kind: Device.objects.filter(kind=kind, serial_number__startswith=dataset.DEVICE_SERIAL_PREFIX)
        .order_by("pk")
        .first()
        .pk
        for kind in Device.Kind.values
    }

    def body() -> str:
        plan, start = next(plans), next(starts)
        return json.dumps({"plan": plan.pk, "start": start.isoformat(), "therapist": therapist.pk})

    def send():
        status, content = browser.send(
            "POST", "/api/v1/appointments/", body=body(), headers={"Content-Type": "application/json"}
        )
        if status == 201:
            made.append(json.loads(content)["id"])
        return status, content

    def floor():
        plan, start = next(plans), next(starts)
        end = start + dt.timedelta(minutes=plan.session_minutes)
        pk = bare.insert_visit(
            patient=plan.patient_id,
            plan=plan.pk,
            therapist=therapist.pk,
            room=room.pk,
            device=devices[Device.KIND_FOR_MODALITY[plan.modality]],
            start=start,
            end=end,
        )
        made.append(pk)

    page = Page(
        "HTTP booking via API (rules, history, outbox)",
        "booking",
        send,
        floor,
        Target(p50_ms=40, max_queries=12),
        ok=(201,),
    )

    def profile_once():
        status, content = browser.send(
            "POST",
            "/api/v1/appointments/",
            body=body(),
            headers={"Content-Type": "application/json", "X-Bench-Profile": f"http-booking-{stage.slug}"},
        )
        if status == 201:
            made.append(json.loads(content)["id"])
        return f"bench/results/profile-http-booking-{stage.slug}.txt"

    page.profile_request = profile_once

    def book():
        plan, start = next(plans), next(starts)
        return stage.client.post(
            "/api/v1/appointments/",
            {"plan": plan.pk, "start": start.isoformat(), "therapist": therapist.pk},
            content_type="application/json",
        )

    def count():
        # This process's first booking, unmeasured, as a worker's is long
        # past: it fills the content-type cache (once per process) and, its
        # session idle since the stage began, saves the idle clock (one
        # UPDATE a minute per session, clinic.sessions). The count is then
        # what every booking costs, as test_booking_budget.py measures it.
        warm = book()
        assert warm.status_code == 201, warm.content
        made.append(warm.json()["id"])
        queries, response = harness.counted(book)
        assert response.status_code == 201, response.content
        made.append(response.json()["id"])
        return queries

    page.count_queries = count  # type: ignore[attr-defined]
    return page


def run(stage: Stage) -> list[dict]:
    made: list[int] = []
    rows: list[dict] = []
    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    try:
        with http_server.running(profile_dir=str(harness.RESULTS)) as port:
            session, _ = http_server.login(port, dataset.FRONT_DESK_USERNAME, settings.DEMO_PASSWORD)
            browser = http_server.Browser(port, session)
            prober = http_server.Browser(port, session)  # /healthz on its own connection, as a probe

            def healthz():
                return prober.send("GET", "/healthz")

            try:
                for page in pages(stage, browser, made):
                    measure(page, healthz)
                    queries = page.count_queries() if hasattr(page, "count_queries") else None
                    row = row_for(page, stage, queries)
                    row["workers"] = http_server.workers_description()
                    if not row["met"] and page.profile_request:
                        row["profile"] = page.profile_request()
                    rows.append(row)
            finally:
                browser.close()
                prober.close()
    finally:
        Reminder.objects.filter(appointment_id__in=made).delete()  # their planned emails
        Appointment.objects.filter(pk__in=made).delete()
    return rows
