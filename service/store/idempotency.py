"""Idempotency keys: claim before deciding, complete in the same transaction as the record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from service.errors import StoreUnavailable
from service.store.digests import sha256
from service.store.tables import audit_records, idempotency_keys

_keys = idempotency_keys
_records = audit_records
# A claim not completed within this time belongs to a request that died before recording anything.
ABANDONED_AFTER = timedelta(seconds=60)
# After this a key may be used again for a new request.
KEPT_FOR = timedelta(hours=24)


def _scope(*, caller_key_id: str, endpoint: str, key: str) -> tuple[ColumnElement[bool], ...]:
    """A key belongs to one caller on one endpoint: the same value elsewhere is another key."""
    return (_keys.c.caller_key_id == caller_key_id, _keys.c.endpoint == endpoint, _keys.c.key == key)


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming a key: ours to use, or the state someone else left it in."""

    claimed: bool
    request_hash: str | None = None
    status: str | None = None
    response_status: int | None = None
    response_body: str | None = None


class IdempotencyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, *, caller_key_id: str, key: str, endpoint: str, request_hash: str, now: datetime) -> Claim:
        """Take the key for this request, or report what it already holds."""
        values = {
            "caller_key_id": caller_key_id,
            "key": key,
            "endpoint": endpoint,
            "request_hash": request_hash,
            "status": "in_progress",
            "response_status": None,
            "response_body": None,
            "created_at": now,
            "updated_at": now,
        }
        where = _scope(caller_key_id=caller_key_id, endpoint=endpoint, key=key)
        try:
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(_keys).values(**values))
                return Claim(claimed=True)
            except IntegrityError:
                pass
            with self.engine.begin() as connection:
                # Take over a key whose earlier request died, or one old enough to be reused.
                retaken = connection.execute(
                    update(_keys)
                    .where(*where)
                    .where(
                        ((_keys.c.status == "in_progress") & (_keys.c.updated_at < now - ABANDONED_AFTER))
                        | (_keys.c.created_at < now - KEPT_FOR)
                    )
                    .values(**values)
                ).rowcount
                if retaken:
                    return Claim(claimed=True)
                row = connection.execute(
                    select(_keys, _records.c.answer_digest)
                    .select_from(_keys.outerjoin(_records, _records.c.id == _keys.c.record_id))
                    .where(*where)
                ).one()
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The idempotency key could not be checked; nothing was decided.") from exc
        if row.status == "done" and row.record_id is not None and sha256(row.response_body or "") != row.answer_digest:
            # The kept answer is not the one its audit entry vouches for: never replay it.
            raise StoreUnavailable(
                "The answer recorded for this Idempotency-Key fails its integrity check and is not replayed; "
                "an auditor should verify the audit chain. Retry with a new key to decide afresh."
            )
        return Claim(False, row.request_hash, row.status, row.response_status, row.response_body)

    def release(self, *, caller_key_id: str, key: str, endpoint: str) -> None:
        """Give the key back after a failure, so that a retry can decide afresh."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    delete(_keys).where(
                        *_scope(caller_key_id=caller_key_id, endpoint=endpoint, key=key), _keys.c.status == "in_progress"
                    )
                )
        except SQLAlchemyError:
            pass  # an unreleased claim is taken over once ABANDONED_AFTER has passed


def completion(
    *, caller_key_id: str, key: str, endpoint: str, status: int, body: str, record_id: str, now: datetime
) -> Callable[[Connection], None]:
    """The statement that marks the key done with its answer, run in the transaction of the entry
    ``record_id``, whose digest covers the answer's digest."""

    def complete(connection: Connection) -> None:
        connection.execute(
            update(_keys)
            .where(*_scope(caller_key_id=caller_key_id, endpoint=endpoint, key=key))
            .values(status="done", response_status=status, response_body=body, record_id=record_id, updated_at=now)
        )

    return complete
