"""Response times of the planning endpoints through a real server: 300-officer candidates, full matrix.

Usage:  .venv/bin/python bench/planning.py [--officers 300] [--repeat 20]

Starts uvicorn (one worker, SQLite in a temporary folder, durable recording), then times
POST /v1/candidates with N officers (each decision recorded) and GET /v1/policies/{force}/matrix
as JSON, CSV and HTML. Prints a table and JSON.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
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
# A fresh audit signing key for the server under test (an Ed25519 key is 32 random bytes).
SIGNING_KEY = base64.b64encode(os.urandom(32)).decode("ascii")
KEY = "bench-admin-key-000000001"


def officers(count: int) -> list[dict]:
    lpas = ["birmingham-west", "birmingham-east", "coventry", "wolverhampton"]
    hoods = ["ladywood", "stechford", "foleshill", "whitmore-reans"]
    result = []
    for n in range(count):
        result.append(
            {
                "id": f"PCSO {5000 + n}",
                "designated_powers": ["require_name_address", "dispersal_direction", "alcohol.pspo_surrender"][: n % 4],
                "training_status": ["independent", "independent", "coaching", "foundation"][n % 4 if n % 11 else 3],
                "in_uniform": n % 17 != 0,
                "authorised_driver": n % 3 == 0,
                "cycle_trained": n % 2 == 0,
                "home_lpa": lpas[n % 4],
                "home_neighbourhood": hoods[n % 4],
            }
        )
    return result


def timed(client: httpx.Client, method: str, url: str, repeat: int, **kwargs: object) -> tuple[float, float, int]:
    samples = []
    size = 0
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.request(method, url, **kwargs)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.text[:300]
        size = len(response.content)
    return statistics.median(samples), max(samples), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--officers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "API_KEYS": f"{KEY}:admin",
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "ENVIRONMENT": "production",
            "AUDIT_SIGNING_KEY": SIGNING_KEY,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.main:app", "--port", str(port), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {KEY}"}, timeout=60
            ) as client:
                for _ in range(100):
                    try:
                        if client.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                body = {
                    "force": "west-midlands",
                    "task": "attend",
                    "call": {
                        "type": "asb.street_drinking",
                        "reference": "BENCH-1",
                        "description": "Men drinking on the benches by the library",
                    },
                    "location": {"risk_level": "medium", "lpa": "birmingham-west", "neighbourhood": "ladywood"},
                    "officers": officers(args.officers),
                }
                timed(client, "POST", "/v1/candidates", 2, json=body)
                results = {
                    f"candidates_{args.officers}": timed(client, "POST", "/v1/candidates", args.repeat, json=body),
                    "matrix_json": timed(client, "GET", "/v1/policies/west-midlands/matrix", args.repeat),
                    "matrix_csv": timed(
                        client, "GET", "/v1/policies/west-midlands/matrix", args.repeat, headers={"Accept": "text/csv"}
                    ),
                    "matrix_html": timed(client, "GET", "/v1/policies/west-midlands/matrix.html", args.repeat),
                }
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print(f"{'request':<22}{'median ms':>12}{'max ms':>12}{'bytes':>12}")
    for name, (median, worst, size) in results.items():
        print(f"{name:<22}{median:>12.1f}{worst:>12.1f}{size:>12,}")
    print(json.dumps({name: {"median_ms": m, "max_ms": w, "bytes": b} for name, (m, w, b) in results.items()}))


if __name__ == "__main__":
    main()
