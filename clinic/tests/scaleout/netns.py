"""A small network of hosts on one machine: Linux network namespaces joined
by veth pairs to a bridge, with addresses of the test's own. Each host runs
real processes (PostgreSQL, Redis, gunicorn, Celery) inside its namespace;
the test process talks to them from the root namespace through the bridge.

Everything made here is named with a per-run suffix and removed by
`Network.close()`, whatever state the test ended in."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def cannot_make_namespaces() -> str | None:
    """Why this machine cannot run the test (None: it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    probe = f"phprobe{os.getpid() % 100000}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


def free_subnet() -> str:
    """A /24 in 10.231–10.250 that no route of this machine uses yet."""
    routes = _ip("-4", "route", "show", "table", "all").stdout
    for third in range(os.getpid() % 200, os.getpid() % 200 + 200):
        prefix = f"10.{231 + third // 250 % 20}.{third % 250}"
        if f"{prefix}." not in routes:
            return prefix
    raise RuntimeError("no free 10.x subnet for the test network")


@dataclass
class Host:
    name: str  # role in the test: db, web1, …
    netns: str
    address: str
    veth_outer: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    def spawn(
        self, argv: list[str], *, env: dict, log: Path, user: str | None = None, cwd: Path | str = "/"
    ) -> subprocess.Popen:
        command = ["ip", "netns", "exec", self.netns]
        if user:
            command += ["runuser", "-u", user, "--"]
        out = open(log, "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            command + argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def link(self, up: bool) -> None:
        _ip("link", "set", self.veth_outer, "up" if up else "down")


class Network:
    def __init__(self, names: list[str]) -> None:
        tag = f"{os.getpid() % 100000}"
        self.prefix = free_subnet()
        self.bridge = f"phb{tag}"
        self.hosts: dict[str, Host] = {}
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.prefix}.1/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for index, name in enumerate(names, start=10):
            netns = f"ph{tag}-{name}"
            outer, inner = f"ph{tag}o{index}", f"ph{tag}i{index}"
            host = Host(name, netns, f"{self.prefix}.{index}", outer)
            self.hosts[name] = host
            _ip("netns", "add", netns)
            _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            _ip("link", "set", inner, "netns", netns)
            _ip("link", "set", outer, "master", self.bridge)
            _ip("link", "set", outer, "up")
            _ip("netns", "exec", netns, "ip", "link", "set", "lo", "up")
            _ip("netns", "exec", netns, "ip", "addr", "add", f"{host.address}/24", "dev", inner)
            _ip("netns", "exec", netns, "ip", "link", "set", inner, "up")

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def close(self) -> None:
        for host in self.hosts.values():
            for proc in reversed(host.procs):
                stop(proc)
        for host in self.hosts.values():
            _ip("link", "del", host.veth_outer, check=False)
            _ip("netns", "del", host.netns, check=False)
        _ip("link", "del", self.bridge, check=False)


def stop(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
    """Signal the process's whole session (ip netns exec → runuser → server)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_for(check, *, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the service is still starting
            last = exc
        time.sleep(every)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s ({last})")
