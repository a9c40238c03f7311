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
from collections.abc import Callable

import pytest

from marketplace import serving
from matching.page_bench import children, wait_until_ready

pytestmark = pytest.mark.skipif(
    not serving.spreads_connections(), reason="workers with their own sockets need Linux"
)
WAIT_S = 90.0


def until(what: str, check: Callable[[], bool]) -> None:
    """Poll the supervisor's processes until `check()` holds."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)  # polling processes, not synchronising on a guess
    raise AssertionError(f"not {what} within {WAIT_S} s")


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
        wait_until_ready(server, base_url, workers=2)
        assert len(children(server.pid)) == 2
        first, second = sorted(children(server.pid))
        os.kill(first, signal.SIGKILL)
        until(
            "replaced", lambda: first not in children(server.pid) and len(children(server.pid)) == 2
        )
        assert second in children(server.pid), "the other worker carried on"
        wait_until_ready(server, base_url, workers=2)
        workers = children(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=WAIT_S) == 0
        assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)
    finally:
        if server.poll() is None:
            server.kill()
