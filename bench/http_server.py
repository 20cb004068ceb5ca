"""gunicorn as docker compose runs it, for the HTTP measures: the
production settings module (clinic.settings, DEBUG off), the project's
gunicorn.conf.py (worker class and count; loaded through
bench/gunicorn_bench.py, which only adds the profiling hook), bound to
127.0.0.1 on a free port. Sessions log in through the real login page.
Only 127.0.0.1 is ever contacted."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from bench import harness

HOST = "127.0.0.1"
WORK = harness.ROOT / "var" / "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(port: int, *, profile_dir: str | None = None) -> dict[str, str]:
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
        GUNICORN_BIND=f"{HOST}:{port}",
        GUNICORN_ACCESS_LOG=str(WORK / "gunicorn-access.log"),
    )
    if profile_dir:
        env["BENCH_PROFILE_DIR"] = profile_dir
    return env


def collectstatic(env: dict) -> None:
    """The production static files (whitenoise's compressed manifest), once: compressing
    42 MB takes minutes on a loaded machine, so a manifest newer than every source
    file is kept."""
    manifest = WORK / "static" / "staticfiles.json"
    sources = [harness.ROOT / "static"]
    if manifest.exists():
        newest = max(
            (path.stat().st_mtime for root in sources for path in root.rglob("*") if path.is_file()),
            default=0,
        )
        if newest < manifest.stat().st_mtime:
            return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=harness.ROOT,
        env=env,
        check=True,
        timeout=1200,
    )


def request(port: int, method: str, path: str, *, body: str | None = None, headers: dict | None = None):
    """One request on its own connection: (status, headers, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see var/bench/gunicorn.log")
        with contextlib.suppress(OSError):
            if request(port, "GET", "/healthz")[0] == 200:
                return
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def start(port: int, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "clinic.wsgi:application",
            "--config",
            str(harness.ROOT / "bench" / "gunicorn_bench.py"),
        ],
        cwd=harness.ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn's graceful stop; the workers follow the arbiter
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def running(*, profile_dir: str | None = None) -> Iterator[int]:
    """gunicorn up and answering /healthz; yields its port; stopped afterwards."""
    WORK.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = server_env(port, profile_dir=profile_dir)
    collectstatic(env)
    with open(WORK / "gunicorn.log", "w") as log:
        server = start(port, env, log)
        try:
            wait_ready(port, server)
            yield port
        finally:
            stop(server)


def workers_description() -> str:
    """What gunicorn.conf.py picks on this machine, e.g. "gthread 5×4"."""
    namespace: dict = {}
    exec((harness.ROOT / "gunicorn.conf.py").read_text(), namespace)  # our own file
    kind = namespace.get("worker_class", "sync")
    threads = namespace.get("threads", 1)
    workers = namespace.get("workers", 1)
    return f"{kind} {workers}×{threads}" if threads > 1 else f"{kind} ×{workers}"


def _cookies(headers) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in headers:
        if name.lower() == "set-cookie":
            jar.load(value)
    return {key: morsel.value for key, morsel in jar.items()}


def login(port: int, username: str, password: str) -> tuple[tuple[str, str], float]:
    """The real login page: GET the form, POST it. Returns (Cookie header, CSRF token) and its time."""
    began = time.perf_counter()
    status, headers, body = request(port, "GET", "/accounts/login/")
    csrf = _cookies(headers)["csrftoken"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    status, headers, _ = request(
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


class Browser:
    """One logged-in front desk on one kept-alive connection (as a browser tab)."""

    def __init__(self, port: int, session: tuple[str, str]):
        self.port = port
        self.cookie, self.csrf = session
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def send(self, method: str, path: str, *, body: str | None = None, headers: dict | None = None):
        all_headers = {"Cookie": self.cookie, **(headers or {})}
        if method != "GET":
            all_headers.update({"X-CSRFToken": self.csrf, "Referer": f"http://{HOST}:{self.port}/"})
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()  # the server closed a kept-alive connection: open another once
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                if attempt == 2 or method != "GET":  # a POST may have reached the server: never twice
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()
