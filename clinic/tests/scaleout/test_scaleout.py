"""Scale-out across hosts: real processes in network namespaces.

One host runs PostgreSQL, Redis and an SMTP sink; two web hosts run
gunicorn; two worker hosts run Celery workers; one host runs beat. The test
(the "proxy" and the clients) sits in the root namespace and reaches them
through a bridge. It proves, on real processes and a real network:

- 20 concurrent bookings of one slot through both web hosts: exactly one;
- a web host's link cut mid-load: the other keeps serving, and every
  booking the clients asked for is in the database exactly once;
- 2,000 due reminders swept by both worker hosts, one host's worker killed
  mid-sweep: every message delivered once (duplicates: 0).

Runs under CI=true (or SCALEOUT=1); skips with the reason elsewhere or where
namespaces cannot be made. Bounded: every wait has a deadline. The figures
are printed (`-s`) and written to var/scaleout-figures.json.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from glob import glob
from pathlib import Path

import pytest

from clinic.tests.scaleout.netns import Network, cannot_make_namespaces, stop, wait_for
from scripts.services import in_ci

ROOT = Path(__file__).resolve().parents[3]
PY = sys.executable
BIN = Path(PY).parent
HOSTS = ["db", "web1", "web2", "worker1", "worker2", "beat"]
REMINDERS = 2000
LOAD = 120
KILL_AFTER = 400  # messages delivered before worker host 1 is killed
CUT_AFTER = 40  # load bookings answered before web host 1's link goes down

pytestmark = [pytest.mark.slow, pytest.mark.scaleout]


def _postgres_bin() -> Path | None:
    found = sorted(glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("postgres")
    return Path(which).parent if which else None


def _skip_reason() -> str | None:
    if not (in_ci() or os.environ.get("SCALEOUT") == "1"):
        return "the scale-out test runs under CI=true or SCALEOUT=1 (it takes a few minutes)"
    if reason := cannot_make_namespaces():
        return reason
    if _postgres_bin() is None or shutil.which("redis-server") is None:
        return "needs PostgreSQL's server binaries and redis-server on this machine"
    if shutil.which("runuser") is None:
        return "needs runuser (util-linux) to run PostgreSQL as its own user"
    try:
        subprocess.run(["id", "postgres"], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        return "needs a `postgres` system user to run the cluster"
    return None


class Cluster:
    """The whole topology, started in order, stopped in reverse."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.net = Network(HOSTS)
        db = self.net["db"].address
        self.mail_log = work / "mail.log"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(work),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            "DEBUG": "false",
            "SECRET_KEY": "scale-out-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "clinic.example",
            "SECURE_SSL_REDIRECT": "false",
            "SITE_URL": "https://clinic.example",
            "DATABASE_URL": f"postgres://postgres@{db}:5432/phoresis",
            "REDIS_URL": f"redis://{db}:6379/0",
            "EMAIL_HOST": db,
            "EMAIL_PORT": "2525",
            "STATIC_ROOT": str(work / "static"),
            "STATIC_COMPRESS": "false",
            "REMINDER_SWEEP_SECONDS": "1",
            # Longer than one batch takes on a loaded 2-core machine, or live
            # workers' claims are taken back (no duplicate, but wasted sends).
            "REMINDER_CLAIM_LEASE_SECONDS": "30",
            "REMINDER_SWEEP_BATCH": "10",
            "REMINDER_NUDGE": "false",
            "CONN_MAX_AGE": "60",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
            "CELERY_BEAT_HEARTBEAT_FILE": str(work / "beat-heartbeat"),
        }
        self.started = time.monotonic()
        self.figures: dict = {}

    def log(self, name: str) -> Path:
        return self.work / f"{name}.log"

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [PY, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        return result.stdout

    # -- the database host ----------------------------------------------------
    def start_db_host(self) -> None:
        host, pgbin, data = self.net["db"], _postgres_bin(), self.work / "pgdata"
        data.mkdir()
        shutil.chown(self.work, "postgres")
        shutil.chown(data, "postgres")
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(pgbin / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.net.prefix}.0/24 trust\n")
        host.spawn(
            [
                str(pgbin / "postgres"),
                "-D",
                str(data),
                "-c",
                f"listen_addresses={host.address}",
                "-c",
                f"unix_socket_directories={data}",
                "-c",
                "max_connections=100",
                "-c",
                "fsync=off",
                # A web host whose link is cut holds its transaction open; the
                # server ends it (and frees its row locks) after this long.
                "-c",
                "idle_in_transaction_session_timeout=5s",
                "-c",
                "tcp_keepalives_idle=5",
                "-c",
                "tcp_keepalives_interval=2",
                "-c",
                "tcp_keepalives_count=2",
            ],
            env={"PATH": self.env["PATH"], "LANG": "C.UTF-8"},
            log=self.log("postgres"),
            user="postgres",
        )
        host.spawn(
            [
                "redis-server",
                "--bind",
                host.address,
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ],
            env={"PATH": self.env["PATH"]},
            log=self.log("redis"),
        )
        host.spawn(
            [PY, str(Path(__file__).with_name("sink.py")), host.address, "2525", str(self.mail_log)],
            env=self.env,
            log=self.log("sink"),
            cwd=ROOT,
        )
        wait_for(
            lambda: _run([str(pgbin / "pg_isready"), "-h", host.address, "-U", "postgres", "-q"]),
            timeout=30,
            what="PostgreSQL",
        )
        subprocess.run(
            [str(pgbin / "createdb"), "-h", host.address, "-U", "postgres", "phoresis"], check=True
        )
        wait_for(lambda: _run(["redis-cli", "-h", host.address, "ping"]), timeout=15, what="Redis")
        wait_for(self.mail_log.exists, timeout=15, what="SMTP sink")
        self.figures["db_host_ready_s"] = round(time.monotonic() - self.started, 1)

    # -- application hosts -----------------------------------------------------
    def start_app_hosts(self) -> None:
        self.manage("manage.py", "migrate", "--no-input")
        self.manage("manage.py", "collectstatic", "--no-input", "-v", "0")
        for name in ("web1", "web2"):
            host = self.net[name]
            host.spawn(
                [
                    str(BIN / "gunicorn"),
                    "clinic.wsgi:application",
                    "--bind",
                    f"{host.address}:8000",
                    "--workers",
                    "2",
                    "--timeout",
                    "30",
                    "--graceful-timeout",
                    "5",
                    "--chdir",
                    str(ROOT),
                ],
                env=self.env,
                log=self.log(name),
                cwd=ROOT,
            )
        for name in ("worker1", "worker2"):
            self.net[name].spawn(
                [
                    str(BIN / "celery"),
                    "-A",
                    "clinic",
                    "worker",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "WARNING",
                    "-n",
                    f"{name}@%h",
                    "--without-gossip",
                    "--without-mingle",
                ],
                env=self.env,
                log=self.log(name),
                cwd=ROOT,
            )
        self.net["beat"].spawn(
            [
                str(BIN / "celery"),
                "-A",
                "clinic",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(self.work / "celerybeat-schedule"),
            ],
            env=self.env,
            log=self.log("beat"),
            cwd=ROOT,
        )
        for name in ("web1", "web2"):
            wait_for(lambda n=name: self.get(n, "/healthz")[0] == 200, timeout=60, what=f"{name} /healthz")
        self.figures["cluster_ready_s"] = round(time.monotonic() - self.started, 1)

    # -- HTTP ------------------------------------------------------------------
    def url(self, name: str, path: str) -> str:
        return f"http://{self.net[name].address}:8000{path}"

    def request(
        self, name: str, path: str, body: dict | None = None, *, timeout: float = 5
    ) -> tuple[int, dict]:
        headers = {"Accept": "application/json", "Host": "clinic.example"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Token {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url(name, path), data=data, headers=headers)  # noqa: S310 - our hosts
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:  # nosec B310 - test hosts
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def get(self, name: str, path: str, *, timeout: float = 5) -> tuple[int, dict]:
        return self.request(name, path, timeout=timeout)

    def close(self) -> None:
        self.net.close()


def _run(argv: list[str]) -> bool:
    return subprocess.run(argv, capture_output=True).returncode == 0


def _delivered(mail_log: Path) -> collections.Counter:
    """How many times the sink accepted each reminder row's message."""
    counts: collections.Counter = collections.Counter()
    for line in mail_log.read_text().splitlines():
        if match := re.search(r"reminder\.(\d+)\.", line):
            counts[int(match.group(1))] += 1
    return counts


def _sql(cluster: Cluster, query: str) -> list[list[str]]:
    out = subprocess.run(
        [
            "psql",
            "-h",
            cluster.net["db"].address,
            "-U",
            "postgres",
            "-d",
            "phoresis",
            "-At",
            "-F",
            "\t",
            "-c",
            query,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


@pytest.fixture(scope="module")
def cluster():
    if reason := _skip_reason():
        pytest.skip(reason)
    work = Path(tempfile.mkdtemp(prefix="phoresis-scaleout-"))
    made = Cluster(work)
    try:
        made.start_db_host()
        made.start_app_hosts()
        seeded = json.loads(
            made.manage("-m", "clinic.tests.scaleout.seed", "setup", str(LOAD)).splitlines()[-1]
        )
        made.token = seeded["token"]
        made.seeded = seeded
        yield made
    except BaseException:
        for log in sorted(work.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        raise
    finally:
        made.close()
        figures = ROOT / "var" / "scaleout-figures.json"
        figures.parent.mkdir(exist_ok=True)
        figures.write_text(json.dumps(made.figures, indent=2) + "\n")
        print("scale-out figures:", json.dumps(made.figures), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


def healthcheck(cluster: Cluster, host: str, argv: list[str], **env: str) -> subprocess.CompletedProcess:
    """A container healthcheck, run on that host as docker would run it."""
    return subprocess.run(
        ["ip", "netns", "exec", cluster.net[host].netns, *argv],
        cwd=ROOT,
        env={**cluster.env, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def ping_worker(cluster: Cluster, name: str) -> subprocess.CompletedProcess:
    node = f"{name}@{socket.gethostname()}"
    return healthcheck(
        cluster,
        name,
        [str(BIN / "celery"), "-A", "clinic", "inspect", "ping", "--destination", node, "--timeout", "5"],
    )


def test_every_host_passes_its_container_healthcheck(cluster):
    # As docker runs them: a few tries (the compose file's `retries`), each bounded.
    def passes(host: str, argv: list[str], **env: str) -> bool:
        return healthcheck(cluster, host, argv, **env).returncode == 0

    for name in ("web1", "web2"):
        address = f"{cluster.net[name].address}:8000"
        check = [PY, "-m", "clinic.healthcheck", "web"]
        assert wait_for(
            lambda n=name, c=check, a=address: passes(n, c, HEALTHCHECK_ADDRESS=a),
            timeout=60,
            what=f"{name} check",
        )
    for name in ("worker1", "worker2"):
        assert wait_for(
            lambda n=name: ping_worker(cluster, n).returncode == 0, timeout=60, what=f"{name} ping"
        )
    check = [PY, "-m", "clinic.healthcheck", "beat"]
    assert wait_for(lambda: passes("beat", check), timeout=60, what="beat heartbeat")


def test_twenty_concurrent_bookings_of_one_slot_through_both_web_hosts_book_exactly_one(cluster):
    seeded = cluster.seeded
    bodies = [
        {"plan": plan, "start": seeded["race_start"], "therapist": seeded["race_therapist"]}
        for plan in seeded["race_plans"]
    ]
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(
                lambda args: cluster.request(args[0], "/api/v1/appointments/", args[1], timeout=30),
                [("web1" if n % 2 else "web2", body) for n, body in enumerate(bodies)],
            )
        )
    statuses = collections.Counter(status for status, _ in answers)
    booked = _sql(
        cluster,
        f"SELECT count(*) FROM appointments_appointment WHERE therapist_id = {int(seeded['race_therapist'])} "
        "AND status <> 'cancelled'",
    )
    cluster.figures["race"] = {"requests": 20, "answers": dict(statuses), "booked": int(booked[0][0])}
    assert statuses[201] == 1, answers
    assert statuses[409] == 19, answers
    assert int(booked[0][0]) == 1


def test_a_web_host_cut_off_mid_load_leaves_the_other_serving_and_no_booking_lost(cluster):
    seeded = cluster.seeded
    therapist = seeded["load_therapist"]
    outcome: dict[int, list] = {}
    cut_at: list[float] = []
    answered = collections.Counter()
    failovers = 0

    def book(index: int, item: dict) -> None:
        nonlocal failovers
        body = {"plan": item["plan"], "start": item["start"], "therapist": therapist}
        first = "web1" if index % 2 else "web2"
        tries = []
        for name in (first, "web2" if first == "web1" else "web1", "web2"):
            if name == "web1" and cut_at:
                continue  # the proxy has marked web1 down
            try:
                status, _ = cluster.request(
                    name, "/api/v1/appointments/", body, timeout=4 if name == "web1" else 30
                )
            except OSError as exc:  # timeout or refused: fail over
                tries.append((name, type(exc).__name__))
                failovers += 1 if name == "web1" else 0
                continue
            tries.append((name, status))
            answered[name] += 1
            if status in (201, 409):
                break
        outcome[index] = tries
        if len(outcome) == CUT_AFTER and not cut_at:
            cluster.net["web1"].link(up=False)
            cut_at.append(time.monotonic())

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda pair: book(*pair), enumerate(seeded["load"])))
    elapsed = time.monotonic() - started
    served_after_cut = cluster.get("web2", "/healthz")[0]
    cluster.net["web1"].link(up=True)
    recovered = wait_for(
        lambda: cluster.get("web1", "/healthz", timeout=2)[0] == 200, timeout=60, what="web1 back"
    )

    plans = ",".join(str(int(item["plan"])) for item in seeded["load"])
    rows = _sql(
        cluster,
        f"SELECT plan_id, count(*) FROM appointments_appointment WHERE plan_id IN ({plans}) "
        "AND status <> 'cancelled' GROUP BY plan_id",
    )
    per_plan = {int(plan): int(count) for plan, count in rows}
    lost = [item["plan"] for item in seeded["load"] if per_plan.get(item["plan"], 0) == 0]
    doubled = [plan for plan, count in per_plan.items() if count > 1]
    final = collections.Counter(tries[-1][1] for tries in outcome.values())
    cluster.figures["link_cut"] = {
        "bookings": LOAD,
        "cut_after": CUT_AFTER,
        "answered_by": dict(answered),
        "final_answers": {str(k): v for k, v in final.items()},
        "failovers": failovers,
        "booked": sum(per_plan.values()),
        "lost": len(lost),
        "duplicates": len(doubled),
        "seconds": round(elapsed, 1),
        "web1_back": bool(recovered),
    }
    assert served_after_cut == 200
    assert not lost, outcome
    assert not doubled
    assert sum(per_plan.values()) == LOAD
    assert final[201] + final[409] == LOAD, outcome
    assert answered["web2"] > LOAD // 2


def test_two_thousand_reminders_swept_by_both_worker_hosts_one_killed_every_message_once(cluster):
    made = json.loads(
        cluster.manage("-m", "clinic.tests.scaleout.seed", "reminders", str(REMINDERS)).splitlines()[-1]
    )
    ids = set(made["ids"])
    assert len(ids) == REMINDERS
    started = time.monotonic()
    wait_for(
        lambda: sum(1 for pk in _delivered(cluster.mail_log) if pk in ids) >= KILL_AFTER,
        timeout=120,
        what=f"{KILL_AFTER} reminders delivered",
        every=0.05,
    )
    victim = cluster.net["worker1"]
    for proc in victim.procs:
        stop(proc, sig=signal.SIGKILL)
    killed_at = sum(1 for pk in _delivered(cluster.mail_log) if pk in ids)
    id_list = ",".join(str(pk) for pk in ids)

    def settled() -> bool:
        rows = _sql(
            cluster,
            f"SELECT count(*) FROM appointments_reminder WHERE id IN ({id_list}) "
            "AND status IN ('pending', 'sending')",
        )
        return int(rows[0][0]) == 0

    wait_for(settled, timeout=480, what="every reminder settled", every=0.5)
    elapsed = time.monotonic() - started
    delivered = _delivered(cluster.mail_log)
    statuses = dict(
        (status, int(count))
        for status, count in _sql(
            cluster,
            f"SELECT status, count(*) FROM appointments_reminder WHERE id IN ({id_list}) GROUP BY status",
        )
    )
    unconfirmed = {
        int(pk)
        for (pk,) in _sql(
            cluster,
            f"SELECT id FROM appointments_reminder WHERE id IN ({id_list}) AND status = 'failed' "
            "AND error LIKE 'Delivery unconfirmed%'",
        )
    }
    ours = {pk: n for pk, n in delivered.items() if pk in ids}
    duplicates = {pk: n for pk, n in delivered.items() if n > 1}  # every message, the bookings' too
    missing = ids - set(ours)
    cluster.figures["sweep"] = {
        "reminders": REMINDERS,
        "delivered_before_kill": killed_at,
        "delivered": len(ours),
        "duplicates": len(duplicates),
        "statuses": statuses,
        "unconfirmed": len(unconfirmed),
        "unconfirmed_and_missing": len(missing & unconfirmed),
        "seconds": round(elapsed, 1),
        "per_minute": round(len(ours) / elapsed * 60),
    }
    # The dead host's healthcheck now fails; the live one's still passes.
    assert ping_worker(cluster, "worker1").returncode != 0
    assert ping_worker(cluster, "worker2").returncode == 0
    assert not duplicates
    # A message is missing only if its worker died between marking it handed
    # over and the mail server's 250: then the row shows "Delivery
    # unconfirmed" for the front desk (at most the killed host's 2 in flight).
    assert missing <= unconfirmed
    assert len(missing) <= 2
    assert statuses.get("sent", 0) + len(unconfirmed) == REMINDERS
