"""Connection deadlines on a real server started the way users start it: ``python -m service.ops.server``.

Slow or silent clients (slowloris) must not hold connections: a request head has HEADER_TIMEOUT_SECONDS,
each gap in a request body BODY_TIMEOUT_SECONDS, an idle keep-alive connection KEEP_ALIVE_TIMEOUT_SECONDS.
The head deadline is set well above the keep-alive one so that each test can tell which deadline closed
the connection. Margins are generous (the machine is shared); every wait ends when the server closes.
"""

from __future__ import annotations

import json
import selectors
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from service.config import Settings
from tests.helpers import KEYS, ROOT
from tests.servers import VENV_BIN, free_port, server_env, stop, wait_ready

pytestmark = pytest.mark.server

SERVER_COMMAND = [str(VENV_BIN / "python"), "-m", "service.ops.server"]
HEADER_TIMEOUT = 4.0
BODY_TIMEOUT = 1.0
KEEP_ALIVE_TIMEOUT = 1
MARGIN = 4.0
STALLED = 200
# What a stalled client has sent when it stops: nothing, part of a request line, part of the headers.
PARTIAL_HEADS = [b"", b"GET /heal", b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl"]
ASSESSMENT = {
    "force": "west-midlands",
    "call": {"type": "violence.knife_crime"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": True},
}


def start_server(env: dict[str, str], *, workers: int = 1) -> subprocess.Popen:
    """The service's server command in its own process group, its log in a file (see tests/servers.py)."""
    command = [*SERVER_COMMAND, "--host", "127.0.0.1", "--port", env["PORT"], "--workers", str(workers)]
    log = tempfile.NamedTemporaryFile("w", prefix="server-", suffix=".log", delete=False)  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True, start_new_session=True
    )
    log.close()
    process.log_path = log.name  # type: ignore[attr-defined]
    try:
        wait_ready(int(env["PORT"]), process)
    except AssertionError:
        stop(process)
        raise
    return process


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    database = tmp_path_factory.mktemp("timeouts") / "server.db"
    env = server_env(
        f"sqlite:///{database}",
        port,
        HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        KEEP_ALIVE_TIMEOUT_SECONDS=str(KEEP_ALIVE_TIMEOUT),
    )
    process = start_server(env)
    yield port
    stop(process)


def connect(port: int, payload: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if payload:
        sock.sendall(payload)
    return sock


def read_until_closed(sock: socket.socket, *, deadline: float) -> tuple[bytes, float | None]:
    """Everything the server sends, and when it closed the connection (None: still open at the deadline)."""
    received = b""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return received, time.monotonic()
        if not chunk:
            return received, time.monotonic()
        received += chunk
    return received, None


def problem_of(response: bytes) -> tuple[str, dict[str, str], dict[str, object]]:
    """The status line, the headers and the JSON body of one raw HTTP response."""
    head, _, body = response.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status, headers, json.loads(body)


def assert_408_problem(response: bytes, *, instance: str | None) -> None:
    status, headers, problem = problem_of(response)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["content-type"] == "application/problem+json" and headers["connection"] == "close"
    assert problem["type"] == "https://pcso-deployment.local/problems/request-timeout"
    assert problem["status"] == 408 and problem["title"] and problem["detail"]
    assert problem.get("instance") == instance


def wait_all_closed(socks: list[socket.socket], *, deadline: float) -> list[tuple[bytes, float | None]]:
    """For each socket, what the server sent on it and when the server closed it (None: still open at the deadline)."""
    received = {sock: b"" for sock in socks}
    closed: dict[socket.socket, float] = {}
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        while len(closed) < len(socks) and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=left):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    received[sock] += chunk
                else:
                    closed[sock] = time.monotonic()
                    selector.unregister(sock)
    return [(received[sock], closed.get(sock)) for sock in socks]


def test_stalled_heads_are_closed_while_other_requests_are_served(port: int) -> None:
    stalled: list[tuple[bytes, socket.socket, float]] = []
    try:
        for i in range(STALLED):
            payload = PARTIAL_HEADS[i % len(PARTIAL_HEADS)]
            stalled.append((payload, connect(port, payload), time.monotonic()))
        started = time.monotonic()
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=HEADER_TIMEOUT)
        decided = httpx.post(
            f"http://127.0.0.1:{port}/v1/assessments",
            json=ASSESSMENT,
            headers={"Authorization": f"Bearer {KEYS['dispatcher']}"},
            timeout=HEADER_TIMEOUT,
        )
        served_in = time.monotonic() - started
        assert ready.status_code == 200
        assert decided.status_code == 200 and decided.json()["decision"] == "do_not_deploy"
        # Answered while every stalled connection was still held open.
        for _, sock, _ in stalled:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)

        outcomes = wait_all_closed([sock for _, sock, _ in stalled], deadline=time.monotonic() + HEADER_TIMEOUT + MARGIN)
        for (payload, _, opened), (received, closed) in zip(stalled, outcomes, strict=True):
            assert closed is not None, f"a connection that sent {payload!r} was still open"
            assert HEADER_TIMEOUT / 2 <= closed - opened <= HEADER_TIMEOUT + MARGIN, closed - opened
            if payload:
                assert_408_problem(received, instance=None)
            else:
                assert received == b""
    finally:
        for _, sock, _ in stalled:
            sock.close()
    print(f"{STALLED} stalled heads held: /readyz and a decision answered in {served_in * 1000:.0f} ms")


def test_a_head_trickled_a_byte_at_a_time_is_still_cut_off(port: int) -> None:
    socks = [connect(port, b"GET /healthz HTTP/1.1\r\nX-Slow: ") for _ in range(5)]
    opened = time.monotonic()
    closed: dict[socket.socket, float] = {}
    received = {sock: b"" for sock in socks}
    try:
        for sock in socks:
            sock.setblocking(False)
        while len(closed) < len(socks) and time.monotonic() < opened + HEADER_TIMEOUT + MARGIN:
            for sock in socks:
                if sock in closed:
                    continue
                try:
                    sock.send(b"a")  # activity, but never the end of the head
                    chunk = sock.recv(65536)
                except BlockingIOError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    chunk = b""
                received[sock] += chunk
                if not chunk:
                    closed[sock] = time.monotonic()
            time.sleep(0.25)
    finally:
        for sock in socks:
            sock.close()
    assert len(closed) == len(socks)
    for sock in socks:
        assert HEADER_TIMEOUT / 2 <= closed[sock] - opened <= HEADER_TIMEOUT + MARGIN
        assert_408_problem(received[sock], instance=None)


def test_a_stalled_body_is_answered_408_and_closed(port: int) -> None:
    body = json.dumps(ASSESSMENT).encode()
    head = (
        b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {KEYS['dispatcher']}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )
    with connect(port, head + body[:20]) as sock:
        sent = time.monotonic()
        received, closed = read_until_closed(sock, deadline=sent + BODY_TIMEOUT + MARGIN)
    assert closed is not None, "the connection with a stalled body was still open"
    assert BODY_TIMEOUT / 2 <= closed - sent <= BODY_TIMEOUT + MARGIN
    assert_408_problem(received, instance="/v1/assessments")


def test_a_slow_body_that_keeps_arriving_is_decided(port: int) -> None:
    body = json.dumps(ASSESSMENT).encode()
    head = (
        b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + f"Authorization: Bearer {KEYS['dispatcher']}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )
    pieces = [body[i : i + 40] for i in range(0, len(body), 40)]
    with connect(port, head) as sock:
        started = time.monotonic()
        for piece in pieces:  # each gap well inside the body deadline, the whole well beyond it
            time.sleep(BODY_TIMEOUT / 3)
            sock.sendall(piece)
        assert time.monotonic() - started > BODY_TIMEOUT * 1.5
        received, closed = read_until_closed(sock, deadline=time.monotonic() + MARGIN)
    assert closed is not None
    status, _, answer = problem_of(received)
    assert status == "HTTP/1.1 200 OK" and answer["decision"] == "do_not_deploy"


def test_an_idle_keep_alive_connection_is_closed(port: int) -> None:
    with connect(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") as sock:
        response = b""
        while not response.endswith(b'{"status":"ok"}'):
            chunk = sock.recv(65536)
            assert chunk, "closed before answering"
            response += chunk
        answered = time.monotonic()
        rest, closed = read_until_closed(sock, deadline=answered + HEADER_TIMEOUT + MARGIN)
    assert response.startswith(b"HTTP/1.1 200 OK") and rest == b""
    assert closed is not None, "the idle keep-alive connection was still open"
    # Closed by the keep-alive deadline, well before the head deadline would have closed it.
    assert KEEP_ALIVE_TIMEOUT / 2 <= closed - answered < HEADER_TIMEOUT - 0.5, closed - answered


@pytest.mark.parametrize("name", ["HEADER_TIMEOUT_SECONDS", "BODY_TIMEOUT_SECONDS", "KEEP_ALIVE_TIMEOUT_SECONDS"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_timeouts_must_be_positive_numbers(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()


def test_timeout_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEADER_TIMEOUT_SECONDS", "BODY_TIMEOUT_SECONDS", "KEEP_ALIVE_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds, settings.keep_alive_timeout_seconds) == (10, 10, 5)


def test_the_server_refuses_to_start_with_an_invalid_timeout(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'server.db'}", port, HEADER_TIMEOUT_SECONDS="0")
    result = subprocess.run([*SERVER_COMMAND, "--port", str(port)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "header_timeout_seconds" in result.stderr


def test_two_workers_start_and_apply_the_deadlines(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(
        f"sqlite:///{tmp_path / 'server.db'}",
        port,
        HEADER_TIMEOUT_SECONDS="1",
    )
    process = start_server(env, workers=2)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        socks = [connect(port, b"GET /healthz HTTP/1.1\r\n") for _ in range(8)]  # to whichever worker accepts each
        outcomes = wait_all_closed(socks, deadline=time.monotonic() + 1 + MARGIN)
        for sock in socks:
            sock.close()
    finally:
        stop(process)
    assert len({line for line in process.stderr_text.splitlines() if "Started server process" in line}) == 2  # type: ignore[attr-defined]
    for received, closed in outcomes:
        assert closed is not None
        assert_408_problem(received, instance=None)
