"""Engine and end-to-end latency of one assessment, printed as a table and as JSON.

Engine: decide() on the bundled policy for a mix of calls, no app, no database.
End to end: a real uvicorn server on loopback (SQLite, durable commit per decision), one client
sending requests one after another, so each figure is the full validate-decide-record-answer path.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.api.schemas import AssessmentRequest  # noqa: E402
from service.engine.decide import decide  # noqa: E402
from service.engine.loader import load_registry  # noqa: E402

OFFICER = {"id": "PCSO 4521", "designated_powers": ["require_name_address", "dispersal_direction"], "training_status": "independent",
           "in_uniform": True, "cycle_trained": True, "home_lpa": "birmingham-west", "home_neighbourhood": "ladywood"}
LOCATION = {"risk_level": "low", "lpa": "birmingham-west", "neighbourhood": "ladywood"}
MIX = [
    {"force": "west-midlands", "call": {"type": "asb.nuisance", "flags": ["vulnerable_person"], "description": "Group of youths drinking and shouting outside the shops"}, "location": LOCATION, "officer": OFFICER},
    {"force": "west-midlands", "call": {"type": "violence.knife_crime", "grade": "emergency"}, "location": LOCATION, "officer": OFFICER},
    {"force": "west-midlands", "task": "house_to_house", "call": {"type": "serious.burglary_in_progress", "phase": "scene_secured"}, "location": LOCATION, "officer": OFFICER},
    {"force": "kent", "call": {"type": "crime.theft_low_value", "description": "Bicycle taken from outside the library, no suspect seen"}, "location": {"risk_level": "medium"}, "officer": OFFICER},
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_engine(rounds: int) -> dict[str, float]:
    registry = load_registry(ROOT / "policy_data", ROOT / "schemas")
    requests = [AssessmentRequest.model_validate(body) for body in MIX]
    prepared = [(registry.sets[r.force], r.to_engine()) for r in requests]
    now = datetime.now(UTC)
    samples = []
    for _ in range(rounds):
        for policy, request in prepared:
            start = time.perf_counter_ns()
            decide(policy, request, now=now)
            samples.append((time.perf_counter_ns() - start) / 1000)
    return {"decisions": len(samples), "median_us": statistics.median(samples), "p99_us": percentile(samples, 0.99)}


def bench_http(requests: int) -> dict[str, float]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = "bench-dispatcher-key-0001"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "API_KEYS": f"{key}:dispatcher", "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "ENVIRONMENT": "production"}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.main:app", "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}) as client:
                for _ in range(100):
                    try:
                        if client.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                for body in MIX * 5:
                    client.post("/v1/assessments", json=body)
                samples = []
                started = time.perf_counter()
                for index in range(requests):
                    begin = time.perf_counter_ns()
                    response = client.post("/v1/assessments", json=MIX[index % len(MIX)])
                    samples.append((time.perf_counter_ns() - begin) / 1e6)
                    assert response.status_code == 200, response.text
                elapsed = time.perf_counter() - started
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
    return {"requests": requests, "median_ms": statistics.median(samples), "p99_ms": percentile(samples, 0.99), "sequential_rps": requests / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000, help="engine rounds over the request mix")
    parser.add_argument("--requests", type=int, default=1000, help="HTTP requests, one after another")
    args = parser.parse_args()
    engine = bench_engine(args.rounds)
    http = bench_http(args.requests)
    print(f"{'measure':<42}{'value':>12}")
    print(f"{'engine decide(), median (us)':<42}{engine['median_us']:>12.1f}")
    print(f"{'engine decide(), p99 (us)':<42}{engine['p99_us']:>12.1f}")
    print(f"{'HTTP assess + durable record, median (ms)':<42}{http['median_ms']:>12.2f}")
    print(f"{'HTTP assess + durable record, p99 (ms)':<42}{http['p99_ms']:>12.2f}")
    print(f"{'HTTP sequential throughput (req/s)':<42}{http['sequential_rps']:>12.0f}")
    print(json.dumps({"engine": engine, "http_sqlite_one_worker_sequential": http}))


if __name__ == "__main__":
    main()
