"""Several worker processes on one port, each with its own listening socket (SO_REUSEPORT),
so the kernel spreads new connections evenly among them. With one shared socket (uvicorn's
--workers), whichever worker wakes first accepts, and a keep-alive connection stays with
it: measured here, ten clients all landed on one of two workers, which ran flat out while
the other sat idle and every page waited twice as long.

    python -m marketplace.serving HOST PORT     (one worker; `sds-market serve` runs these)

The supervisor starts the workers, starts a worker again if one dies, and passes SIGINT and
SIGTERM on to them so that they finish the requests they hold before stopping."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

APP = "marketplace.asgi:app"
RESTARTS_PER_MINUTE = 5
"""A worker dying more often than this is not a passing fault: stop, rather than loop."""
STOP_WITHIN_S = 30.0
KEEP_ALIVE_S = 75
"""How long an idle connection is kept open: longer than a load balancer's idle timeout
(commonly 60 s), so the balancer, not the app, closes it; else a request sent as the app
closes the connection fails (uvicorn's default is 5 s)."""
LARGE_ALLOCATION_BYTES = 1 << 20
"""Workers' malloc gives blocks of at least this size mappings of their own (glibc's
MALLOC_MMAP_THRESHOLD_). By default glibc raises that threshold after large blocks are
freed, so the gap analysis's passing arrays (tens of MB) would then come from the heap and
stay with the worker after it has finished: measured at 100,000 offers, 30 MB a worker."""


def spreads_connections() -> bool:
    """Whether the kernel balances connections among sockets sharing a port (Linux does;
    elsewhere the option exists without balancing, so one shared socket is used)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_worker(host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        APP, host=host, port=port, proxy_headers=True, timeout_keep_alive=KEEP_ALIVE_S
    )
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


def supervise(host: str, port: int, workers: int) -> int:
    """Run `workers` worker processes until told to stop; the exit status to end with."""
    # Bound here first, so a port in use is reported once, before any worker starts.
    listening_socket(host, port).close()
    command = [sys.executable, "-m", "marketplace.serving", host, str(port)]
    environment = {"MALLOC_MMAP_THRESHOLD_": str(LARGE_ALLOCATION_BYTES), **os.environ}
    running = [subprocess.Popen(command, env=environment) for _ in range(workers)]
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    deaths: list[float] = []
    try:
        while not stopping:
            for slot, process in enumerate(running):
                if process.poll() is None:
                    continue
                now = time.monotonic()
                deaths = [moment for moment in deaths if now - moment < 60] + [now]
                if len(deaths) > RESTARTS_PER_MINUTE:
                    print("Workers keep stopping; giving up.", file=sys.stderr)
                    return 1
                print(
                    f"A worker stopped (exit {process.returncode}); starting another.",
                    file=sys.stderr,
                )
                running[slot] = subprocess.Popen(command, env=environment)
            time.sleep(0.5)  # a supervisor's poll: nothing waits on it
        return 0
    finally:
        for process in running:
            if process.poll() is None:
                process.terminate()  # uvicorn finishes what it holds, then exits
        deadline = time.monotonic() + STOP_WITHIN_S
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    run_worker(sys.argv[1], int(sys.argv[2]))
