"""Audit store at scale: fill with a million decisions, then time the first page, a deep page and verify.

Usage:  .venv/bin/python bench/audit_store.py [--records 1000000] [--backend sqlite|postgres|both]

Records are real decisions from the engine (a mix of deployable, refused and support-after-event
answers, about 9 KB each), chained exactly as the service chains them, written in large
transactions. PostgreSQL uses BENCH_DATABASE_URL, or a `pcso_bench` database on the local
server (created by this script through scripts/ensure-postgres). Prints a table and JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from service.actions.documents import decision_document, to_json  # noqa: E402
from service.api.schemas.assessments import AssessmentRequest  # noqa: E402
from service.engine.decide import decide  # noqa: E402
from service.engine.loader import load_registry  # noqa: E402
from service.store import migrate  # noqa: E402
from service.store.chain import NewEntry, append_in  # noqa: E402
from service.store.database import make_engine  # noqa: E402
from service.store.records import AuditStore, RecordFilter  # noqa: E402
from service.store.tables import AuditRecord  # noqa: E402

OFFICERS = [f"PCSO {n}" for n in range(4000, 4400)]
MIX = [
    {
        "force": "west-midlands",
        "call": {
            "type": "asb.nuisance",
            "flags": ["vulnerable_person"],
            "description": "Group of youths drinking and shouting outside the shops",
        },
        "location": {"risk_level": "low"},
    },
    {
        "force": "west-midlands",
        "call": {"type": "violence.knife_crime", "grade": "emergency"},
        "location": {"risk_level": "high"},
    },
    {
        "force": "west-midlands",
        "task": "house_to_house",
        "call": {"type": "serious.burglary_in_progress", "phase": "scene_secured"},
        "location": {"risk_level": "low"},
    },
    {"force": "kent", "call": {"type": "crime.theft_low_value"}, "location": {"risk_level": "medium"}},
]


def templates() -> list[tuple[AssessmentRequest, str, str, str]]:
    registry = load_registry(ROOT / "policy_data", ROOT / "schemas")
    built = []
    now = datetime.now(UTC)
    for body in MIX:
        request = AssessmentRequest.model_validate(
            {
                **body,
                "officer": {
                    "id": "PCSO 0",
                    "training_status": "independent",
                    "in_uniform": True,
                    "designated_powers": ["require_name_address"],
                },
            }
        )
        policy = registry.sets[request.force]
        decision = decide(policy, request.to_engine(), now=now)
        response = to_json(decision_document(decision, assessment_id="ID", officer_id="PCSO 0", call_reference=None))
        built.append((request, response, decision.decision, policy.digest))
    return built


def fill(engine, records: int, batch: int = 2000) -> float:
    """Append ``records`` chained entries; returns the seconds it took."""
    made = templates()
    start_time = datetime(2025, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    written = 0
    while written < records:
        entries = []
        for n in range(written, min(records, written + batch)):
            request, response, decision, digest = made[n % len(made)]
            officer = OFFICERS[n % len(OFFICERS)]
            record_id = str(uuid.uuid4())
            entries.append(
                NewEntry(
                    id=record_id,
                    kind="assessment",
                    recorded_at=start_time + timedelta(seconds=n * 30),
                    force=request.force,
                    task=request.task,
                    call_type=request.call.type,
                    call_reference=f"REF-{n}",
                    officer_id=officer,
                    decision=decision,
                    policy_id=request.force,
                    policy_version="bench",
                    policy_digest=digest,
                    caller_role="dispatcher",
                    caller_key_id=f"key-{n % 7:012d}",
                    request_json=request.model_dump_json().replace('"PCSO 0"', json.dumps(officer)),
                    response_json=response.replace('"ID"', json.dumps(record_id), 1).replace('"PCSO 0"', json.dumps(officer)),
                )
            )
        with engine.begin() as connection:
            append_in(connection, entries, now=datetime.now(UTC))
        written += len(entries)
        if written % 100_000 == 0:
            print(f"  {written:>9,} records, {time.perf_counter() - started:6.0f} s", flush=True)
    return time.perf_counter() - started


def timed(action, repeat: int = 7) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def measure(url: str, records: int) -> dict[str, float]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        present = connection.execute(select(func.count()).select_from(AuditRecord.__table__)).scalar_one()
    fill_seconds = fill(engine, records - present) if present < records else 0.0
    with engine.begin() as connection:  # fresh statistics, as autovacuum would gather them
        connection.exec_driver_sql("ANALYZE audit_record" if engine.dialect.name == "postgresql" else "ANALYZE")
    store = AuditStore(engine)
    everyone = RecordFilter()
    officer = RecordFilter(officer_id="PCSO 4123")
    results = {
        "records": max(records, present),
        "fill_seconds": fill_seconds,
        "first_page_ms": timed(lambda: store.list(everyone, before_seq=None, limit=50)),
        "deep_page_ms": timed(lambda: store.list(everyone, before_seq=1000, limit=50)),
        "officer_first_page_ms": timed(lambda: store.list(officer, before_seq=None, limit=50)),
        "officer_deep_page_ms": timed(lambda: store.list(officer, before_seq=5000, limit=50)),
        "time_range_page_ms": timed(
            lambda: store.list(
                RecordFilter(recorded_from=datetime(2025, 3, 1, tzinfo=UTC), recorded_to=datetime(2025, 3, 2, tzinfo=UTC)),
                before_seq=None,
                limit=50,
            )
        ),
    }
    began = time.perf_counter()
    reports = [store.verify(chain=chain) for chain in store.chains()]
    results["verify_seconds"] = time.perf_counter() - began
    results["verify_checked"] = sum(report.checked for report in reports)
    assert all(report.intact for report in reports), reports
    store.close()
    engine.dispose()
    return results


def postgres_url() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    script = f"source {ROOT}/scripts/ensure-postgres >&2 && echo $TEST_DATABASE_URL"
    out = subprocess.run(
        ["bash", "-c", script], env={**os.environ, "TEST_DB": "pcso_bench"}, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--sqlite-path", default=None, help="reuse a filled SQLite file instead of a temporary one")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").exists() else None) as tmp:
        if args.backend in ("sqlite", "both"):
            path = args.sqlite_path or f"{tmp}/bench.db"
            print(f"sqlite: filling {args.records:,} records", flush=True)
            results["sqlite"] = measure(f"sqlite:///{path}", args.records)
        if args.backend in ("postgres", "both"):
            print(f"postgres: filling {args.records:,} records", flush=True)
            results["postgres"] = measure(postgres_url(), args.records)
    rows = [
        "records",
        "fill_seconds",
        "first_page_ms",
        "deep_page_ms",
        "officer_first_page_ms",
        "officer_deep_page_ms",
        "time_range_page_ms",
        "verify_seconds",
    ]
    print(f"{'measure':<26}" + "".join(f"{name:>14}" for name in results))
    for row in rows:
        print(f"{row:<26}" + "".join(f"{results[name][row]:>14,.1f}" for name in results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
