"""Slow clients against a real server: how long stalled connections are held, and what they cost others.

Usage:  .venv/bin/python bench/slowloris.py [--connections 700] [--header-timeout 10] [--server service|uvicorn]

Starts the server the way users do (``python -m service.ops.server``; ``--server uvicorn`` starts bare
``uvicorn service.main:app`` instead, for comparison), one worker, SQLite in a temporary folder. Times
requests on fresh connections (GET /readyz and a recorded POST /v1/assessments, alternately) first on
their own, then while N connections each send a partial request head (a third nothing, a third part
of a request line, a third part of the headers) and stall. Reports when the server closed the stalled
connections (measured from each one's opening) and the request latencies. Prints a table and JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "local-dispatcher-key"
PARTIAL_HEADS = [b"", b"GET /heal", b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl"]
ASSESSMENT = {
    "force": "west-midlands",
    "call": {"type": "asb.nuisance", "description": "Youths shouting outside the shops"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 4521", "training_status": "independent", "in_uniform": True},
}


def probe(client: httpx.Client, n: int) -> float:
    """One request on a fresh connection; its latency in ms."""
    began = time.perf_counter()
    if n % 2:
        response = client.post("/v1/assessments", json=ASSESSMENT, headers={"Authorization": f"Bearer {KEY}"})
    else:
        response = client.get("/readyz")
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, response.text[:300]
    return elapsed


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "min": ordered[0],
        "median": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "max": ordered[-1],
    }


def run(args: argparse.Namespace, port: int, client: httpx.Client) -> dict[str, object]:
    baseline = []
    for n in range(40):  # the same cadence as during the stall
        baseline.append(probe(client, n))
        time.sleep(0.1)
    stalled: dict[socket.socket, float] = {}
    selector = selectors.DefaultSelector()
    began = time.monotonic()
    for i in range(args.connections):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if payload := PARTIAL_HEADS[i % len(PARTIAL_HEADS)]:
            sock.sendall(payload)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        stalled[sock] = time.monotonic()
    opened_in = time.monotonic() - began
    closed_at: dict[socket.socket, float] = {}
    during: list[float] = []
    answered_408 = 0
    n = 0
    next_probe = time.monotonic()
    deadline = time.monotonic() + args.watch
    while len(closed_at) < len(stalled) and time.monotonic() < deadline:
        if time.monotonic() >= next_probe:
            during.append(probe(client, n))
            n += 1
            next_probe = time.monotonic() + 0.1
        for key, _ in selector.select(timeout=max(0.0, min(next_probe, deadline) - time.monotonic())):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if chunk:
                answered_408 += chunk.startswith(b"HTTP/1.1 408 ")
                continue
            closed_at[sock] = time.monotonic()
            selector.unregister(sock)
    held = [closed_at[sock] - opened for sock, opened in stalled.items() if sock in closed_at]
    still_open = len(stalled) - len(held)
    selector.close()
    for sock in stalled:
        sock.close()
    return {
        "server": args.server,
        "connections": args.connections,
        "header_timeout_s": args.header_timeout,
        "opened_in_s": round(opened_in, 3),
        "closed_by_server": len(held),
        "answered_408": answered_408,
        "still_open_after_watch": still_open,
        "held_s": {k: round(v, 3) for k, v in summary(held).items()} if held else None,
        "all_closed_s_after_last_open": round(max(closed_at.values()) - max(stalled.values()), 3) if not still_open else None,
        "latency_ms_alone": {k: round(v, 2) for k, v in summary(baseline).items()},
        "latency_ms_with_stalled_open": {k: round(v, 2) for k, v in summary(during).items()} if during else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=700)
    parser.add_argument("--header-timeout", type=float, default=10.0)
    parser.add_argument("--server", choices=["service", "uvicorn"], default="service")
    parser.add_argument("--watch", type=float, default=30.0, help="give up waiting for the closes after this many seconds")
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    if args.server == "service":
        command = [sys.executable, "-m", "service.ops.server", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "uvicorn", "service.main:app", "--port", str(port)]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "ENVIRONMENT": "development",
            "API_KEYS": f"{KEY}:dispatcher",
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "HEADER_TIMEOUT_SECONDS": str(args.header_timeout),
            "LOG_LEVEL": "ERROR",
        }
        server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
        try:
            limits = httpx.Limits(max_keepalive_connections=0)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as client:
                for _ in range(100):
                    try:
                        if client.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                result = run(args, port, client)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    held = result["held_s"] or {}
    alone = result["latency_ms_alone"]
    during = result["latency_ms_with_stalled_open"] or {}
    deadline = f"header timeout {args.header_timeout:g} s" if args.server == "service" else "no header deadline"
    print(f"{args.connections} stalled connections against {args.server} ({deadline})")
    print(
        f"  opened in {result['opened_in_s']} s; closed by the server: {result['closed_by_server']} ({result['answered_408']} answered 408)"
    )
    print(f"  still open after {args.watch:g} s: {result['still_open_after_watch']}")
    if held:
        print(
            f"  held for (from each one's opening): min {held['min']:.2f} s, median {held['median']:.2f} s, max {held['max']:.2f} s"
        )
        print(f"  all closed {result['all_closed_s_after_last_open']} s after the last one opened")
    print(f"  {'request latency ms':<28}{'median':>9}{'p99':>9}{'max':>9}{'n':>6}")
    for name, figures in (("alone", alone), ("with the stalled ones open", during)):
        if figures:
            assert isinstance(figures, dict)
            print(f"  {name:<28}{figures['median']:>9.1f}{figures['p99']:>9.1f}{figures['max']:>9.1f}{figures['n']:>6}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
