"""Load on a real server: throughput against the framework's ceiling, open-loop latency, cost growth.

Throughput: wrk (Debian package) drives POST /v1/assessments with a realistic mix (deployable,
refused, support after the event, with descriptions) at the service, and, in the same run with the
same client, payload and worker count, at bench/bare_app.py: the same request model validated and
a response of the same size, nothing decided or recorded.

Latency: an open-loop generator sends at a constant rate, each request at its scheduled time
whatever happened to the ones before, and measures from the scheduled time (so a slow answer
cannot slow the generator down). Its own lag is reported to show it kept up.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# A fresh audit signing key for the server under test (an Ed25519 key is 32 random bytes).
SIGNING_KEY = base64.b64encode(os.urandom(32)).decode("ascii")
KEY = "bench-dispatcher-key-0001"
AUDITOR_KEY = "bench-auditor-key-00001"
MIX = [
    {
        "force": "west-midlands",
        "task": "attend",
        "call": {
            "type": "asb.nuisance",
            "reference": "WMP-1",
            "flags": ["vulnerable_person"],
            "description": "Group of youths drinking and shouting outside the shops",
        },
        "location": {"risk_level": "low", "lpa": "birmingham-west", "neighbourhood": "ladywood"},
        "officer": {
            "id": "PCSO 4521",
            "designated_powers": ["require_name_address", "dispersal_direction"],
            "training_status": "independent",
            "in_uniform": True,
            "cycle_trained": True,
            "home_lpa": "birmingham-west",
            "home_neighbourhood": "ladywood",
        },
    },
    {
        "force": "west-midlands",
        "task": "attend",
        "call": {
            "type": "violence.knife_crime",
            "reference": "WMP-2",
            "grade": "emergency",
            "description": "Caller reports a man waving a knife outside the chip shop",
        },
        "location": {"risk_level": "high"},
        "officer": {"id": "PCSO 4522", "training_status": "independent", "in_uniform": True},
    },
    {
        "force": "west-midlands",
        "task": "house_to_house",
        "call": {"type": "serious.burglary_in_progress", "phase": "scene_secured", "reference": "WMP-3"},
        "location": {"risk_level": "low"},
        "officer": {"id": "PCSO 4523", "training_status": "independent", "in_uniform": True},
    },
    {
        "force": "kent",
        "task": "attend",
        "call": {
            "type": "crime.theft_low_value",
            "reference": "KEN-4",
            "description": "Bicycle taken from outside the library, no suspect seen",
        },
        "location": {"risk_level": "medium"},
        "officer": {"id": "PCSO 61234", "training_status": "coaching", "in_uniform": True},
    },
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(
    app: str, *, database_url: str | None = None, workers: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[int, int]]:
    """A uvicorn process serving ``app``; yields (port, pid)."""
    port = free_port()
    env = {
        **os.environ,
        "API_KEYS": f"{KEY}:dispatcher,{AUDITOR_KEY}:auditor",
        "ENVIRONMENT": "production",
        "AUDIT_SIGNING_KEY": SIGNING_KEY,
        **(extra_env or {}),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            # The protocol production serves with (python -m service.ops.server), for the service and the bare app alike.
            [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
            + ["--http", "service.ops.timeouts:TimeoutHttpProtocol"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            for _ in range(300):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield port, process.pid
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def bodies_file() -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)  # noqa: SIM115 - removed by the caller's OS temp clean-up
    for body in MIX:
        handle.write(json.dumps(body) + "\n")
    handle.close()
    return handle.name


def response_size(port: int) -> int:
    sizes = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {KEY}"}) as client:
        for body in MIX:
            sizes.append(len(client.post("/v1/assessments", json=body).content))
    return int(statistics.mean(sizes))


def distinct_bodies_file(count: int = 12_000) -> str:
    """``count`` requests no two alike: the mix's calls in turn, each with its own officer id, call reference
    and description (a narrative of the labelled screening corpus with the call's own reference appended), so
    that every description is new to the screener and a decision is reused only when the facts and what
    screening reads in the description are the same as an earlier call's."""
    narratives = [
        json.loads(line)["text"]
        for path in sorted((ROOT / "tests" / "data" / "narratives").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    handle = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)  # noqa: SIM115 - removed by the caller's OS temp clean-up
    for index in range(count):
        body = json.loads(json.dumps(MIX[index % len(MIX)]))
        reference = f"BENCH-{index:06d}"
        body["call"]["reference"] = reference
        body["call"]["description"] = f"{narratives[index % len(narratives)]} (ref {reference})"
        body["officer"]["id"] = f"PCSO {10_000 + index}"
        handle.write(json.dumps(body) + "\n")
    handle.close()
    return handle.name


def wrk(
    port: int, *, seconds: int, connections: int, bodies: str | None = None, path: str = "/v1/assessments"
) -> dict[str, float]:
    """Closed-loop throughput with wrk posting the lines of ``bodies`` (default: the mix) to ``path``; one
    thread, so the client takes one core at most."""
    env = {**os.environ, "BODIES_FILE": bodies or bodies_file(), "API_KEY": KEY, "REQUEST_PATH": path}
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(ROOT / "bench" / "wrk" / "post.lua"),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    stats = json.loads(re.search(r"^JSON (.*)$", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    seconds_run = stats["duration_us"] / 1e6
    return {
        "rps": stats["requests"] / seconds_run,
        "p50_ms": stats["p50_us"] / 1000,
        "p99_ms": stats["p99_us"] / 1000,
        "errors": stats["errors"] + stats["non2xx"],
    }


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol to time requests cheaply."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def post(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status


def _encoded_requests(port: int) -> list[bytes]:
    requests = []
    for body in MIX:
        payload = json.dumps(body).encode()
        requests.append(
            f"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
    return requests


def percentile_ms(ordered: list[float], fraction: float) -> float:
    """The value (in seconds) at ``fraction`` of ``ordered``, sorted values, in milliseconds."""
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def _open_loop(port: int, rate: float, seconds: float) -> dict[str, float]:
    """Requests at fixed times on a pool of keep-alive connections that grows when all are busy."""
    total = int(rate * seconds)
    encoded = _encoded_requests(port)
    idle: list[_Connection] = []
    latencies: list[float] = []
    lags: list[float] = []
    failures = 0
    refused: dict[int, int] = {}

    async def one(index: int, scheduled: float) -> None:
        nonlocal failures
        lags.append(time.perf_counter() - scheduled)
        connection = idle.pop() if idle else _Connection(*await asyncio.open_connection("127.0.0.1", port))
        try:
            status = await connection.post(encoded[index % len(encoded)])
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closed a keep-alive connection that sat idle; send on a new one.
            connection = _Connection(*await asyncio.open_connection("127.0.0.1", port))
            status = await connection.post(encoded[index % len(encoded)])
        latencies.append(time.perf_counter() - scheduled)
        if status != 200:
            failures += 1
            refused[status] = refused.get(status, 0) + 1
        idle.append(connection)

    start = time.perf_counter() + 0.2
    tasks = []
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, scheduled)))
    await asyncio.gather(*tasks)
    for connection in idle:
        connection.writer.close()
    latencies.sort()
    lags.sort()

    return {
        "rate": rate,
        "requests": total,
        "failures": failures,
        "connections": len(idle),
        "p50_ms": percentile_ms(latencies, 0.50),
        "p99_ms": percentile_ms(latencies, 0.99),
        "p999_ms": percentile_ms(latencies, 0.999),
        "generator_lag_p99_ms": percentile_ms(lags, 0.99),
        "failure_statuses": refused,  # type: ignore[dict-item]
    }


def open_loop(port: int, *, rate: float, seconds: float) -> dict[str, float]:
    return asyncio.run(_open_loop(port, rate, seconds))


def rss_mb(pid: int) -> float:
    """Resident memory of the server process and its children."""
    pids = [str(pid)] + subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    out = subprocess.run(["ps", "-o", "rss=", "-p", ",".join(pids)], capture_output=True, text=True).stdout.split()
    return sum(int(value) for value in out) / 1024


def postgres_url(database: str) -> str:
    script = f"source {ROOT}/scripts/ensure-postgres >&2 && echo $TEST_DATABASE_URL"
    out = subprocess.run(
        ["bash", "-c", script], env={**os.environ, "TEST_DB": database}, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()
