"""The bench's load driver reads whole answers as a server sends them (a length, chunks, or
a closed connection) and keeps the cookies it is given as a browser would, over a real
socket to a small server that answers as uvicorn does; and it charges the server the CPU
time Linux counts for its processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from matching.page_load import Connection, cpu_seconds
from tests.event_loops import run_in_own_loop

ANSWERS = [
    # A page in chunks, setting a cookie the next requests must carry.
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
    b"Set-Cookie: csrftoken=abc123; Path=/; SameSite=Lax\r\n\r\n"
    b"5\r\nHello\r\n7\r\n, world\r\n0\r\n\r\n",
    # A page with a length.
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nNot found",
    # The server closes the connection after this one.
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
]


def test_whole_answers_are_read_and_cookies_carried_across_connections() -> None:
    heads: list[str] = []
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while len(heads) < len(ANSWERS):
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            heads.append(head.decode("latin-1"))
            writer.write(ANSWERS[len(heads) - 1])
            await writer.drain()
            if b"Connection: close" in ANSWERS[len(heads) - 1]:
                break
        writer.close()

    async def scenario() -> list[int]:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        connection = Connection(f"http://127.0.0.1:{port}", {"sessionid": "s1"})
        try:
            return [await connection.get(f"/page/{n}?q=a%20b") for n in range(len(ANSWERS))]
        finally:
            await connection.close()
            server.close()
            await server.wait_closed()

    statuses = run_in_own_loop(scenario())

    assert statuses == [200, 404, 200, 200]
    assert [head.split("\r\n", 1)[0] for head in heads] == [
        f"GET /page/{n}?q=a%20b HTTP/1.1" for n in range(len(ANSWERS))
    ]
    assert "Cookie: sessionid=s1\r\n" in heads[0]
    assert all("Cookie: sessionid=s1; csrftoken=abc123\r\n" in head for head in heads[1:])
    assert connections == 2, "a new connection after the server closed the first"


def test_kinds_of_page_share_a_connection_and_keep_their_own_cookies() -> None:
    """A user asks for every kind of page over one connection (so the kinds queue at the
    same worker), sending and keeping each kind's cookies apart: a commissioner's session
    never goes with a public search."""
    heads: list[str] = []
    connections = 0
    answers = [
        b"HTTP/1.1 200 OK\r\nSet-Cookie: seen=public; Path=/\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nSet-Cookie: seen=gaps; Path=/\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ]

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while len(heads) < len(answers):
            try:
                heads.append((await reader.readuntil(b"\r\n\r\n")).decode("latin-1"))
            except asyncio.IncompleteReadError:
                break
            writer.write(answers[len(heads) - 1])
            await writer.drain()
        writer.close()

    async def scenario() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        connection = Connection(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", None)
        search: dict[str, str] = {}
        gaps = {"sessionid": "commissioner"}
        try:
            for jar in (search, gaps, search, gaps):
                assert await connection.get("/", jar) == 200
        finally:
            await connection.close()
            server.close()
            await server.wait_closed()
        assert search == {"seen": "public"}
        assert gaps == {"sessionid": "commissioner", "seen": "gaps"}

    run_in_own_loop(scenario())

    assert connections == 1
    assert "Cookie:" not in heads[0]
    assert "Cookie: sessionid=commissioner\r\n" in heads[1]
    assert "Cookie: seen=public\r\n" in heads[2]
    assert "Cookie: sessionid=commissioner; seen=gaps\r\n" in heads[3]


@pytest.mark.parametrize(
    "answer",
    [
        "HTTP/1.1 200 OK\r\nContent-Length: \u0661\u0662\r\n\r\n",  # Arabic-Indic digits
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n",
    ],
)
def test_an_answer_the_driver_cannot_read_is_refused_not_misread(answer: str) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer.encode("utf-8"))
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        server = await asyncio.start_server(reply, "127.0.0.1", 0)
        connection = Connection(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", None)
        try:
            with pytest.raises(ValueError, match="as the driver reads it"):
                await connection.get("/")
        finally:
            await connection.close()
            server.close()
            await server.wait_closed()

    run_in_own_loop(scenario())


def test_the_cpu_time_charged_to_the_server_is_what_its_processes_used() -> None:
    """The bench shares the workers' CPU time among the answers: it must read what Linux
    counts for each process, which the process itself can tell."""
    burner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "while time.process_time() < 0.3: pass\n"
            "print(time.process_time(), flush=True)\n"
            "sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert burner.stdout is not None
        told = float(burner.stdout.readline())
        counted = cpu_seconds([burner.pid])
        # Linux counts in ticks (a hundredth of a second here); the process read its own
        # time a moment before printing it.
        assert told - 0.02 <= counted <= told + 0.1
        assert cpu_seconds([burner.pid, burner.pid]) == pytest.approx(2 * counted, abs=0.02)
    finally:
        assert burner.stdin is not None
        burner.stdin.close()
        burner.wait(timeout=30)
    assert cpu_seconds([burner.pid]) == 0.0, "a process that has gone counts nothing"
