"""The audit store: append, read, list, export, verify and purge. The only code that queries it."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, and_, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from service.errors import InvalidRequest, NotRecorded, StoreUnavailable
from service.store.chain import Appended, ChainWriter, NewEntry, append_locked, iso_utc, lock_head
from service.store.database import ping
from service.store.tables import audit_checkpoints, audit_records
from service.store.verify import VERIFY_BATCH, VerifyReport, verify_chain

DECISION_KINDS = ("assessment", "escalation")

_records = audit_records
_checkpoints = audit_checkpoints
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredRecord:
    id: str
    seq: int
    kind: str
    recorded_at: datetime
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


@dataclass(frozen=True, slots=True)
class PurgeReport:
    purge_id: str
    purged: int
    through_seq: int | None
    checkpoint_digest: str | None
    cutoff: datetime


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
    if not isinstance(value, int) or not 1 <= value < 2**63:
        raise InvalidRequest(
            "The cursor is not one this service issued.",
            errors=[{"field": "cursor", "message": "malformed cursor", "code": "invalid_cursor"}],
        )
    return value


class AuditStore:
    """Durable, tamper-evident records of every decision."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.writer = ChainWriter(engine)

    def close(self) -> None:
        self.writer.close()

    def unreachable(self) -> str | None:
        """None when the database answers; otherwise the kind of error it gave."""
        try:
            ping(self.engine)
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

    def export(self, *, recorded_from: datetime | None, recorded_to: datetime | None) -> Iterator[dict[str, Any]]:
        """Every chain entry in a time range, oldest first, with its chain fields."""
        conditions = []
        if recorded_from is not None:
            conditions.append(_records.c.recorded_at >= recorded_from)
        if recorded_to is not None:
            conditions.append(_records.c.recorded_at < recorded_to)
        query = select(_records).where(*conditions).order_by(_records.c.seq)
        with self.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=VERIFY_BATCH).execute(query)
            try:
                yield from (_exported(_stored(row)) for row in result)
            finally:
                result.close()

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

    def verify(self, *, from_seq: int | None = None, to_seq: int | None = None) -> VerifyReport:
        """Walk the chain (or a range of it) and report the first break, if any."""
        return self._reading(lambda: verify_chain(self.engine, from_seq, to_seq))

    # --- retention -------------------------------------------------------------------------

    def purge(self, *, cutoff: datetime, now: datetime, caller_role: str, caller_key_id: str, reason: str) -> PurgeReport:
        """Delete the oldest entries recorded before ``cutoff``, keep a checkpoint, record the purge."""
        purge_id = str(uuid.uuid4())
        try:
            with self.engine.begin() as connection:
                head = lock_head(connection, now)
                first_kept = connection.execute(select(func.min(_records.c.seq)).where(_records.c.recorded_at >= cutoff)).scalar()
                bound = (first_kept - 1) if first_kept is not None else head[0]
                last = connection.execute(
                    select(_records.c.seq, _records.c.digest)
                    .where(_records.c.seq <= bound)
                    .order_by(_records.c.seq.desc())
                    .limit(1)
                ).first()
                purged = 0
                through_seq = checkpoint_digest = None
                if last is not None:
                    through_seq, checkpoint_digest = int(last.seq), last.digest
                    purged = connection.execute(delete(_records).where(_records.c.seq <= through_seq)).rowcount
                    connection.execute(
                        insert(_checkpoints).values(
                            through_seq=through_seq,
                            digest=checkpoint_digest,
                            purged_count=purged,
                            cutoff=cutoff,
                            purged_at=now,
                            purge_record_id=purge_id,
                        )
                    )
                details = {"cutoff": iso_utc(cutoff), "reason": reason}
                result = {"purged": purged, "through_seq": through_seq, "checkpoint_digest": checkpoint_digest}
                append_locked(
                    connection,
                    [
                        NewEntry(
                            id=purge_id,
                            kind="purge",
                            recorded_at=now,
                            caller_role=caller_role,
                            caller_key_id=caller_key_id,
                            request_json=json.dumps(details, sort_keys=True),
                            response_json=json.dumps(result, sort_keys=True),
                        )
                    ],
                    head,
                )
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The purge could not be completed; nothing was removed.") from exc
        return PurgeReport(purge_id, purged, through_seq, checkpoint_digest, cutoff)


def _exported(stored: StoredRecord) -> dict[str, Any]:
    return {
        "seq": stored.seq,
        "id": stored.id,
        "kind": stored.kind,
        "recorded_at": iso_utc(stored.recorded_at),
        "caller_role": stored.caller_role,
        "parent_id": stored.parent_id,
        "prev_digest": stored.prev_digest,
        "digest": stored.digest,
        "request": stored.request,
        "response": stored.response,
    }


def _unrecorded() -> NotRecorded:
    return NotRecorded("The decision was not recorded, so it is not returned; retry, or resource the call without it.")


def _stored(row: Any) -> StoredRecord:
    return StoredRecord(
        id=row.id,
        seq=int(row.seq),
        kind=row.kind,
        recorded_at=row.recorded_at,
        caller_role=row.caller_role,
        caller_key_id=row.caller_key_id,
        parent_id=row.parent_id,
        prev_digest=row.prev_digest,
        digest=row.digest,
        request=json.loads(row.request_json),
        response=json.loads(row.response_json),
    )
