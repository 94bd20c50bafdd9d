"""The audit store: append, read, list, export, verify and purge. The only code that queries it."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, and_, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from service.errors import InvalidRequest, NotRecorded, StoreUnavailable
from service.store.chain import Appended, ChainWriters, NewEntry, Signing, append_in, chain_of, lock_chain
from service.store.database import DEFAULT_WAIT_SECONDS, ping, probe_write
from service.store.digests import CallerFields, iso_utc, statement
from service.store.signing import key_id
from service.store.tables import audit_chains, audit_checkpoints, audit_records, audit_signatures
from service.store.verify import VERIFY_BATCH, VerifyReport, verify_chain

DECISION_KINDS = ("assessment", "escalation")
logger = logging.getLogger("service.store")

_records = audit_records
_checkpoints = audit_checkpoints
_signatures = audit_signatures
_chains_table = audit_chains
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredRecord:
    id: str
    seq: int
    chain: str
    chain_seq: int
    kind: str
    recorded_at: datetime
    force: str | None
    caller_role: str
    caller_key_id: str
    parent_id: str | None
    prev_digest: str
    digest: str
    request: dict[str, Any]
    response: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordSummary:
    id: str
    seq: int
    kind: str
    recorded_at: datetime
    force: str | None
    task: str | None
    call_type: str | None
    call_reference: str | None
    officer_id: str | None
    decision: str | None
    parent_id: str | None
    policy_version: str | None
    caller_role: str


@dataclass(frozen=True, slots=True)
class RecordFilter:
    force: str | None = None
    decision: str | None = None
    officer_id: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    caller_key_id: str | None = None
    forces: frozenset[str] | None = None  # only these forces' decisions (None: every force's)


@dataclass(frozen=True, slots=True)
class ChainPurge:
    chain: str
    record_id: str
    purged: int
    through_chain_seq: int | None
    checkpoint_digest: str | None


@dataclass(frozen=True, slots=True)
class PurgeReport:
    purge_id: str
    purged: int
    through_seq: int | None
    checkpoint_digest: str | None
    cutoff: datetime
    chains: tuple[ChainPurge, ...] = ()


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": seq}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            "The cursor is not one this service issued.",
            errors=[{"field": "cursor", "message": "malformed cursor", "code": "invalid_cursor"}],
        ) from exc
    if type(value) is not int or not 1 <= value < 2**63:  # a JSON true is not a position
        raise InvalidRequest(
            "The cursor is not one this service issued.",
            errors=[{"field": "cursor", "message": "malformed cursor", "code": "invalid_cursor"}],
        )
    return value


class AuditStore:
    """Durable, tamper-evident records of every decision."""

    def __init__(
        self,
        engine: Engine,
        *,
        signing: Signing | None = None,
        previous_keys: Sequence[Ed25519PublicKey] = (),
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> None:
        self.engine = engine
        self.signing = signing
        # The keys whose signatures verification accepts: the current one and retired ones.
        keys = list(previous_keys) + ([signing.signer.private.public_key()] if signing is not None else [])
        self.public_keys = {key_id(key): key for key in keys}
        self.writer = ChainWriters(
            engine, signing=signing, wait_seconds=wait_seconds, per_chain=engine.dialect.name == "postgresql"
        )

    def close(self) -> None:
        self.writer.close()

    def unreachable(self) -> str | None:
        """None when the database answers; otherwise the kind of error it gave."""
        try:
            ping(self.engine)
        except SQLAlchemyError as exc:
            return type(exc).__name__
        return None

    def cannot_write(self) -> str | None:
        """None when a write could start within the store wait; otherwise the kind of error it gave."""
        try:
            probe_write(self.engine)
        except SQLAlchemyError as exc:
            return type(exc).__name__
        return None

    def _reading(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The record store cannot be read at the moment.") from exc

    async def append_async(self, *entries: NewEntry) -> list[Appended]:
        """As ``append``, for coroutines: the event loop is not blocked while the batch commits."""
        try:
            return await self.writer.append_async(entries)
        except Exception as exc:
            raise _unrecorded() from exc

    def append(self, *entries: NewEntry) -> list[Appended]:
        """Commit the entries together, or raise StoreUnavailable so that no unrecorded decision is returned."""
        try:
            return self.writer.append(entries)
        except Exception as exc:
            raise _unrecorded() from exc

    # --- reading ---------------------------------------------------------------------------

    def get(self, record_id: str) -> StoredRecord | None:
        """A recorded decision (assessment or escalation) by id."""

        def read() -> StoredRecord | None:
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(_records).where(_records.c.id == record_id, _records.c.kind.in_(DECISION_KINDS))
                ).first()
            return None if row is None else _stored(row)

        return self._reading(read)

    def list(self, filters: RecordFilter, *, before_seq: int | None, limit: int) -> tuple[list[RecordSummary], int | None]:
        """Decisions newest first; returns one page and the seq to continue before, if any."""
        conditions: list[ColumnElement[bool]] = [_records.c.kind.in_(DECISION_KINDS)]
        for column, value in (
            (_records.c.force, filters.force),
            (_records.c.decision, filters.decision),
            (_records.c.officer_id, filters.officer_id),
            (_records.c.caller_key_id, filters.caller_key_id),
        ):
            if value is not None:
                conditions.append(column == value)
        if filters.forces is not None:
            conditions.append(_records.c.force.in_(sorted(filters.forces)))
        if filters.recorded_from is not None:
            conditions.append(_records.c.recorded_at >= filters.recorded_from)
        if filters.recorded_to is not None:
            conditions.append(_records.c.recorded_at < filters.recorded_to)
        if before_seq is not None:
            conditions.append(_records.c.seq < before_seq)
        columns = [
            _records.c.id,
            _records.c.seq,
            _records.c.kind,
            _records.c.recorded_at,
            _records.c.force,
            _records.c.task,
            _records.c.call_type,
            _records.c.call_reference,
            _records.c.officer_id,
            _records.c.decision,
            _records.c.parent_id,
            _records.c.policy_version,
            _records.c.caller_role,
        ]
        query = select(*columns).where(and_(*conditions)).order_by(_records.c.seq.desc()).limit(limit + 1)

        def read() -> tuple[list[RecordSummary], int | None]:
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
            page = [RecordSummary(**row._mapping) for row in rows[:limit]]
            return page, (page[-1].seq if len(rows) > limit else None)

        return self._reading(read)

    def export(
        self,
        *,
        recorded_from: datetime | None,
        recorded_to: datetime | None,
        force: str | None = None,
        now: datetime | None = None,
        chains: Collection[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Chain entries in a time range, oldest first, with everything needed to check them offline:
        each chain's purge checkpoints and signed checkpoints first, then the entries, then (when
        the service holds a signing key) a signature over each exported chain's newest entry.
        ``force`` exports its chain only; ``chains`` limits the export to those chains."""
        conditions: list[ColumnElement[bool]] = []
        if recorded_from is not None:
            conditions.append(_records.c.recorded_at >= recorded_from)
        if recorded_to is not None:
            conditions.append(_records.c.recorded_at < recorded_to)
        if force is not None:
            chains = [chain for chain in (chains if chains is not None else [chain_of(force)]) if chain == chain_of(force)]
        chain_filter = [] if chains is None else [_records.c.chain.in_(sorted(chains))]
        order = [_records.c.chain_seq] if force is not None else [_records.c.seq]
        query = select(_records).where(*conditions, *chain_filter).order_by(*order)
        yield {
            "type": "export",
            "exported_at": iso_utc(now or datetime.now(UTC)),
            "force": force,
            "from": iso_utc(recorded_from) if recorded_from is not None else None,
            "to": iso_utc(recorded_to) if recorded_to is not None else None,
            "sign_every": self.signing.every if self.signing is not None else None,
            "key_id": self.signing.signer.key_id if self.signing is not None else None,
        }
        with self.engine.connect() as connection:
            # Each chain as far as its head read now: entries and signatures committed after this are
            # left for the next export, so what is exported is consistent even while writers go on.
            heads = {row.chain: int(row.seq) for row in connection.execute(select(_chains_table.c.chain, _chains_table.c.seq))}
            checkpoint_query = select(_checkpoints).order_by(_checkpoints.c.chain, _checkpoints.c.through_chain_seq)
            signature_query = select(_signatures).order_by(_signatures.c.chain, _signatures.c.chain_seq)
            if chains is not None:
                checkpoint_query = checkpoint_query.where(_checkpoints.c.chain.in_(sorted(chains)))
                signature_query = signature_query.where(_signatures.c.chain.in_(sorted(chains)))
            for row in connection.execute(checkpoint_query):
                yield {
                    "type": "checkpoint",
                    "chain": row.chain,
                    "through_chain_seq": int(row.through_chain_seq),
                    "digest": row.digest,
                    "purge_record_id": row.purge_record_id,
                }
            for row in connection.execute(signature_query):
                if int(row.chain_seq) <= heads.get(row.chain, 0):
                    yield _signature_line(row)
            newest: dict[str, tuple[int, str]] = {}
            result = connection.execution_options(stream_results=True, yield_per=VERIFY_BATCH).execute(query)
            try:
                for row in result:
                    if int(row.chain_seq) > heads.get(row.chain, 0):
                        continue
                    newest[row.chain] = (int(row.chain_seq), row.digest)
                    yield _exported(row)
            finally:
                result.close()
        if self.signing is not None:
            signer = self.signing.signer
            signed_at = iso_utc(now or datetime.now(UTC))
            for chain, (chain_seq, digest) in sorted(newest.items()):
                message = statement(chain=chain, chain_seq=chain_seq, digest=digest, signed_at=signed_at, key_id=signer.key_id)
                yield {
                    "type": "signature",
                    "chain": chain,
                    "chain_seq": chain_seq,
                    "digest": digest,
                    "signed_at": signed_at,
                    "key_id": signer.key_id,
                    "signature": signer.sign(message),
                    "reason": "export",
                }

    def decisions_for_replay(
        self, *, force: str, recorded_from: datetime | None, recorded_to: datetime | None, limit: int
    ) -> Iterator[tuple[str, str, str, str, datetime]]:
        """(id, call type, decision, request JSON, time) of recorded decisions, oldest first."""
        conditions = [_records.c.kind.in_(DECISION_KINDS), _records.c.force == force]
        if recorded_from is not None:
            conditions.append(_records.c.recorded_at >= recorded_from)
        if recorded_to is not None:
            conditions.append(_records.c.recorded_at < recorded_to)
        query = (
            select(_records.c.id, _records.c.call_type, _records.c.decision, _records.c.request_json, _records.c.recorded_at)
            .where(*conditions)
            .order_by(_records.c.seq)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=VERIFY_BATCH).execute(query)
            try:
                for row in result:
                    yield row.id, row.call_type, row.decision, row.request_json, row.recorded_at
            finally:
                result.close()

    # --- verification ----------------------------------------------------------------------

    def chains(self) -> tuple[str, ...]:
        """Every chain the store holds."""
        return self._reading(lambda: _chains(self.engine))

    def verify(self, *, chain: str, from_seq: int | None = None, to_seq: int | None = None) -> VerifyReport:
        """Walk one chain (or a range of it) and report the first break, if any."""
        return self._reading(lambda: verify_chain(self.engine, chain, from_seq, to_seq, self.public_keys))

    # --- retention -------------------------------------------------------------------------

    def purge(
        self,
        *,
        cutoff: datetime,
        now: datetime,
        identity: CallerFields,
        reason: str,
        chains: Callable[[str], bool] = lambda chain: True,
    ) -> PurgeReport:
        """In every chain (that ``chains`` admits), delete the oldest entries recorded before
        ``cutoff``, keep a checkpoint, and record (and sign) the purge in that chain; each chain in
        its own transaction."""
        purge_id = str(uuid.uuid4())
        done = []
        try:
            for chain in filter(chains, _chains(self.engine)):
                done.append(self._purge_chain(chain, purge_id, cutoff=cutoff, now=now, identity=identity, reason=reason))
        except SQLAlchemyError as exc:
            logger.error("purge failed in chain %d: %s", len(done) + 1, exc)
            raise StoreUnavailable(
                f"The purge could not be completed; {len(done)} chain(s) were purged and recorded, the rest are unchanged."
            ) from exc
        purged = [item for item in done if item[0].through_chain_seq is not None]
        last = max(purged, key=lambda item: item[1] or 0, default=None)
        return PurgeReport(
            purge_id=purge_id,
            purged=sum(item[0].purged for item in done),
            through_seq=last[1] if last else None,
            checkpoint_digest=last[0].checkpoint_digest if last else None,
            cutoff=cutoff,
            chains=tuple(item[0] for item in done),
        )

    def _purge_chain(
        self, chain: str, purge_id: str, *, cutoff: datetime, now: datetime, identity: CallerFields, reason: str
    ) -> tuple[ChainPurge, int | None]:
        record_id = str(uuid.uuid4())
        in_chain = _records.c.chain == chain
        with self.engine.begin() as connection:
            head = lock_chain(connection, chain, now)
            first_kept = connection.execute(
                select(func.min(_records.c.chain_seq)).where(in_chain, _records.c.recorded_at >= cutoff)
            ).scalar()
            bound = (first_kept - 1) if first_kept is not None else head.seq
            last = connection.execute(
                select(_records.c.seq, _records.c.chain_seq, _records.c.digest)
                .where(in_chain, _records.c.chain_seq <= bound)
                .order_by(_records.c.chain_seq.desc())
                .limit(1)
            ).first()
            purged = 0
            through = through_seq = digest = None
            if last is not None:
                through, through_seq, digest = int(last.chain_seq), int(last.seq), last.digest
                purged = connection.execute(delete(_records).where(in_chain, _records.c.chain_seq <= through)).rowcount
                connection.execute(
                    insert(_checkpoints).values(
                        chain=chain,
                        through_chain_seq=through,
                        through_seq=through_seq,
                        digest=digest,
                        purged_count=purged,
                        cutoff=cutoff,
                        purged_at=now,
                        purge_record_id=record_id,
                    )
                )
            details = {"cutoff": iso_utc(cutoff), "reason": reason, "purge_id": purge_id}
            result = {"purged": purged, "through_chain_seq": through, "through_seq": through_seq, "checkpoint_digest": digest}
            append_in(
                connection,
                [
                    NewEntry(
                        id=record_id,
                        kind="purge",
                        recorded_at=now,
                        force=None if chain.startswith("~") else chain,
                        chain_name=chain,
                        **identity,
                        request_json=json.dumps(details, sort_keys=True),
                        response_json=json.dumps(result, sort_keys=True),
                    )
                ],
                now=now,
                signing=self.signing,
                sign_reason="purge" if purged else None,
            )
        return ChainPurge(chain, record_id, purged, through, digest), through_seq


def _chains(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as connection:
        return tuple(row.chain for row in connection.execute(select(_chains_table.c.chain).order_by(_chains_table.c.chain)))


def _signature_line(row: Any) -> dict[str, Any]:
    return {
        "type": "signature",
        "chain": row.chain,
        "chain_seq": int(row.chain_seq),
        "digest": row.digest,
        "signed_at": row.signed_at,
        "key_id": row.key_id,
        "signature": row.signature,
        "reason": row.reason,
    }


def _exported(row: Any) -> dict[str, Any]:
    """An entry as exported: readable, and with the exact stored JSON texts its digest covers."""
    return {
        "type": "entry",
        "seq": int(row.seq),
        "chain": row.chain,
        "chain_seq": int(row.chain_seq),
        "digest_version": int(row.digest_version),
        "id": row.id,
        "kind": row.kind,
        "recorded_at": iso_utc(row.recorded_at),
        "force": row.force,
        "task": row.task,
        "call_type": row.call_type,
        "call_reference": row.call_reference,
        "officer_id": row.officer_id,
        "decision": row.decision,
        "parent_id": row.parent_id,
        "policy_id": row.policy_id,
        "policy_version": row.policy_version,
        "policy_digest": row.policy_digest,
        "caller_role": row.caller_role,
        "caller_key_id": row.caller_key_id,
        "caller_subject": row.caller_subject,
        "caller_client_id": row.caller_client_id,
        "caller_scope": row.caller_scope,
        "answer_digest": row.answer_digest,
        "prev_digest": row.prev_digest,
        "digest": row.digest,
        "request": json.loads(row.request_json),
        "response": json.loads(row.response_json),
        "request_json": row.request_json,
        "response_json": row.response_json,
    }


def _unrecorded() -> NotRecorded:
    return NotRecorded("The decision was not recorded, so it is not returned; retry, or resource the call without it.")


def _stored(row: Any) -> StoredRecord:
    return StoredRecord(
        id=row.id,
        seq=int(row.seq),
        chain=row.chain,
        chain_seq=int(row.chain_seq),
        kind=row.kind,
        recorded_at=row.recorded_at,
        force=row.force,
        caller_role=row.caller_role,
        caller_key_id=row.caller_key_id,
        parent_id=row.parent_id,
        prev_digest=row.prev_digest,
        digest=row.digest,
        request=json.loads(row.request_json),
        response=json.loads(row.response_json),
    )
