"""Front-desk traffic for the HTTP load test (run by bench.http_load).

Each simulated user holds its own logged-in session (the real login page,
done before the clock starts) and mixes: the day sheet, a therapist's week
in the calendar feed, a slot search over four weeks, booking one of the
slots found, and cancelling one of its own bookings. A booking that loses a
race for a slot answers 409: that is the rule working, not an error.

Traffic goes only to the --host given (127.0.0.1). Every request is written
to BENCH_LOCUST_SAMPLES at the end for bench.http_load to summarise.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import time
from pathlib import Path

from locust import FastHttpUser, between, events, task

CONFIG = json.loads(Path(os.environ["BENCH_LOCUST_CONFIG"]).read_text())
SAMPLES: list[tuple[float, str, float, bool, int]] = []
OUTCOMES: dict[str, int] = {}
_numbers = itertools.count()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, response=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    SAMPLES.append((time.time(), name, response_time, exception is not None, status))


@events.quitting.add_listener
def _dump(environment, **kwargs):
    Path(os.environ["BENCH_LOCUST_SAMPLES"]).write_text(
        json.dumps({"samples": SAMPLES, "outcomes": OUTCOMES})
    )


def _count(outcome: str) -> None:
    OUTCOMES[outcome] = OUTCOMES.get(outcome, 0) + 1


class FrontDesk(FastHttpUser):
    wait_time = between(CONFIG["think_min"], CONFIG["think_max"])

    def on_start(self) -> None:
        number = next(_numbers)
        cookie, self.csrf = CONFIG["sessions"][number % len(CONFIG["sessions"])]
        self.headers = {"Cookie": cookie, "X-CSRFToken": self.csrf}
        users = CONFIG["users"]
        self.plans = CONFIG["plans"][number::users]
        self.plan_index = 0
        self.slots: list[dict] = []
        self.booked: list[int] = []
        self.rng = random.Random(number)

    # -- helpers ---------------------------------------------------------
    @property
    def plan(self) -> int:
        return self.plans[self.plan_index % len(self.plans)]

    def _day(self) -> str:
        return self.rng.choice(CONFIG["days"])

    def _search(self, *, days: int) -> None:
        first = dt.date.fromisoformat(self._day())
        params = {
            "plan": self.plan,
            "date_from": first.isoformat(),
            "date_to": (first + dt.timedelta(days=days - 1)).isoformat(),
        }
        with self.client.get(
            "/api/v1/slots/", params=params, headers=self.headers, name="slot search", catch_response=True
        ) as response:
            if response.status_code == 200:
                self.slots = response.json()["results"]
                response.success()
            else:
                response.failure(f"slots: {response.status_code}")

    # -- the mix -----------------------------------------------------------
    @task(4)
    def day_sheet(self) -> None:
        self.client.get(f"/schedule/day/?date={self._day()}", headers=self.headers, name="day sheet")

    @task(4)
    def calendar(self) -> None:
        monday = self.rng.choice(CONFIG["mondays"])
        start = f"{monday}T00:00:00"
        end = (dt.date.fromisoformat(monday) + dt.timedelta(days=7)).isoformat() + "T00:00:00"
        therapist = self.rng.choice(CONFIG["therapists"])
        self.client.get(
            f"/schedule/events/?start={start}&end={end}&therapist={therapist}",
            headers=self.headers,
            name="calendar feed",
        )

    @task(2)
    def slot_search(self) -> None:
        self._search(days=28)

    @task(1)
    def book(self) -> None:
        if not self.slots:
            self._search(days=7)
        if not self.slots:
            self.plan_index += 1
            return
        slot = self.slots.pop(self.rng.randrange(min(len(self.slots), 20)))
        body = {"plan": self.plan, "start": slot["start"], "therapist": slot["therapist"]}
        with self.client.post(
            "/api/v1/appointments/",
            data=json.dumps(body),
            headers={**self.headers, "Content-Type": "application/json"},
            name="book",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                self.booked.append(response.json()["id"])
                self.slots = []  # R5: the plan's next session needs a fresh search
                _count("booked")
                response.success()
            elif response.status_code == 409:
                _count("conflict (409: slot taken meanwhile)")
                response.success()
            elif response.status_code == 400 and "plan" in response.json():
                _count("plan full (400: R4), next plan")
                self.plan_index += 1
                self.slots = []
                response.success()
            else:
                response.failure(f"book: {response.status_code} {response.text[:200]}")

    @task(1)
    def cancel(self) -> None:
        if not self.booked:
            return
        pk = self.booked.pop(0)
        with self.client.post(
            f"/api/v1/appointments/{pk}/cancel/",
            data=json.dumps({"reason": "Patient called"}),
            headers={**self.headers, "Content-Type": "application/json"},
            name="cancel",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                _count("cancelled")
                response.success()
            else:
                response.failure(f"cancel: {response.status_code} {response.text[:200]}")
