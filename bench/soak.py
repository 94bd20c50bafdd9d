"""Soak: a steady open-loop rate for a few minutes across several workers on PostgreSQL.

Usage:  .venv/bin/python bench/soak.py [--minutes 3] [--rate 200] [--workers 4]

Reports errors (target: none), the latency spread, the server's memory at the start and end of
each minute, and the audit chain's verification at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.service_load import AUDITOR_KEY, _open_loop, postgres_url, rss_mb, server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    url = postgres_url("pcso_soak")
    minutes = []
    with server("service.main:app", database_url=url, workers=args.workers) as (port, pid):
        time.sleep(2)
        for minute in range(int(args.minutes)):
            rss_before = rss_mb(pid)
            result = asyncio.run(_open_loop(port, args.rate, 60))
            minutes.append(
                {
                    "minute": minute + 1,
                    **{k: round(v, 2) for k, v in result.items()},
                    "rss_mb_start": round(rss_before, 1),
                    "rss_mb_end": round(rss_mb(pid), 1),
                }
            )
            print(json.dumps(minutes[-1]), flush=True)
        report = httpx.get(
            f"http://127.0.0.1:{port}/v1/audit/verify", headers={"Authorization": f"Bearer {AUDITOR_KEY}"}, timeout=600
        ).json()
    summary = {
        "workers": args.workers,
        "rate": args.rate,
        "requests": sum(m["requests"] for m in minutes),
        "failures": sum(m["failures"] for m in minutes),
        "rss_mb_first": minutes[0]["rss_mb_start"],
        "rss_mb_last": minutes[-1]["rss_mb_end"],
        "p99_ms_worst_minute": max(m["p99_ms"] for m in minutes),
        "verify": {"status": report["status"], "checked": report["checked"]},
    }
    print(f"{'minute':>6}{'requests':>10}{'failures':>10}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}{'RSS MB':>16}")
    for m in minutes:
        print(
            f"{m['minute']:>6}{m['requests']:>10}{m['failures']:>10}{m['p50_ms']:>9}{m['p99_ms']:>9}{m['p999_ms']:>10}{m['rss_mb_start']:>8}->{m['rss_mb_end']}"
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
