"""Shared by the reminder tests (import the *_fixture names into a test
module to use the `smtp_sink` and `scan_outbox` fixtures): a real SMTP server (aiosmtpd) that records
what arrives, a Celery worker subprocess that can be SIGKILLed, and the scan
that no email carries clinical words (R13)."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.core import mail
from django.db import connection

from treatments.models import Medication, Modality, TreatmentPlan

ROOT = Path(__file__).resolve().parents[2]

# Always forbidden in a patient email, whatever the data: treatment names
# and the drugs of DOMAIN.md.
FIXED_WORDS = [
    *(m.value.replace("_", " ") for m in Modality),
    *(m.label for m in Modality),
    "tap-water",
    "ultrasound",
    "hyperhidrosis",
    "dexamethasone",
    "lidocaine",
    "hydrocortisone",
    "ketoprofen",
    "acetic acid",
    "hyaluronidase",
    "vaseline",
    "petroleum jelly",
]


def clinical_words() -> list[str]:
    """Fixed words plus every medication, body site, indication and ICD-10
    code in the database right now."""
    words = {w.lower() for w in FIXED_WORDS}
    words |= {name.lower() for name in Medication.objects.values_list("name", flat=True)}
    for site, indication, icd10 in TreatmentPlan.objects.values_list("body_site", "indication", "icd10_code"):
        words |= {w.lower() for w in (site, indication, icd10) if w and w.strip()}
    return sorted(words)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def texts_of(message: EmailMessage) -> list[str]:
    """Subject, every text part (plain, HTML, calendar), decoded."""
    texts = [str(message["subject"] or "")]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            texts.append(part.get_content())
    return texts


def assert_no_clinical_words(messages: list[EmailMessage], words: list[str] | None = None) -> None:
    words = clinical_words() if words is None else words
    for message in messages:
        for text in texts_of(message):
            lowered = text.lower()
            found = [w for w in words if w in lowered]
            assert not found, f"clinical words {found} in {message['subject']!r}"


def outbox_messages() -> list[EmailMessage]:
    return [parse(m.message().as_bytes()) for m in getattr(mail, "outbox", [])]


def reminder_id(message: EmailMessage) -> int:
    return int(message["X-Phoresis-Reminder"])


def message_id(message: EmailMessage) -> str:
    """The Message-ID header (a long one arrives folded: unfold it)."""
    return str(message["Message-ID"]).strip()


NEW_YORK = ZoneInfo("America/New_York")


def next_dst_change(after: dt.date, *, spring: bool) -> dt.date:
    """The next date after `after` on which New York's offset changes."""
    day = after
    for _ in range(400):
        day += dt.timedelta(days=1)
        before = dt.datetime.combine(day, dt.time(0), NEW_YORK).utcoffset()
        later = dt.datetime.combine(day, dt.time(12), NEW_YORK).utcoffset()
        if before != later and (later > before) == spring:
            return day
    raise AssertionError("no DST change within 400 days")


def calendar_of(message) -> icalendar.Calendar:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_content())


def event_of(message) -> icalendar.Event:
    return calendar_of(message).walk("VEVENT")[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- a real SMTP server ---------------------------------------------------------
@dataclass
class Gate:
    """Hold the server at one SMTP step of the n-th message (1-based)."""

    step: str  # "RCPT" (before the body) or "DATA" (body received, before 250)
    number: int
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class Sink:
    """What the test server received, and how it should answer. aiosmtpd is
    handed a `Hooks` for it, never the Sink itself (see `Hooks`)."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.raw: list[bytes] = []
        self.rcpt_count = 0
        self.gate: Gate | None = None
        self.fail_next: list[str] = []  # canned replies for the next messages' DATA

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [parse(raw) for raw in self.raw]

    def count(self) -> int:
        with self.lock:
            return len(self.raw)

    def wait_for(self, n: int, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.count() < n:
            time.sleep(0.05)
        return self.messages

    def settle(self, quiet: float = 1.0, timeout: float = 30.0) -> list[EmailMessage]:
        """Wait until nothing new arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_count = self.count()
            if now_count != last:
                last, since = now_count, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.05)
        return self.messages

    async def _hold(self, step: str, number: int) -> None:
        gate = self.gate
        if gate is None or gate.step != step or gate.number != number:
            return
        gate.reached.set()
        for _ in range(600):  # at most 30 s
            if gate.release.is_set():
                return
            await asyncio.sleep(0.05)

    # what the hooks do
    async def on_rcpt(self, envelope, address) -> str:
        with self.lock:
            self.rcpt_count += 1
            number = self.rcpt_count
        envelope.rcpt_tos.append(address)
        envelope.phoresis_number = number
        await self._hold("RCPT", number)
        return "250 OK"

    async def on_data(self, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0)
            self.raw.append(envelope.original_content or envelope.content)
        await self._hold("DATA", getattr(envelope, "phoresis_number", 0))
        return "250 Message accepted for delivery"


class Hooks:
    """The handler aiosmtpd is given: the two hooks and nothing else.

    aiosmtpd builds a new SMTP protocol object for every connection, and its
    __init__ runs inspect.getmembers(handler) (looking for auth_* methods),
    which evaluates every property of the handler. Handed the Sink, each new
    connection evaluated `Sink.messages`, parsing every message received so
    far, inside the server's event loop and before the 220 greeting: a cost
    growing with the run, until after about 1,000 messages each greeting took
    longer than the workers' 5 s connect timeout."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return await self.sink.on_rcpt(envelope, address)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        return await self.sink.on_data(envelope)


@contextmanager
def smtp_server(*, delay: float = 0.0):
    sink = Sink(delay=delay)
    port = free_port()
    # server_hostname: otherwise aiosmtpd calls socket.getfqdn() for every
    # connection, inside its event loop; a slow resolver then stalls every
    # client for seconds (seen with three workers reconnecting per batch).
    controller = Controller(Hooks(sink), hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    sink.port = port
    try:
        yield sink
    finally:
        if sink.gate is not None:
            sink.gate.release.set()
        controller.stop()


@pytest.fixture(name="smtp_sink")
def smtp_sink_fixture(settings, django_db_blocker):
    """A real SMTP server on a free port; Django (and workers started with
    `worker_env`) send to it. Every message it received is scanned for
    clinical words before the test database is flushed."""
    with smtp_server() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_TIMEOUT = 5
        yield sink
        with django_db_blocker.unblock():
            assert_no_clinical_words(sink.messages)


@pytest.fixture(name="scan_outbox")
def scan_outbox_fixture(django_db_blocker):
    """Every message a test leaves in the in-memory outbox has no clinical words."""
    yield
    messages = outbox_messages()
    if messages:
        with django_db_blocker.unblock():
            assert_no_clinical_words(messages)


# -- Celery: the publisher (this process) and workers (subprocesses) ---------------------
def reset_publisher() -> None:
    """Celery caches the broker connection pool, a producer pool built on it
    and the result backend (every publish makes an AsyncResult); drop them so
    the next publish, here or in another test, uses the current configuration."""
    from clinic.celery import app

    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@contextmanager
def celery_publisher(broker_url: str, **conf):
    """Point this process's Celery app at `broker_url` for a while."""
    from clinic.celery import app

    conf = {"broker_url": broker_url, **conf}
    old = {name: app.conf[name] for name in conf}
    app.conf.update(conf)
    reset_publisher()
    try:
        yield app
    finally:
        app.conf.update(old)
        reset_publisher()


# -- a Celery worker that can be killed ---------------------------------------------
def worker_env(*, broker_url: str, smtp_port: int | None = None, **extra: str) -> dict[str, str]:
    """The production settings module, pointed at the test database, the
    test broker and the test SMTP server."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        database_url = f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    else:
        database_url = f"sqlite:///{db['NAME']}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        SITE_URL=settings.SITE_URL,
        CLINIC_TIME_ZONE=settings.CLINIC_TIME_ZONE,
        DATABASE_URL=database_url,
        CONN_MAX_AGE="0",
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=broker_url if broker_url.startswith("redis") else "",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    if not env["CELERY_RESULT_BACKEND"]:
        env.pop("CELERY_RESULT_BACKEND")
    if smtp_port is not None:
        env.update(
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_port),
            EMAIL_TIMEOUT="5",
            REMINDER_SMTP_REPLY_TIMEOUT="5",
        )
    env.update(extra)
    return env


class Worker:
    def __init__(self, proc: subprocess.Popen, log: Path) -> None:
        self.proc = proc
        self.log = log

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children)."""
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def celery_worker(env: dict[str, str], log: Path, *, concurrency: int = 1, args: tuple[str, ...] = ()):
    """`celery -A clinic worker` in its own process group, its output in `log`
    (a pipe nobody reads would fill up and stall the worker)."""
    cmd = [
        sys.executable, "-m", "celery", "-A", "clinic", "worker",
        "--loglevel", "INFO", "--concurrency", str(concurrency),
        "--hostname", f"{log.stem}-{os.getpid()}-{time.monotonic_ns()}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat", *args,
    ]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(proc, log)
    try:
        yield worker
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()


def wait_until(condition, *, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
