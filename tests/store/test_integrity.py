"""What the audit chains vouch for, on SQLite and PostgreSQL: edits to stored fields that change who
may read a record or what a report says are caught; each force's chain and its export stand
alone; a rewrite of a chain with recomputed digests is caught offline by its signatures; one
caller's unstorable entry fails only that caller; and the single chain of schema 0003 is carried
over, still verifiable."""

from __future__ import annotations

import base64
import copy
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from service.main import create_app
from service.store import migrate
from service.store.chain import CallerGaveUp, ChainWriter, NewEntry, _driver_insert, _Waiting
from service.store.database import make_engine
from service.store.digests import chain_digest, content_digest, genesis
from service.store.signing import Signer, new_key_text
from tests.helpers import ROOT, headers, make_settings, signing_public_key

LEGACY_STORE = ROOT / "tests" / "data" / "audit-v1" / "store.db"
SIGN_EVERY = 5

WMP = {
    "force": "west-midlands",
    "call": {"type": "asb.nuisance", "reference": "WMP-1"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": True},
}
KENT = {**copy.deepcopy(WMP), "force": "kent", "call": {"type": "asb.nuisance", "reference": "KENT-1"}}


@pytest.fixture
def signed(database_url: str) -> Iterator[TestClient]:
    """The app with a short signing interval, so that a few entries carry signed checkpoints."""
    with TestClient(create_app(make_settings(database_url, audit_sign_every=SIGN_EVERY))) as client:
        yield client


def assess(client: TestClient, body: dict, who: str = "dispatcher", **extra_headers: str) -> dict:
    response = client.post("/v1/assessments", json=body, headers={**headers(who), **extra_headers})
    assert response.status_code == 200, response.text
    return response.json()


def execute(database_url: str, *statements: str, **params: object) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)
    engine.dispose()


def verify(client: TestClient, **params: str) -> dict:
    response = client.get("/v1/audit/verify", params=params, headers=headers("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def export(client: TestClient, path: Path, **params: str) -> Path:
    response = client.get("/v1/audit/export", params=params, headers=headers("auditor"))
    assert response.status_code == 200, response.text
    path.write_text(response.text, encoding="utf-8")
    return path


def verify_offline(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The offline verifier in a process where the database driver and web framework cannot be imported."""
    blocked = (
        "import sys; [sys.modules.__setitem__(m, None) for m in ('sqlalchemy', 'sqlmodel', 'fastapi', 'psycopg', 'starlette')]"
    )
    run = "import runpy; runpy.run_module('service.cli.audit', run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-c", f"{blocked}; sys.argv = ['audit', *sys.argv[1:]]; {run}", "verify-export", str(path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- edits that verification catches ---------------------------------------------------------


def test_a_record_handed_to_another_callers_fingerprint_is_caught(client: TestClient, database_url: str) -> None:
    record = assess(client, WMP)
    execute(
        database_url,
        "UPDATE audit_record SET caller_key_id = (SELECT caller_key_id FROM audit_record WHERE id = :id) || 'x' WHERE id = :id",
        id=record["assessment_id"],
    )
    report = verify(client, force="west-midlands")
    assert report["status"] == "broken" and report["broken"]["kind"] == "altered" and report["broken"]["seq"] == 1


def test_a_checkpoint_without_the_purge_entry_that_made_it_is_caught(client: TestClient, database_url: str) -> None:
    for n in range(4):
        assess(client, {**WMP, "call": {"type": "asb.nuisance", "reference": f"WMP-{n}"}})
    # Drop the two oldest entries and leave a checkpoint that accounts for them, with no purge entry.
    execute(
        database_url,
        "INSERT INTO audit_checkpoint (chain, through_chain_seq, through_seq, digest, purged_count, cutoff, purged_at, purge_record_id) "
        "SELECT chain, chain_seq, seq, digest, 2, recorded_at, recorded_at, 'no-such-purge' FROM audit_record "
        "WHERE chain = 'west-midlands' AND chain_seq = 2",
        "DELETE FROM audit_record WHERE chain = 'west-midlands' AND chain_seq <= 2",
    )
    report = verify(client, force="west-midlands")
    assert report["status"] == "broken" and report["broken"]["kind"] == "missing"
    assert "no purge entry" in report["broken"]["detail"]


def _abstraction(client: TestClient, officer: str = "PCSO 7") -> str:
    created = client.post(
        "/v1/abstractions",
        json={
            "force": "west-midlands",
            "officer_id": officer,
            "home_lpa": "walsall",
            "reason": "other",
            "started_at": "2026-11-02T09:00:00Z",
        },
        headers=headers("planner"),
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_an_abstraction_marked_authorised_outside_the_service_is_caught(client: TestClient, database_url: str) -> None:
    _abstraction(client)
    assert verify(client, force="west-midlands")["status"] == "intact"
    execute(
        database_url,
        "UPDATE abstraction SET status = 'authorised', authorised_by = 'Insp 9999 Fake', justification = 'x', authorised_at = started_at",
    )
    report = verify(client, force="west-midlands")
    assert report["status"] == "broken" and "chain records no authorisation" in report["broken"]["detail"]


def test_an_authorisation_edited_afterwards_is_caught(client: TestClient, database_url: str) -> None:
    abstraction = _abstraction(client)
    authorised = client.post(
        f"/v1/abstractions/{abstraction}/authorisation",
        json={"authorised_by": "PS 2211 Khan", "justification": "No cover tonight"},
        headers=headers("planner"),
    )
    assert authorised.status_code == 200 and verify(client, force="west-midlands")["status"] == "intact"
    execute(database_url, "UPDATE abstraction SET authorised_by = 'Supt 1 Someone Else'")
    assert "authorised_by" in verify(client, force="west-midlands")["broken"]["detail"]


def test_an_edited_idempotent_answer_is_caught_and_never_replayed(client: TestClient, database_url: str) -> None:
    key = {"Idempotency-Key": "CAD-2026-0042"}
    first = assess(client, WMP, **key)
    assert assess(client, WMP, **key) == first  # a retry replays the recorded answer
    execute(database_url, "UPDATE idempotency_key SET response_body = replace(response_body, '\"deploy\"', '\"do_not_deploy\"')")
    report = verify(client, force="west-midlands")
    assert report["status"] == "broken" and "Idempotency-Key" in report["broken"]["detail"]
    retry = client.post("/v1/assessments", json=WMP, headers={**headers("dispatcher"), **key})
    assert retry.status_code == 503 and "integrity" in retry.json()["detail"]


# --- one chain per force, and evidence beyond the database ------------------------------------


def test_each_force_has_its_own_chain_and_export_that_verify_alone(signed: TestClient, tmp_path: Path) -> None:
    for n in range(12):
        assess(signed, {**WMP, "call": {"type": "asb.nuisance", "reference": f"WMP-{n}"}})
        if n % 3 == 0:
            assess(signed, {**KENT, "call": {"type": "asb.nuisance", "reference": f"KENT-{n}"}}, who="dispatcher2")
    report = verify(signed)
    assert report["status"] == "intact"
    assert {(c["chain"], c["checked"], c["head_seq"]) for c in report["chains"]} == {("west-midlands", 12, 12), ("kent", 4, 4)}
    keys = signed.get("/v1/audit/public-keys", headers=headers("auditor")).json()["keys"]
    assert keys[0]["public_key"] == signing_public_key() and keys[0]["current"] and keys[0]["algorithm"] == "Ed25519"

    wmp = export(signed, tmp_path / "wmp.ndjson", force="west-midlands")
    lines = [json.loads(line) for line in wmp.read_text().splitlines()]
    assert {line["chain"] for line in lines if line["type"] in ("entry", "signature")} == {"west-midlands"}
    assert [line["chain_seq"] for line in lines if line["type"] == "signature"] == [5, 10, 12]  # interval, interval, export
    checked = verify_offline(wmp, "--public-key", signing_public_key(), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (chain,) = json.loads(checked.stdout)["chains"]
    assert (chain["chain"], chain["entries"], chain["signatures"], chain["signed_through"]) == ("west-midlands", 12, 3, 12)

    kent = export(signed, tmp_path / "kent.ndjson", force="kent")
    assert verify_offline(kent, "--public-key", signing_public_key(), "--force", "kent").returncode == 0
    # Another key does not vouch for it.
    other = verify_offline(kent, "--public-key", Signer.from_text(new_key_text()).public_key)
    assert other.returncode == 1 and "was not given" in other.stdout


def _rewrite_from(database_url: str, chain: str, first: int) -> None:
    """What an attacker with the database (and not the signing key) can do: change an entry and
    recompute every digest after it, and the head, so the database's own check passes."""
    engine = create_engine(database_url)
    records = MetaData()
    records.reflect(engine, only=["audit_record", "audit_chain"])
    table, heads = records.tables["audit_record"], records.tables["audit_chain"]
    with engine.begin() as connection:
        rows = connection.execute(select(table).where(table.c.chain == chain).order_by(table.c.chain_seq)).all()
        prev = genesis(chain) if first == 1 else rows[first - 2].digest
        for row in rows[first - 1 :]:
            values = dict(row._mapping)
            if row.chain_seq == first:
                values["response_json"] = row.response_json.replace('"deploy"', '"do_not_deploy"')
            recorded_at = values["recorded_at"]
            values["recorded_at"] = recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=UTC)
            digest = chain_digest(prev, content_digest(type("Row", (), values), int(row.digest_version)))
            connection.execute(
                table.update()
                .where(table.c.seq == row.seq)
                .values(response_json=values["response_json"], prev_digest=prev, digest=digest)
            )
            prev = digest
        connection.execute(heads.update().where(heads.c.chain == chain).values(digest=prev))
    engine.dispose()


def test_a_chain_rewritten_with_recomputed_digests_is_caught_offline(
    signed: TestClient, database_url: str, tmp_path: Path
) -> None:
    for n in range(12):
        assess(signed, {**WMP, "call": {"type": "asb.nuisance", "reference": f"WMP-{n}"}})
    _rewrite_from(database_url, "west-midlands", 3)
    # The stored signed checkpoints still name the old digests: the service's own check sees it, and so does the offline one.
    assert "signed checkpoint" in verify(signed, force="west-midlands")["broken"]["detail"]
    key = ("--public-key", signing_public_key())
    rewritten = verify_offline(export(signed, tmp_path / "rewritten.ndjson", force="west-midlands"), *key)
    assert rewritten.returncode == 1 and "entry 5 no longer has the digest signed for it" in rewritten.stdout
    # Brought into line with the rewrite, the stored checkpoints' signatures, which need the key, no longer verify.
    execute(
        database_url,
        "UPDATE audit_signature SET digest = (SELECT digest FROM audit_record r "
        "WHERE r.chain = audit_signature.chain AND r.chain_seq = audit_signature.chain_seq)",
    )
    assert "does not verify under the service's keys" in verify(signed, force="west-midlands")["broken"]["detail"]
    forged = verify_offline(export(signed, tmp_path / "forged.ndjson", force="west-midlands"), *key)
    assert forged.returncode == 1 and "the signature at entry 5 does not verify" in forged.stdout
    # Deleting the signatures satisfies the database, but leaves the signed positions bare in an export.
    execute(database_url, "DELETE FROM audit_signature")
    assert verify(signed, force="west-midlands")["status"] == "intact"
    bare = verify_offline(export(signed, tmp_path / "bare.ndjson", force="west-midlands"), *key, "--sign-every", str(SIGN_EVERY))
    assert bare.returncode == 1 and "entry 5 should carry a signed checkpoint" in bare.stdout


def writer_entry(record_id: str, **fields: object) -> NewEntry:
    """A West Midlands assessment entry as the chain writer is given it, with ``fields`` changed."""
    values: dict[str, object] = {
        "id": record_id,
        "kind": "assessment",
        "recorded_at": datetime.now(UTC),
        "force": "west-midlands",
        "caller_role": "dispatcher",
        "caller_key_id": "k",
        "request_json": "{}",
        "response_json": "{}",
    }
    return NewEntry(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, 40])
def test_a_batch_past_its_deadline_when_it_would_commit_is_rolled_back(client: TestClient, database_url: str, size: int) -> None:
    # A small batch commits in its records' round trip, a large one after them: either way, once the
    # writer's deadline has passed nothing is committed, and the kept connection serves the next batch.
    engine = make_engine(database_url)
    writer = ChainWriter(engine)

    def batch(prefix: str) -> list[NewEntry]:
        return [writer_entry(f"{prefix}-{index}", response_json=json.dumps({"padding": "x" * 10_000})) for index in range(size)]

    try:
        with pytest.raises(CallerGaveUp):
            writer._append(batch("late"), time.monotonic() - 1)
        appended = writer._append(batch("kept"), time.monotonic() + 30)
    finally:
        writer.close()
    assert [entry.chain_seq for entry in appended] == list(range(1, size + 1))
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM audit_record ORDER BY seq")).scalars().all()
    engine.dispose()
    assert ids == [f"kept-{index}" for index in range(size)]
    assert verify(client, force="west-midlands")["status"] == "intact"


# --- rows that come with entries --------------------------------------------------------------


def test_rows_an_entry_brings_are_stored_as_sqlalchemy_stores_them(client: TestClient, database_url: str) -> None:
    # A row naming every column goes to the driver with the records; one leaving columns out is
    # inserted by SQLAlchemy, which fills in their defaults. Both read back as written, in one commit.
    london = timezone(timedelta(hours=1))
    full = {
        "id": "abs-full",
        "force": "west-midlands",
        "officer_id": "PCSO 4521",
        "home_lpa": "birmingham-west",
        "home_neighbourhood": None,
        "lpa": "walsall",
        "neighbourhood": "o'connor's \"yard\"",
        "reason": "outside_home_lpa",
        "description": "house_to_house for serious.burglary_in_progress (WMP-3)",
        "source": "assessment",
        "assessment_id": "rec-1",
        "started_at": datetime(2026, 12, 7, 10, 15, 30, 123456, tzinfo=london),
        "hours": 2.5,
        "status": "pending",
        "authorised_by": None,
        "justification": None,
        "authorised_at": None,
        "recorded_at": datetime(2026, 12, 7, 9, 15, 31, tzinfo=UTC),
        "recorded_by_role": "dispatcher",
    }
    partial = {
        key: value for key, value in full.items() if key not in ("hours", "authorised_by", "justification", "authorised_at")
    }
    partial["id"] = "abs-partial"
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert _driver_insert(connection, "abstraction", tuple(full)) is not None
        assert _driver_insert(connection, "abstraction", tuple(partial)) is None
    writer = ChainWriter(engine)

    def entry(record_id: str, row: dict) -> NewEntry:
        return writer_entry(record_id, side_rows=(("abstraction", row),))

    try:
        appended = writer.append([entry("rec-1", full), entry("rec-2", partial)])
    finally:
        writer.close()
    assert [entry.chain_seq for entry in appended] == [1, 2]
    with engine.connect() as connection:
        stored = {row.id: row._asdict() for row in connection.execute(select(SQLModel.metadata.tables["abstraction"]))}
    engine.dispose()
    expected_full = {**full, "started_at": full["started_at"].astimezone(UTC)}
    assert stored["abs-full"] == expected_full
    assert stored["abs-partial"] == {
        **partial,
        "started_at": full["started_at"].astimezone(UTC),
        "hours": None,
        "authorised_by": None,
        "justification": None,
        "authorised_at": None,
    }


# --- one caller cannot fail another ----------------------------------------------------------


def test_a_batch_that_cannot_commit_fails_only_the_entry_the_store_refuses(client: TestClient, database_url: str) -> None:
    existing = assess(client, WMP)["assessment_id"]
    engine = make_engine(database_url)
    writer = ChainWriter(engine)
    now = datetime.now(UTC)

    def entry(record_id: str) -> NewEntry:
        return writer_entry(record_id, recorded_at=now)

    outcomes: dict[str, object] = {}
    done = threading.Event()

    def settle(name: str):
        def record(result: object, error: BaseException | None) -> None:
            outcomes[name] = error if error is not None else result
            if len(outcomes) == 3:
                done.set()

        return record

    # One group commit holding a duplicate of an existing record id between two good entries.
    waiting = time.monotonic() + 30
    writer._commit(
        [
            _Waiting((entry("good-1"),), settle("good-1"), waiting),
            _Waiting((entry(existing),), settle("duplicate"), waiting),
            _Waiting((entry("good-2"),), settle("good-2"), waiting),
        ]
    )
    assert done.wait(10)
    assert isinstance(outcomes["duplicate"], Exception)
    assert [a.chain_seq for a in outcomes["good-1"]] == [2] and [a.chain_seq for a in outcomes["good-2"]] == [3]  # type: ignore[attr-defined]
    # An entry whose caller has stopped waiting is never appended; the others of its batch are.
    outcomes.clear()
    done.clear()
    writer._commit(
        [
            _Waiting((entry("good-3"),), settle("good-3"), waiting),
            _Waiting((entry("late"),), settle("late"), time.monotonic() - 1),
            _Waiting((entry("good-4"),), settle("good-4"), waiting),
        ]
    )
    assert done.wait(10)
    assert isinstance(outcomes["late"], CallerGaveUp)
    assert [a.chain_seq for a in outcomes["good-3"]] == [4] and [a.chain_seq for a in outcomes["good-4"]] == [5]  # type: ignore[attr-defined]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_record WHERE id = 'late'")).scalar_one() == 0
    writer.close()
    engine.dispose()
    assert verify(client, force="west-midlands")["status"] == "intact"


def test_concurrent_authorisations_give_one_200_and_409s(client: TestClient) -> None:
    ids = [_abstraction(client, f"PCSO {n}") for n in range(10)]
    results: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def authorise(abstraction_id: str, who: str) -> None:
        response = client.post(
            f"/v1/abstractions/{abstraction_id}/authorisation",
            json={"authorised_by": who, "justification": "cover"},
            headers=headers("planner"),
        )
        with lock:
            results.append((abstraction_id, response.status_code, response.json().get("authorised_by", "")))

    threads = [threading.Thread(target=authorise, args=(i, f"PS {n}")) for i in ids for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(status for _, status, _ in results) == [200] * 10 + [409] * 30
    for abstraction_id in ids:
        (winner,) = [who for i, status, who in results if i == abstraction_id and status == 200]
        stored = client.get("/v1/reports/abstractions", params={"month": "2026-11"}, headers=headers("planner"))
        assert stored.status_code == 200
        assert winner.startswith("PS ")
    assert verify(client, force="west-midlands")["status"] == "intact"


# --- carried over from the single chain -------------------------------------------------------


def _legacy_store(database_url: str, tmp_path: Path) -> None:
    """Put the schema-0003 store of tests/data/audit-v1 into ``database_url`` as it was written."""
    if database_url.startswith("sqlite"):
        shutil.copy(LEGACY_STORE, Path(database_url.removeprefix("sqlite:///")))
        return
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), "0003_idempotency")
    source = create_engine(f"sqlite:///{LEGACY_STORE}")
    tables = MetaData()
    tables.reflect(source)
    with source.connect() as reading, engine.begin() as writing:
        writing.execute(text("DELETE FROM chain_head"))
        for name in ("audit_record", "chain_head", "audit_checkpoint", "abstraction", "idempotency_key"):
            rows = []
            for row in reading.execute(select(tables.tables[name])):
                values = dict(row._mapping)
                for key, value in values.items():
                    if isinstance(value, datetime) and value.tzinfo is None:
                        values[key] = value.replace(tzinfo=UTC)
                rows.append(values)
            if rows:
                target = MetaData()
                target.reflect(engine, only=[name])
                writing.execute(target.tables[name].insert(), rows)
        # Rows copied with their ids: move the id sequence on, as writing them through the service would have.
        writing.execute(
            text("SELECT setval(pg_get_serial_sequence('audit_checkpoint', 'id'), (SELECT max(id) FROM audit_checkpoint))")
        )
    source.dispose()
    engine.dispose()


def test_the_single_chain_of_schema_0003_is_carried_over_and_still_verifies(database_url: str, tmp_path: Path) -> None:
    _legacy_store(database_url, tmp_path)
    with TestClient(create_app(make_settings(database_url))) as client:
        report = verify(client)
        assert report["status"] == "intact", report
        (shared,) = report["chains"]
        assert (shared["chain"], shared["checked"], shared["head_seq"], shared["checkpoint_seq"]) == ("~shared", 8, 11, 3)
        # Records written before keep their numbers and stay readable; new ones start each force's chain.
        listed = client.get("/v1/assessments", headers=headers("auditor")).json()
        assert listed["items"] and all(item["sequence"] <= 10 for item in listed["items"])
        old = client.get(f"/v1/assessments/{listed['items'][0]['assessment_id']}", headers=headers("auditor")).json()
        assert old["chain"] == "~shared" and old["chain_sequence"] == old["sequence"]
        new = client.get(f"/v1/assessments/{assess(client, WMP)['assessment_id']}", headers=headers("auditor")).json()
        assert (new["sequence"], new["chain"], new["chain_sequence"]) == (12, "west-midlands", 1)
        assess(client, KENT, who="dispatcher2")
        report = verify(client)
        assert report["status"] == "intact"
        assert {(c["chain"], c["checked"]) for c in report["chains"]} == {("~shared", 8), ("west-midlands", 1), ("kent", 1)}
        # The legacy chain exports and checks offline too (its entries carry no signatures).
        exported = export(client, tmp_path / "shared.ndjson", force="~shared")
        checked = verify_offline(exported, "--public-key", signing_public_key())
        assert checked.returncode == 0, checked.stdout
        # A retention purge now purges each chain and keeps every chain verifiable.
        purge = client.post("/v1/audit/purge", json={"reason": "retention", "older_than_days": 1}, headers=headers("admin"))
        assert purge.status_code == 200, purge.text
        assert verify(client)["status"] == "intact"


def test_migration_0005_scopes_idempotency_keys_to_the_endpoint(database_url: str) -> None:
    engine = make_engine(database_url)
    row = {
        "caller_key_id": "key-bf5ff352c08e",
        "key": "INC-2026-0042",
        "request_hash": "sha256:" + "0" * 64,
        "status": "done",
        "response_status": 200,
        "response_body": "{}",
        "record_id": None,
    }
    insert = text(
        "INSERT INTO idempotency_key (caller_key_id, key, endpoint, request_hash, status, response_status, response_body, "
        "record_id, created_at, updated_at) VALUES (:caller_key_id, :key, :endpoint, :request_hash, :status, "
        ":response_status, :response_body, :record_id, :at, :at)"
    )
    keys = text("SELECT endpoint FROM idempotency_key ORDER BY endpoint")
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), "0004_chain_per_force")
        connection.execute(insert, {**row, "endpoint": "POST /v1/assessments", "at": datetime(2026, 11, 30, tzinfo=UTC)})
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), "head")
        connection.execute(insert, {**row, "endpoint": "POST /v1/candidates", "at": datetime(2026, 12, 1, tzinfo=UTC)})
        assert connection.execute(keys).scalars().all() == ["POST /v1/assessments", "POST /v1/candidates"]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {**row, "endpoint": "POST /v1/candidates", "at": datetime(2026, 12, 2, tzinfo=UTC)})
    # Back to one key per caller: the newest use of the key is the one kept.
    with engine.begin() as connection:
        command.downgrade(migrate._config(connection), "0004_chain_per_force")
        assert connection.execute(keys).scalars().all() == ["POST /v1/candidates"]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {**row, "endpoint": "POST /v1/assessments", "at": datetime(2026, 12, 2, tzinfo=UTC)})
    engine.dispose()


def test_a_rotated_key_keeps_older_signatures_verifiable(database_url: str, tmp_path: Path) -> None:
    old_key, new_key = Signer.from_text(new_key_text()), Signer.from_text(new_key_text())
    old_text = base64.b64encode(old_key.private.private_bytes_raw()).decode()
    new_text = base64.b64encode(new_key.private.private_bytes_raw()).decode()
    with TestClient(create_app(make_settings(database_url, audit_signing_key=old_text, audit_sign_every=SIGN_EVERY))) as client:
        for n in range(6):
            assess(client, {**WMP, "call": {"type": "asb.nuisance", "reference": f"WMP-{n}"}})
    rotated = make_settings(
        database_url, audit_signing_key=new_text, audit_sign_every=SIGN_EVERY, audit_previous_public_keys=old_key.public_key
    )
    with TestClient(create_app(rotated)) as client:
        for n in range(6, 11):
            assess(client, {**WMP, "call": {"type": "asb.nuisance", "reference": f"WMP-{n}"}})
        assert verify(client, force="west-midlands")["status"] == "intact"
        keys = client.get("/v1/audit/public-keys", headers=headers("auditor")).json()["keys"]
        assert [(k["public_key"], k["current"]) for k in keys] == [(new_key.public_key, True), (old_key.public_key, False)]
        exported = export(client, tmp_path / "rotated.ndjson", force="west-midlands")
    both = verify_offline(exported, "--public-key", old_key.public_key, "--public-key", new_key.public_key)
    assert both.returncode == 0, both.stdout
    only_new = verify_offline(exported, "--public-key", new_key.public_key)
    assert only_new.returncode == 1 and "the signature at entry 5 is by key" in only_new.stdout
    # Forgetting the retired key is reported, not ignored: its signatures no longer verify.
    with TestClient(create_app(make_settings(database_url, audit_signing_key=new_text))) as client:
        assert "does not verify" in verify(client, force="west-midlands")["broken"]["detail"]


# --- found by attacking the above -------------------------------------------------------------


def test_verification_while_others_write_reports_no_false_break(client: TestClient) -> None:
    _abstraction(client, "PCSO first")  # the chain exists before the checks begin
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            abstraction = _abstraction(client, f"PCSO {n}")
            client.post(
                f"/v1/abstractions/{abstraction}/authorisation",
                json={"authorised_by": "PS 1", "justification": "cover"},
                headers=headers("planner"),
            )
            n += 1

    writers = [threading.Thread(target=write) for _ in range(3)]
    for writer in writers:
        writer.start()
    try:
        reports = [verify(client, force="west-midlands") for _ in range(25)]
    finally:
        stop.set()
        for writer in writers:
            writer.join(30)
    assert [r["broken"] for r in reports if r["status"] != "intact"] == []


def test_removing_the_newest_entries_and_moving_the_head_back_is_caught(signed: TestClient, database_url: str) -> None:
    for n in range(11):
        assess(signed, {**WMP, "call": {"type": "asb.nuisance", "reference": f"WMP-{n}"}})
    execute(
        database_url,
        "DELETE FROM audit_record WHERE chain = 'west-midlands' AND chain_seq > 8",
        "UPDATE audit_chain SET seq = 8, digest = (SELECT digest FROM audit_record WHERE chain = 'west-midlands' AND chain_seq = 8) "
        "WHERE chain = 'west-midlands'",
    )
    report = verify(signed, force="west-midlands")
    assert report["status"] == "broken" and "entry 10 was signed" in report["broken"]["detail"]


def test_a_checkpoint_row_alone_does_not_excuse_an_abstraction(client: TestClient, database_url: str) -> None:
    _abstraction(client)
    assess(client, WMP)
    execute(
        database_url,
        "INSERT INTO audit_checkpoint (chain, through_chain_seq, through_seq, digest, purged_count, cutoff, purged_at, purge_record_id) "
        "VALUES ('west-midlands', 0, 999999999, 'sha256:x', 0, '2099-12-31 00:00:00', '2099-12-31 00:00:00', 'none')",
        "UPDATE abstraction SET status = 'authorised', authorised_by = 'Insp Fake', justification = 'x', authorised_at = started_at",
    )
    assert "no authorisation" in verify(client, force="west-midlands")["broken"]["detail"]


def test_answers_swapped_between_two_callers_keys_are_caught(client: TestClient, database_url: str) -> None:
    assess(client, WMP, **{"Idempotency-Key": "CAD-1"})
    assess(
        client, {**WMP, "call": {"type": "asb.nuisance", "reference": "WMP-2"}}, who="dispatcher2", **{"Idempotency-Key": "CAD-2"}
    )
    execute(
        database_url,
        "UPDATE idempotency_key SET response_body = (SELECT response_body FROM idempotency_key WHERE key = 'CAD-2'), "
        "record_id = (SELECT record_id FROM idempotency_key WHERE key = 'CAD-2') WHERE key = 'CAD-1'",
    )
    assert "CAD-1" in verify(client, force="west-midlands")["broken"]["detail"]


def test_the_offline_verifier_refuses_cut_or_doctored_exports(signed: TestClient, tmp_path: Path) -> None:
    for n in range(11):
        assess(signed, {**WMP, "call": {"type": "asb.nuisance", "reference": f"WMP-{n}"}})
    lines = export(signed, tmp_path / "whole.ndjson", force="west-midlands").read_text().splitlines()
    key = ("--public-key", signing_public_key(), "--sign-every", str(SIGN_EVERY))
    # The newest entries dropped (the export's own signature names the newest).
    cut = tmp_path / "cut.ndjson"
    cut.write_text("\n".join(line for line in lines if '"chain_seq":11' not in line or '"type":"signature"' in line))
    checked = verify_offline(cut, *key)
    assert checked.returncode == 1 and "entry 11 was signed but the export ends at entry 10" in checked.stdout
    # A readable copy changed while the hashed text is left alone.
    doctored = tmp_path / "doctored.ndjson"
    entries = [json.loads(line) for line in lines]
    for entry in entries:
        if entry["type"] == "entry" and entry["chain_seq"] == 3:
            entry["response"]["decision"] = "do_not_deploy"
    doctored.write_text("\n".join(json.dumps(entry) for entry in entries))
    checked = verify_offline(doctored, *key)
    assert checked.returncode == 1 and "entry 3: its readable response differs" in checked.stdout
    # Not an export at all, and an empty one.
    garbage = tmp_path / "garbage.ndjson"
    garbage.write_text('{"type": "entry", "chain": "west-midlands", "chain_seq": "x"}\n')
    assert verify_offline(garbage, *key).returncode == 2
    empty = tmp_path / "empty.ndjson"
    empty.write_text(lines[0] + "\n")
    nothing = verify_offline(empty, *key)
    assert nothing.returncode == 0 and "nothing to check" in nothing.stdout


@pytest.mark.parametrize(
    "edit", ["DELETE FROM abstraction", "UPDATE abstraction SET force = 'kent'"], ids=["row deleted", "moved to another force"]
)
def test_an_abstraction_row_that_vanishes_from_its_force_is_caught(client: TestClient, database_url: str, edit: str) -> None:
    abstraction = _abstraction(client)
    execute(database_url, edit)
    report = verify(client, force="west-midlands")
    assert report["status"] == "broken" and f"abstraction {abstraction}" in report["broken"]["detail"]
