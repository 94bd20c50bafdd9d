"""The GIL switch interval (GIL_SWITCH_MS): latency and throughput at CPython's 5 ms against the service's 1 ms.

Usage:  .venv/bin/python bench/gil_switch.py [--rounds 3] [--seconds 20]

Each round serves the service once with each setting, alternating, on a fresh store: open-loop latency
at 300 assessments/s on SQLite and on PostgreSQL, then wrk's throughput on SQLite. One run on a busy
virtual machine says little about a p99, so the medians over the rounds are printed beside each run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.service_load import open_loop, postgres_url, server, wrk  # noqa: E402

SETTINGS_MS = ("5", "1")


def one_round(setting: str, seconds: int, tmp: str, round_number: int) -> dict[str, float]:
    env = {"GIL_SWITCH_MS": setting}
    result: dict[str, float] = {}
    for store, url in (("sqlite", f"sqlite:///{tmp}/gil-{setting}-{round_number}.db"), ("postgres", postgres_url("pcso_load_2"))):
        with server("service.main:app", database_url=url, extra_env=env) as (port, _pid):
            open_loop(port, rate=100, seconds=2)
            run = open_loop(port, rate=300, seconds=seconds)
        result[f"{store}_p50_ms"], result[f"{store}_p99_ms"] = run["p50_ms"], run["p99_ms"]
    with server("service.main:app", database_url=f"sqlite:///{tmp}/gil-rps-{setting}-{round_number}.db", extra_env=env) as (
        port,
        _pid,
    ):
        wrk(port, seconds=2, connections=64)
        result["sqlite_rps"] = wrk(port, seconds=10, connections=64)["rps"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20, help="length of each open-loop run")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {setting: [] for setting in SETTINGS_MS}
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.rounds):
            for setting in SETTINGS_MS:
                run = one_round(setting, args.seconds, tmp, round_number)
                runs[setting].append(run)
                print(
                    f"round {round_number + 1}, GIL_SWITCH_MS={setting}: SQLite p50/p99 {run['sqlite_p50_ms']:.1f}/{run['sqlite_p99_ms']:.1f} ms, "
                    f"PostgreSQL p50/p99 {run['postgres_p50_ms']:.1f}/{run['postgres_p99_ms']:.1f} ms, SQLite {run['sqlite_rps']:.0f} req/s",
                    flush=True,
                )
    print(f"\n{'median over ' + str(args.rounds) + ' rounds':<28}{'SQLite p99':>12}{'PostgreSQL p99':>16}{'SQLite req/s':>14}")
    for setting, setting_runs in runs.items():
        median = {key: statistics.median(run[key] for run in setting_runs) for key in setting_runs[0]}
        print(
            f"{'GIL_SWITCH_MS=' + setting:<28}{median['sqlite_p99_ms']:>9.1f} ms{median['postgres_p99_ms']:>13.1f} ms{median['sqlite_rps']:>14.0f}"
        )
    print(json.dumps(runs))


if __name__ == "__main__":
    main()
