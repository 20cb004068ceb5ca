"""A broker that hangs instead of failing: a redis-server this test starts,
then pauses with SIGSTOP (the port still accepts connections, nothing
answers). A booking must not wait on it for more than ~1 s, and /healthz
must answer within 1 s, saying the broker is down."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

import pytest
import redis
from django.urls import reverse

from appointments import reminders, services
from appointments.models import Reminder
from appointments.reminders import planning
from appointments.tests.reminders_support import celery_publisher, free_port, scan_outbox_fixture  # noqa: F401
from clinic.celery import app as celery_app
from scripts.services import in_ci

pytestmark = pytest.mark.django_db

# What production uses for the worker's broker connection (clinic/settings.py).
PRODUCTION_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
    "visibility_timeout": 3600,
}


@dataclass
class PausableRedis:
    proc: subprocess.Popen
    url: str

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)


@pytest.fixture
def own_redis(tmp_path):
    binary = shutil.which("redis-server")
    if not binary:
        if in_ci():
            pytest.fail("redis-server is needed for the paused-broker test (CI=true)")
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the test's redis-server did not start")
            time.sleep(0.05)
    server = PausableRedis(proc, url)
    try:
        yield server
    finally:
        server.resume()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.usefixtures("scan_outbox")
def test_a_booking_with_a_paused_redis_takes_under_1_5_s_and_the_sweep_sends_later(
    own_redis, settings, plan, therapist, room, device, at, django_capture_on_commit_callbacks
):
    from treatments.tests.factories import PlanFactory

    settings.REMINDER_NUDGE = True
    planning._broker_quiet_until = 0.0
    url = own_redis.url
    with celery_publisher(url, result_backend=url, broker_transport_options=PRODUCTION_OPTIONS):
        # The broker works: a publish lands in its queue.
        assert planning.nudge([0]) is True
        assert redis.Redis.from_url(url).llen("celery") == 1
        own_redis.pause()
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            first = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
        first_took = time.monotonic() - started
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            services.appointment_book(
                plan=PlanFactory(patient=plan.patient), start=at(2, "10:00"), therapist=therapist
            )
        second_took = time.monotonic() - started
    assert first_took < 1.5, first_took
    assert second_took < 1.0, second_took  # the publisher backs off after one failure
    assert Reminder.objects.get(appointment=first, kind="confirmation").status == "pending"
    own_redis.resume()
    assert reminders.reminders_sweep().sent == 2  # nothing was lost
    planning._broker_quiet_until = 0.0
    celery_app.conf.broker_url = settings.CELERY_BROKER_URL


def test_healthz_answers_within_a_second_with_a_paused_redis(own_redis, settings, client):
    settings.CELERY_BROKER_URL = own_redis.url
    started = time.monotonic()
    assert client.get(reverse("healthz")).json()["broker"] == "ok"
    own_redis.pause()
    started = time.monotonic()
    response = client.get(reverse("healthz"))
    took = time.monotonic() - started
    assert took < 1.0, took
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "down"}


def test_the_sweep_has_a_queue_of_its_own_that_workers_consume():
    from django.conf import settings as django_settings

    from appointments.tasks import reminders_send, reminders_sweep

    router = celery_app.amqp.router
    assert router.route({}, reminders_sweep.name)["queue"].name == django_settings.REMINDER_SWEEP_QUEUE
    assert router.route({}, reminders_send.name)["queue"].name == "celery"
    # A worker started without -Q consumes every configured queue.
    assert {q.name for q in celery_app.amqp.queues.values()} >= {
        "celery",
        django_settings.REMINDER_SWEEP_QUEUE,
    }
