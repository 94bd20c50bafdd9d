"""Scale-out: throughput with one and with two service processes on one PostgreSQL, four forces' calls.

Usage:  .venv/bin/python bench/scale_out.py [--seconds 10]   (part of `make bench`)

The bundled West Midlands and Kent are joined by two synthetic test forces (copies of them under
other ids, in a temporary policy directory), and wrk sends a mix of the four forces' calls. Each
force has its own audit chain and, on PostgreSQL, its own writer, so forces do not queue on one
chain head; what limits a 2-core machine is the CPU the processes (and wrk) share.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.service_load import MIX, postgres_url, server, wrk  # noqa: E402

SYNTHETIC = {"synthetic-north": "west-midlands", "synthetic-south": "kent"}
FORCES = ("west-midlands", "kent", *SYNTHETIC)


def policy_dir_with_synthetic_forces(target: Path) -> Path:
    """A copy of policy_data/ with two more force sets, copies of the bundled ones under other ids."""
    shutil.copytree(ROOT / "policy_data", target)
    for force, original in SYNTHETIC.items():
        shutil.copytree(target / original, target / force)
        policy = json.loads((target / force / "policy.json").read_text(encoding="utf-8"))
        policy["id"] = force
        policy["name"] = f"Synthetic test force ({force})"
        (target / force / "policy.json").write_text(json.dumps(policy, indent=2), encoding="utf-8")
    return target


def bodies(tmp: Path) -> str:
    """The benchmark mix, once for each of the four forces."""
    path = tmp / "bodies.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for body in MIX:
            for force in FORCES:
                handle.write(json.dumps({**body, "force": force}) + "\n")
    return str(path)


def scale_out(seconds: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        policy_dir = policy_dir_with_synthetic_forces(Path(tmp) / "policy_data")
        mix = bodies(Path(tmp))
        for processes in (1, 2):
            url = postgres_url(f"pcso_scale_{processes}")
            with server("service.main:app", database_url=url, workers=processes, extra_env={"POLICY_DIR": str(policy_dir)}) as (
                port,
                _pid,
            ):
                wrk(port, seconds=2, connections=64, bodies=mix)  # warm-up: every force's chain and writer exist
                results[f"{processes}_process"] = wrk(port, seconds=seconds, connections=64, bodies=mix)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    results = scale_out(args.seconds)
    one, two = results["1_process"], results["2_process"]
    print(f"four forces, PostgreSQL, 1 process:  {one['rps']:.0f} req/s, p99 {one['p99_ms']:.1f} ms, errors {one['errors']:.0f}")
    print(f"four forces, PostgreSQL, 2 processes: {two['rps']:.0f} req/s, p99 {two['p99_ms']:.1f} ms, errors {two['errors']:.0f}")
    print(f"two processes / one: {two['rps'] / one['rps']:.2f} (on {os.cpu_count()} cores, wrk included)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
