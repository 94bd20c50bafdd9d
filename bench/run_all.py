"""The performance suite: every comparison made in one run on this machine, printed as a table and JSON.

Usage:  .venv/bin/python bench/run_all.py [--seconds 10] [--cost-records 100000]
        (`make bench`; needs wrk from Debian and PostgreSQL 15, both set up like the test command does)

1. Throughput, service vs bare FastAPI endpoint (same wrk client, mix, payload size, one worker, loaded in turn), SQLite and PostgreSQL.
2. Latency at a constant 300 assessments/s, open loop, SQLite and PostgreSQL, and the bare endpoint beside them.
3. Our engine vs Cedar (cedarpy) vs GoRules ZEN (zen-engine), same rules, same requests.
4. Decision time with a policy a hundred times larger.
5. Cost growth: throughput and memory while the audit table grows.
6. Scale-out: one and two service processes on one PostgreSQL, a mix of four forces' calls.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.engines import compare  # noqa: E402
from bench.growth import growth  # noqa: E402
from bench.scale_out import scale_out  # noqa: E402
from bench.service_load import distinct_bodies_file, open_loop, postgres_url, response_size, rss_mb, server, wrk  # noqa: E402
from service.engine.loader import load_registry  # noqa: E402

CONNECTIONS = 64
ROUNDS = 3


def _pooled(runs: list[dict[str, float]]) -> dict[str, float]:
    """Several wrk runs of equal length as one: mean throughput, worst p99, errors added up."""
    return {
        "rps": sum(run["rps"] for run in runs) / len(runs),
        "p99_ms": max(run["p99_ms"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
    }


def throughput(database_url: str, seconds: int, *, variants: bool = False) -> dict[str, float]:
    """The service against the bare endpoint on the mix, both served at once and loaded in turn (ROUNDS
    runs of half ``seconds`` each); with ``variants``, also the service on the compact view, on requests
    no two alike, and with the decision cache off (each on a fresh server and store)."""
    with server("service.main:app", database_url=database_url) as (port, _pid):
        wrk(port, seconds=2, connections=CONNECTIONS)
        size = response_size(port)
        with server("bench.bare_app:app", extra_env={"BARE_RESPONSE_BYTES": str(size)}) as (bare_port, _bare_pid):
            wrk(bare_port, seconds=2, connections=CONNECTIONS)
            # Turn about, so that the machine's drift from one minute to the next falls on both alike.
            runs = [
                (
                    wrk(port, seconds=seconds // 2, connections=CONNECTIONS),
                    wrk(bare_port, seconds=seconds // 2, connections=CONNECTIONS),
                )
                for _ in range(ROUNDS)
            ]
        service, bare = _pooled([run[0] for run in runs]), _pooled([run[1] for run in runs])
        compact = wrk(port, seconds=seconds, connections=CONNECTIONS, path="/v1/assessments?view=compact") if variants else None
    result = {
        "service_rps": service["rps"],
        "bare_rps": bare["rps"],
        "ratio": service["rps"] / bare["rps"],
        "response_bytes": size,
        "service_p99_ms": service["p99_ms"],
        "bare_p99_ms": bare["p99_ms"],
        "errors": service["errors"] + bare["errors"],
    }
    if variants:
        assert compact is not None
        distinct = distinct_bodies_file()
        with server("service.main:app", database_url=database_url + "-distinct") as (port, _pid):
            wrk(port, seconds=2, connections=CONNECTIONS, bodies=distinct)
            unlike = wrk(port, seconds=seconds, connections=CONNECTIONS, bodies=distinct)
        with server("service.main:app", database_url=database_url + "-uncached", extra_env={"DECISION_CACHE_SIZE": "0"}) as (
            port,
            _pid,
        ):
            wrk(port, seconds=2, connections=CONNECTIONS)
            uncached = wrk(port, seconds=seconds, connections=CONNECTIONS)
        result |= {
            "compact_rps": compact["rps"],
            "distinct_rps": unlike["rps"],
            "uncached_rps": uncached["rps"],
            "errors": result["errors"] + compact["errors"] + unlike["errors"] + uncached["errors"],
        }
    return result


def latency(database_url: str | None, seconds: int, *, bare_bytes: int | None = None) -> dict[str, float]:
    """p50, p99 and p99.9 at 300 requests/s, open loop, after a warm-up at 100/s: the service on
    ``database_url``, or with ``bare_bytes`` the bare endpoint answering that many bytes."""
    app, extra = ("bench.bare_app:app", {"BARE_RESPONSE_BYTES": str(bare_bytes)}) if bare_bytes else ("service.main:app", None)
    with server(app, database_url=database_url, extra_env=extra) as (port, _pid):
        open_loop(port, rate=100, seconds=2)
        return open_loop(port, rate=300, seconds=seconds)


def cost_growth(database_url: str, records: int, window_seconds: int) -> dict[str, object]:
    windows = []
    with server("service.main:app", database_url=database_url) as (port, pid):
        written = 0
        while written < records:
            result = wrk(port, seconds=window_seconds, connections=CONNECTIONS)
            written += int(result["rps"] * window_seconds)
            windows.append({"records": written, "rps": round(result["rps"]), "rss_mb": round(rss_mb(pid), 1)})
    first, last = windows[0], windows[-1]
    return {
        "windows": windows,
        "rps_last_over_first": last["rps"] / first["rps"],
        "rss_growth_mb": last["rss_mb"] - first["rss_mb"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="length of each throughput and latency run")
    parser.add_argument(
        "--cost-records", type=int, default=100_000, help="assessments recorded in the cost-growth run (1000000 for the full run)"
    )
    parser.add_argument("--cost-window", type=int, default=10, help="seconds per cost-growth window")
    args = parser.parse_args()
    results: dict[str, object] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        print("throughput ...", file=sys.stderr)
        results["throughput_sqlite"] = sqlite_throughput = throughput(
            f"sqlite:///{tmp}/throughput.db", args.seconds, variants=True
        )
        results["throughput_postgres"] = throughput(postgres_url("pcso_load_1"), args.seconds)
        print("latency ...", file=sys.stderr)
        results["latency_sqlite"] = latency(f"sqlite:///{tmp}/latency.db", max(args.seconds, 20))
        results["latency_postgres"] = latency(postgres_url("pcso_load_2"), max(args.seconds, 20))
        # The same generator against the bare endpoint: what this machine gives a request that is
        # validated and answered with nothing decided or recorded.
        results["latency_bare"] = latency(None, max(args.seconds, 20), bare_bytes=int(sqlite_throughput["response_bytes"]))
        print("engines ...", file=sys.stderr)
        registry = load_registry(ROOT / "policy_data", ROOT / "schemas")
        engines = compare(registry.sets["west-midlands"])
        results["engines"] = engines
        print("policy growth ...", file=sys.stderr)
        results["growth"] = growth()
        print("cost growth ...", file=sys.stderr)
        results["cost_growth"] = cost_growth(f"sqlite:///{tmp}/cost.db", args.cost_records, args.cost_window)
        print("scale-out ...", file=sys.stderr)
        results["scale_out"] = scale_out(args.seconds)

    t_sql, t_pg = results["throughput_sqlite"], results["throughput_postgres"]
    l_sql, l_pg, l_bare = results["latency_sqlite"], results["latency_postgres"], results["latency_bare"]
    fastest = min(engines["cedar"][0], engines["zen"][0])
    grow, cost = results["growth"], results["cost_growth"]

    def verdict(met: bool) -> str:
        return "met" if met else "missed"

    rows = [
        (
            "service vs bare endpoint, SQLite, 1 worker",
            f"{t_sql['service_rps']:.0f} / {t_sql['bare_rps']:.0f} req/s",
            f"{t_sql['ratio']:.2f}",
            f">= 0.50 {verdict(t_sql['ratio'] >= 0.5)}",
        ),
        (
            "service vs bare endpoint, PostgreSQL, 1 worker",
            f"{t_pg['service_rps']:.0f} / {t_pg['bare_rps']:.0f} req/s",
            f"{t_pg['ratio']:.2f}",
            f">= 0.50 {verdict(t_pg['ratio'] >= 0.5)}",
        ),
        (
            "SQLite: view=compact / requests no two alike / cache off",
            f"{t_sql['compact_rps']:.0f} / {t_sql['distinct_rps']:.0f} / {t_sql['uncached_rps']:.0f} req/s",
            f"{t_sql['distinct_rps'] / t_sql['bare_rps']:.2f}",
            "reported (ratio: no two alike)",
        ),
        (
            "300/s open loop, SQLite: p50 / p99 / p99.9",
            f"{l_sql['p50_ms']:.1f} / {l_sql['p99_ms']:.1f} / {l_sql['p999_ms']:.1f} ms",
            "",
            f"p99 < 10 ms {verdict(l_sql['p99_ms'] < 10)}",
        ),
        (
            "300/s open loop, PostgreSQL: p50 / p99 / p99.9",
            f"{l_pg['p50_ms']:.1f} / {l_pg['p99_ms']:.1f} / {l_pg['p999_ms']:.1f} ms",
            "",
            f"p99 < 10 ms {verdict(l_pg['p99_ms'] < 10)}",
        ),
        (
            "300/s open loop, bare endpoint: p50 / p99 / p99.9",
            f"{l_bare['p50_ms']:.1f} / {l_bare['p99_ms']:.1f} / {l_bare['p999_ms']:.1f} ms",
            "",
            "reference (nothing recorded)",
        ),
        (
            "decision: ours / Cedar / ZEN, median",
            f"{engines['ours'][0]:.1f} / {engines['cedar'][0]:.1f} / {engines['zen'][0]:.1f} us",
            f"{engines['ours'][0] / fastest:.2f}",
            f"<= 0.25 {verdict(engines['ours'][0] / fastest <= 0.25)}",
        ),
        (
            "decision: ours / Cedar / ZEN, p99",
            f"{engines['ours'][1]:.1f} / {engines['cedar'][1]:.1f} / {engines['zen'][1]:.1f} us",
            "",
            "",
        ),
        (
            "policy x100: median decision before / after",
            f"{grow['median_us'][0]:.1f} / {grow['median_us'][1]:.1f} us",
            f"{grow['ratio']:.2f}",
            f"<= 1.5 {verdict(grow['ratio'] <= 1.5)}",
        ),
        (
            f"cost growth over {cost['windows'][-1]['records']:,} records: rps last / first",
            f"{cost['windows'][-1]['rps']} / {cost['windows'][0]['rps']}",
            f"{cost['rps_last_over_first']:.2f}",
            "flat",
        ),
        (
            "cost growth: memory first -> last",
            f"{cost['windows'][0]['rss_mb']} -> {cost['windows'][-1]['rss_mb']} MB",
            f"{cost['rss_growth_mb']:+.1f} MB",
            "flat",
        ),
        (
            "four forces, PostgreSQL: 1 / 2 processes",
            f"{results['scale_out']['1_process']['rps']:.0f} / {results['scale_out']['2_process']['rps']:.0f} req/s",  # type: ignore[index]
            f"{results['scale_out']['2_process']['rps'] / results['scale_out']['1_process']['rps']:.2f}",  # type: ignore[index]
            "reported",
        ),
    ]
    print(f"{'measure':<60}{'figures':<34}{'ratio':>8}  target")
    for measure, figures, ratio, target in rows:
        print(f"{measure:<60}{figures:<34}{ratio:>8}  {target}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
