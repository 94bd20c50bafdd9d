"""Where a decision's time goes at 300 assessments/s: the open-loop latency split into the parts it waits on.

Usage:  .venv/bin/python bench/latency_parts.py [--seconds 20] [--rate 300] [--store sqlite|postgres|both]

The service runs with timing probes (bench/latency_probe.py) on SQLite and then on PostgreSQL, and
the open-loop generator of `make bench` sends the same mix at a constant rate after a warm-up. For
each store it prints, at p50, p99, p99.9 and the maximum:

- the client's latency, timed from each request's scheduled send;
- the request inside the server, from the ASGI call to the last byte of the answer;
- the wait for the audit commit (queued behind the batch being committed, then its own batch);
- each batch the writer commits, its wall time and the writer thread's CPU time in it, and its two
  steps on the database: locking the chains' heads and numbering the entries; then inserting the
  records, moving the heads and committing (on PostgreSQL one round trip each; the commit's WAL
  flush, or SQLite's fsync, is in the second);
- the collector's pauses.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.latency_probe import RESET_PATH  # noqa: E402
from bench.service_load import open_loop, percentile_ms, postgres_url, server  # noqa: E402

ROWS = (
    ("request", "request in the server"),
    ("commit_wait", "wait for the audit commit"),
    ("batch", "writer batch, wall"),
    ("batch_cpu", "writer batch, writer CPU"),
    ("lock_heads", "  lock heads, number entries"),
    ("records_commit", "  records, heads' moves, commit"),
    ("gc_pause", "collector pause"),
)


def percentiles(values: list[float]) -> tuple[int, float, float, float, float]:
    """Count, then p50, p99, p99.9 and the maximum in milliseconds (zeros when there are none)."""
    if not values:
        return 0, 0.0, 0.0, 0.0, 0.0
    ordered = sorted(values)
    p50, p99, p999 = (percentile_ms(ordered, fraction) for fraction in (0.5, 0.99, 0.999))
    return len(ordered), p50, p99, p999, ordered[-1] * 1000


def measure(database_url: str, rate: float, seconds: int, out: Path) -> dict[str, object]:
    with server("bench.latency_probe:app", database_url=database_url, extra_env={"PROBE_OUT": str(out)}) as (port, _pid):
        open_loop(port, rate=100, seconds=2)
        httpx.post(f"http://127.0.0.1:{port}{RESET_PATH}").raise_for_status()
        client = open_loop(port, rate=rate, seconds=seconds)
    probes = json.loads(out.read_text(encoding="utf-8"))
    return {"client": client, **probes}


def report(store: str, result: dict[str, object]) -> None:
    client = result["client"]
    spans = result["spans"]
    batches = result["entries_per_batch"]
    assert isinstance(client, dict) and isinstance(spans, dict) and isinstance(batches, list)
    print(f"\n{store}: {client['requests']} requests at {client['rate']:.0f}/s, {client['failures']} failed")
    print(f"{'part (ms)':<34}{'count':>7}{'p50':>8}{'p99':>8}{'p99.9':>8}{'max':>8}")
    print(
        f"{'client latency':<34}{client['requests']:>7}{client['p50_ms']:>8.2f}{client['p99_ms']:>8.2f}{client['p999_ms']:>8.2f}{'':>8}"
    )
    for key, label in ROWS:
        count, p50, p99, p999, most = percentiles(spans[key])
        print(f"{label:<34}{count:>7}{p50:>8.2f}{p99:>8.2f}{p999:>8.2f}{most:>8.2f}")
    if batches:
        print(f"entries per batch: mean {statistics.mean(batches):.2f}, max {max(batches)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.store in ("sqlite", "both"):
            results["sqlite"] = measure(f"sqlite:///{tmp}/parts.db", args.rate, args.seconds, Path(tmp) / "sqlite.json")
        if args.store in ("postgres", "both"):
            results["postgres"] = measure(postgres_url("pcso_load_2"), args.rate, args.seconds, Path(tmp) / "postgres.json")
    for store, result in results.items():
        report(store, result)


if __name__ == "__main__":
    main()
