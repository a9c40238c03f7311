"""`sds-market serve --workers N` on Linux: N workers, each listening on the port itself so
the kernel spreads connections among them; a worker that dies is replaced, and SIGTERM stops
them all once they have finished what they hold."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from marketplace import serving

pytestmark = pytest.mark.skipif(
    not serving.spreads_connections(), reason="workers with their own sockets need Linux"
)
WAIT_S = 90.0


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def until(what: str, check: object) -> None:
    """Poll a starting or stopping server until `check()` holds."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)  # polling processes, not synchronising on a guess
    raise AssertionError(f"not {what} within {WAIT_S} s")


def ready(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/readyz", timeout=5.0).status_code == 200
    except httpx.TransportError:
        return False


def test_two_workers_one_replaced_when_it_dies_and_all_stopped_together(
    backend: str, cli_database: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the workers' supervision is the same whatever the database")
    assert (
        subprocess.run([sys.executable, "-m", "marketplace.cli", "db", "upgrade"]).returncode == 0
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "marketplace.cli", "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        until("two workers", lambda: len(children(server.pid)) == 2)
        until("ready", lambda: ready(base_url))
        first, second = sorted(children(server.pid))
        os.kill(first, signal.SIGKILL)
        until(
            "replaced", lambda: first not in children(server.pid) and len(children(server.pid)) == 2
        )
        assert second in children(server.pid), "the other worker carried on"
        until("ready again", lambda: ready(base_url))
        workers = children(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=WAIT_S) == 0
        assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)
    finally:
        if server.poll() is None:
            server.kill()
