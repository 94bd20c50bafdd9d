"""Chain verification: walk one chain's entries in order, checking each digest and each link, then
the stored rows that the chain vouches for.

An entry is *altered* when its content no longer gives its digest, *missing* when the chain has
a gap not covered by a retention checkpoint (itself valid only beside the purge entry that made
it), and *reordered* when it links to an entry other than the one before it. After the walk,
each abstraction of the chain's force must be what its chain entries say (created, and
authorised only by a recorded authorisation), and each idempotent answer kept for a retry must
be the one its entry's digest covers; a signed checkpoint must match the entry it names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, func, select

from service.store.digests import LEGACY_CHAIN, chain_digest, content_digest, genesis, iso_utc, sha256, statement
from service.store.signing import signature_valid
from service.store.tables import abstractions, audit_chains, audit_checkpoints, audit_records, audit_signatures, idempotency_keys

VERIFY_BATCH = 2000

_records = audit_records
_chains = audit_chains
_checkpoints = audit_checkpoints


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    kind: str  # altered | missing | reordered
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    chain: str
    intact: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    head_seq: int
    head_digest: str
    checkpoint_seq: int | None
    broken: ChainBreak | None


class _ChainWalk:
    """Checks a chain's entries in order: each digest against its content, each link against the entry before."""

    def __init__(self, connection: Connection, chain: str, checkpoints: dict[int, Any], expected_prev: str, start: int) -> None:
        self.connection = connection
        self.chain = chain
        self.checkpoints = checkpoints
        self.expected_prev = expected_prev
        self.expected_seq = start
        self.checked = 0
        self.first_seq: int | None = None
        self.last_seq: int | None = None
        self.digests: dict[int, str] = {}

    def run(self, rows: Iterable[Any]) -> ChainBreak | None:
        """Walk the rows; the first break found, or None."""
        for row in rows:
            broken = self._check(row)
            if broken is not None:
                return broken
            self.checked += 1
            self.last_seq = int(row.chain_seq)
            self.expected_prev = row.digest
            self.expected_seq = self.last_seq + 1
        return None

    def _check(self, row: Any) -> ChainBreak | None:
        seq = int(row.chain_seq)
        self.first_seq = seq if self.first_seq is None else self.first_seq
        gap = ChainBreak(self.expected_seq, "missing", f"entries {self.expected_seq} to {seq - 1} are missing")
        if chain_digest(row.prev_digest, content_digest(row, int(row.digest_version))) != row.digest:
            return ChainBreak(seq, "altered", "the entry's content or digest no longer matches its digest")
        if row.prev_digest != self.expected_prev:
            if seq != self.expected_seq:
                return gap
            elsewhere = self.connection.execute(
                select(_records.c.chain_seq).where(_records.c.chain == self.chain, _records.c.digest == row.prev_digest)
            ).scalar()
            if elsewhere is not None:
                return ChainBreak(
                    seq, "reordered", f"entry {seq} follows entry {int(elsewhere)} in the chain, not entry {seq - 1}"
                )
            return ChainBreak(seq, "missing", f"the entry that entry {seq} follows is no longer present")
        if seq != self.expected_seq:
            return gap
        if row.kind == "purge":
            problem = _check_purge_entry(row, self.checkpoints)
            if problem:
                return ChainBreak(seq, "altered", problem)
        return None


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one consistent state of the store for as long as it is open, while
    writers go on (a row and the entry that vouches for it are always seen together)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            yield connection
        return
    with engine.connect() as connection:
        # SQLite (WAL) keeps a read transaction's snapshot from its first read to its end; closing
        # the connection ends it.
        connection.exec_driver_sql("BEGIN")
        yield connection


def verify_chain(
    engine: Engine, chain: str, from_seq: int | None, to_seq: int | None, keys: Mapping[str, Ed25519PublicKey] | None = None
) -> VerifyReport:
    """Walk one chain (or its range from_seq..to_seq) and report the first break, if any; a whole
    walk also checks the signed checkpoints (under ``keys``, by key id) and the rows the chain
    vouches for."""
    in_chain = _records.c.chain == chain
    with snapshot(engine) as connection:
        head = connection.execute(select(_chains.c.seq, _chains.c.digest).where(_chains.c.chain == chain)).first()
        head_seq, head_digest = (int(head.seq), head.digest) if head is not None else (0, genesis(chain))
        checkpoints = {
            int(row.through_chain_seq): row
            for row in connection.execute(select(_checkpoints).where(_checkpoints.c.chain == chain))
        }
        first_present = connection.execute(select(func.min(_records.c.chain_seq)).where(in_chain)).scalar()
        start = from_seq if from_seq is not None else (first_present if first_present is not None else 1)

        def report(broken: ChainBreak | None, walk: _ChainWalk | None = None) -> VerifyReport:
            return VerifyReport(
                chain=chain,
                intact=broken is None,
                checked=walk.checked if walk else 0,
                first_seq=walk.first_seq if walk else None,
                last_seq=walk.last_seq if walk else None,
                head_seq=head_seq,
                head_digest=head_digest,
                checkpoint_seq=max(checkpoints) if checkpoints else None,
                broken=broken,
            )

        # What the first entry walked must link to: the genesis, a purge checkpoint, or the entry before.
        if start == 1:
            expected_prev: str = genesis(chain)
        elif start - 1 in checkpoints and (first_present is None or start <= first_present):
            checkpoint = checkpoints[start - 1]
            problem = _check_checkpoint(connection, chain, checkpoint)
            if problem:
                return report(ChainBreak(start, "missing", problem))
            expected_prev = checkpoint.digest
        else:
            before = connection.execute(select(_records.c.digest).where(in_chain, _records.c.chain_seq == start - 1)).scalar()
            if before is None:
                return report(
                    ChainBreak(start, "missing", f"entry {start - 1} is neither present nor covered by a purge checkpoint")
                )
            expected_prev = before

        conditions = [in_chain, _records.c.chain_seq >= start] + ([_records.c.chain_seq <= to_seq] if to_seq is not None else [])
        walk = _ChainWalk(connection, chain, checkpoints, expected_prev, start)
        rows = connection.execute(
            select(_records)
            .where(*conditions)
            .order_by(_records.c.chain_seq)
            .execution_options(stream_results=True, yield_per=VERIFY_BATCH)
        )
        try:
            broken = walk.run(rows)
        finally:
            rows.close()
        if broken is not None:
            return report(broken, walk)
        end = min(to_seq, head_seq) if to_seq is not None else head_seq
        if end >= start and (walk.last_seq is None or walk.last_seq < end):
            first_missing = start if walk.last_seq is None else walk.last_seq + 1
            return report(ChainBreak(first_missing, "missing", f"entries {first_missing} to {end} are missing"), walk)
        if walk.last_seq == head_seq and walk.expected_prev != head_digest:
            return report(ChainBreak(head_seq, "altered", "the newest entry does not match the chain head"), walk)
        if from_seq is None and to_seq is None:
            broken = _check_signatures(connection, chain, head_seq, keys or {}) or _check_vouched_rows(connection, chain)
        return report(broken, walk)


def _check_checkpoint(connection: Connection, chain: str, checkpoint: Any) -> str | None:
    """A checkpoint stands only beside the purge entry that made it, which must name it exactly."""
    entry = connection.execute(
        select(_records.c.kind, _records.c.response_json).where(
            _records.c.id == checkpoint.purge_record_id, _records.c.chain == chain
        )
    ).first()
    through = int(checkpoint.through_chain_seq)
    if entry is None or entry.kind != "purge":
        return f"the checkpoint through entry {through} has no purge entry in the chain, so it does not account for the entries before"
    result = json.loads(entry.response_json)
    recorded_through = result.get("through_chain_seq", result.get("through_seq"))
    if recorded_through != through or result.get("checkpoint_digest") != checkpoint.digest:
        return f"the checkpoint through entry {through} differs from the purge entry that made it"
    return None


def _check_purge_entry(row: Any, checkpoints: dict[int, Any]) -> str | None:
    """A purge entry must agree with the checkpoint it left behind."""
    result = json.loads(row.response_json)
    through = result.get("through_chain_seq", result.get("through_seq"))
    if through is None:
        return None
    checkpoint = checkpoints.get(int(through))
    if checkpoint is None:
        return None  # a later purge removed it with the entries it covered
    if checkpoint.digest != result.get("checkpoint_digest"):
        return f"the purge through entry {through} has no matching checkpoint"
    return None


def _check_signatures(
    connection: Connection, chain: str, head_seq: int, keys: Mapping[str, Ed25519PublicKey]
) -> ChainBreak | None:
    """Each stored signed checkpoint verifies under one of the service's public keys and names the
    digest its entry still has. (Whether every signed position still has its signature is for the
    offline verifier, which is told the interval: the interval may have changed over time.)"""
    signatures = audit_signatures
    rows = connection.execute(
        select(signatures, _records.c.digest.label("entry_digest"))
        .join(_records, (_records.c.chain == signatures.c.chain) & (_records.c.chain_seq == signatures.c.chain_seq))
        .where(signatures.c.chain == chain)
    ).all()
    past = connection.execute(
        select(func.max(signatures.c.chain_seq)).where(signatures.c.chain == chain, signatures.c.chain_seq > head_seq)
    ).scalar()
    if past is not None:
        return ChainBreak(head_seq + 1, "missing", f"entry {int(past)} was signed but the chain now ends at entry {head_seq}")
    for row in rows:
        seq = int(row.chain_seq)
        key = keys.get(row.key_id)
        message = statement(chain=chain, chain_seq=seq, digest=row.digest, signed_at=row.signed_at, key_id=row.key_id)
        if key is None or not signature_valid(key, message, row.signature):
            return ChainBreak(seq, "altered", "the signed checkpoint of this entry does not verify under the service's keys")
        if row.digest != row.entry_digest:
            return ChainBreak(seq, "altered", "the entry no longer has the digest its signed checkpoint names")
    return None


def _check_vouched_rows(connection: Connection, chain: str) -> ChainBreak | None:
    """Rows kept beside the chain must be what their entries say (entries written before one chain
    per force are in the shared chain; rows older than a purge may have lost their entries)."""
    chains = (chain, LEGACY_CHAIN)
    entries = {
        row.id: row
        for row in connection.execute(
            select(
                _records.c.id,
                _records.c.chain_seq,
                _records.c.kind,
                _records.c.parent_id,
                _records.c.request_json,
                _records.c.response_json,
                _records.c.answer_digest,
                _records.c.caller_key_id,
                _records.c.force,
            ).where(
                _records.c.chain.in_(chains),
                _records.c.kind.in_(("abstraction", "authorisation", "assessment", "escalation", "purge")),
            )
        )
    }
    purged_before = _purged_before(entries)
    authorisations = {row.parent_id: row for row in entries.values() if row.kind == "authorisation"}
    rows = connection.execute(select(abstractions).where(abstractions.c.force == chain)).all()
    # Every abstraction an entry of this force recorded still has its row, under this force.
    present = {row.id for row in rows}
    for vouching in entries.values():
        if vouching.force != chain:
            continue
        if vouching.kind == "abstraction":
            recorded = vouching.id
        elif vouching.kind in DECISION_KINDS:
            recorded = json.loads(vouching.response_json).get("abstraction_id")
        else:
            continue
        if recorded and recorded not in present:
            return ChainBreak(int(vouching.chain_seq), "missing", f"abstraction {recorded}, which this entry records, has no row")
    for row in rows:
        if purged_before is not None and row.recorded_at < purged_before:
            continue  # its entries may have gone with the purge; the purge's checkpoint accounts for them
        problem = _abstraction_problem(row, entries, authorisations.get(row.id))
        if problem:
            created = entries.get(row.id) or entries.get(row.assessment_id)
            return ChainBreak(int(created.chain_seq) if created is not None else 0, "altered", f"abstraction {row.id}: {problem}")
    keys = idempotency_keys
    for row in connection.execute(
        select(keys.c.key, keys.c.caller_key_id, keys.c.record_id, keys.c.response_body).where(
            keys.c.status == "done", keys.c.record_id.is_not(None)
        )
    ).all():
        entry = entries.get(row.record_id)
        if entry is None:
            continue  # another chain's, or purged with its entry
        if (
            entry.answer_digest is None
            or sha256(row.response_body or "") != entry.answer_digest
            or entry.caller_key_id != row.caller_key_id
        ):
            return ChainBreak(
                int(entry.chain_seq), "altered", f"the answer kept for Idempotency-Key {row.key!r} is not the one recorded"
            )
    return None


def _purged_before(entries: Mapping[str, Any]) -> datetime | None:
    """The latest cutoff of a purge recorded in the chain (a checkpoint row alone proves nothing)."""
    cutoffs = []
    for entry in entries.values():
        if entry.kind == "purge":
            cutoff = json.loads(entry.request_json).get("cutoff")
            if isinstance(cutoff, str):
                try:
                    cutoffs.append(datetime.fromisoformat(cutoff))
                except ValueError:
                    continue
    return max(cutoffs, default=None)


DECISION_KINDS = ("assessment", "escalation")
_CREATED_FIELDS = (
    "force",
    "officer_id",
    "home_lpa",
    "home_neighbourhood",
    "lpa",
    "neighbourhood",
    "reason",
    "description",
    "source",
)


def _abstraction_problem(row: Any, entries: dict[str, Any], authorisation: Any | None) -> str | None:
    created = entries.get(row.id)
    if created is not None and created.kind == "abstraction":
        recorded = json.loads(created.request_json)
        for name in (*_CREATED_FIELDS, "started_at", "assessment_id"):
            value = getattr(row, name)
            if _plain(value) != _plain(recorded.get(name)):
                return f"its {name} is not what was recorded"
        if not (authorisation is not None and "hours" in json.loads(authorisation.request_json)):
            if _plain(row.hours) != _plain(recorded.get("hours")):
                return "its hours are not what was recorded"
    elif row.assessment_id is None or row.assessment_id not in entries:
        return "no entry of the chain records it"
    else:
        decision = json.loads(entries[row.assessment_id].response_json)
        if decision.get("abstraction_id") != row.id:
            return "the decision it names did not create it"
        request = json.loads(entries[row.assessment_id].request_json)
        officer, location = request.get("officer", {}), request.get("location", {})
        for name, recorded in (
            ("officer_id", officer.get("id")),
            ("home_lpa", officer.get("home_lpa")),
            ("home_neighbourhood", officer.get("home_neighbourhood")),
            ("lpa", location.get("lpa")),
            ("neighbourhood", location.get("neighbourhood")),
        ):
            if getattr(row, name) != recorded:
                return f"its {name} is not what the decision that created it recorded"
        if row.source != "assessment":
            return "its source is not the decision that created it"
        if not (authorisation is not None and "hours" in json.loads(authorisation.request_json)) and row.hours is not None:
            return "its hours are not what was recorded"
    if authorisation is None:
        if row.status != "pending" or row.authorised_by is not None or row.authorised_at is not None:
            return "it is marked authorised but the chain records no authorisation"
        return None
    change = json.loads(authorisation.request_json)
    for name in ("status", "authorised_by", "justification", "authorised_at"):
        if _plain(getattr(row, name)) != _plain(change.get(name)):
            return f"its {name} is not what the recorded authorisation says"
    if "hours" in change and _plain(row.hours) != _plain(change["hours"]):
        return "its hours are not what the recorded authorisation says"
    return None


def _plain(value: Any) -> Any:
    """Values compared across the row and its JSON record: times as UTC text, numbers as floats."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return iso_utc(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value
