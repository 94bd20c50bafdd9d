"""The audit chain: canonical digests, and a writer that appends entries by group commit.

Each entry's digest is sha256(prev_digest + content_digest), where content_digest is sha256 over a
canonical serialisation of the entry (its kind, id, time, force, task, call, officer, decision,
policy id, version and digest, caller role, and the exact request and response JSON stored).

Appending: a per-process writer thread takes every entry waiting, locks the chain head row (one
UPDATE, so SQLite takes its write lock and PostgreSQL its row lock), numbers and links the entries,
inserts them and moves the head, and commits once. Only then is each caller released, so nothing
is acknowledged before it is durable; if the commit fails every caller in the batch gets the error.
Several processes append safely: the head row serialises them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlmodel import SQLModel

GENESIS = "sha256:" + "0" * 64
HEAD_ID = 1
logger = logging.getLogger("service.store")


def iso_utc(moment: datetime) -> str:
    """A timestamp as stored and hashed: UTC, microseconds, 'Z' (naive values are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append; ``content_digest`` is computed from the other fields."""

    id: str
    kind: str
    recorded_at: datetime
    caller_role: str
    caller_key_id: str
    request_json: str
    response_json: str
    force: str | None = None
    task: str | None = None
    call_type: str | None = None
    call_reference: str | None = None
    officer_id: str | None = None
    decision: str | None = None
    parent_id: str | None = None
    policy_id: str | None = None
    policy_version: str | None = None
    policy_digest: str | None = None
    # Rows for other tables that must commit with this entry, as (table name, values).
    side_rows: tuple[tuple[str, dict[str, Any]], ...] = field(default=(), compare=False)
    # Other statements that must commit with this entry (e.g. completing an idempotency key).
    side_effects: tuple[Callable[[Connection], None], ...] = field(default=(), compare=False)
    content_digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "content_digest", content_digest(self))


_CANONICAL_FIELDS = (
    "kind",
    "id",
    "force",
    "task",
    "call_type",
    "call_reference",
    "officer_id",
    "decision",
    "parent_id",
    "policy_id",
    "policy_version",
    "policy_digest",
    "caller_role",
)


def content_digest(entry: object) -> str:
    """sha256 over the canonical content of an entry (a NewEntry or a stored row)."""
    meta = {name: getattr(entry, name) for name in _CANONICAL_FIELDS}
    meta["recorded_at"] = iso_utc(entry.recorded_at)  # type: ignore[attr-defined]
    canonical = "\n".join(
        (
            json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            entry.request_json,  # type: ignore[attr-defined]
            entry.response_json,  # type: ignore[attr-defined]
        )
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chain_digest(prev_digest: str, content: str) -> str:
    """The digest that links an entry to the one before it."""
    return "sha256:" + hashlib.sha256(f"{prev_digest}|{content}".encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    digest: str


_RECORD_COLUMNS = (
    "seq",
    "id",
    "kind",
    "recorded_at",
    "force",
    "task",
    "call_type",
    "call_reference",
    "officer_id",
    "decision",
    "parent_id",
    "policy_id",
    "policy_version",
    "policy_digest",
    "caller_role",
    "caller_key_id",
    "request_json",
    "response_json",
    "prev_digest",
    "digest",
)
_LOCK_HEAD = f"UPDATE chain_head SET updated_at = ? WHERE id = {HEAD_ID} RETURNING seq, digest"
_INSERT_RECORD = f"INSERT INTO audit_record ({', '.join(_RECORD_COLUMNS)}) VALUES ({', '.join('?' for _ in _RECORD_COLUMNS)})"
_MOVE_HEAD = f"UPDATE chain_head SET seq = ?, digest = ? WHERE id = {HEAD_ID}"

# The append path is the hot path of every decision, so it talks to the database driver directly
# (inside the SQLAlchemy transaction): one UPDATE ... RETURNING takes the lock and reads the head,
# one executemany inserts the batch, one UPDATE moves the head.


def _driver_sql(connection: Connection, statement: str) -> str:
    return statement if connection.dialect.paramstyle == "qmark" else statement.replace("?", "%s")


def _driver_time(connection: Connection, moment: datetime) -> object:
    """A timestamp as the column stores it: SQLite keeps SQLAlchemy's text form, in UTC."""
    if connection.dialect.name == "sqlite":
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def lock_head(connection: Connection, now: datetime) -> tuple[int, str]:
    """Take the chain's write lock in this transaction and return the newest (seq, digest)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_driver_sql(connection, _LOCK_HEAD), (_driver_time(connection, now),))
        row = cursor.fetchone()
        if row is None:
            raise RuntimeError("the chain head row is missing: the schema was not migrated")
        seq, digest = row
    finally:
        cursor.close()
    return int(seq), digest


def append_locked(connection: Connection, entries: Sequence[NewEntry], head: tuple[int, str]) -> list[Appended]:
    """Number, link and insert entries after ``head``, and move the head; the caller holds the lock."""
    seq, prev = head
    rows = []
    appended = []
    for entry in entries:
        seq += 1
        digest = chain_digest(prev, entry.content_digest)
        rows.append(
            (
                seq,
                entry.id,
                entry.kind,
                _driver_time(connection, entry.recorded_at),
                entry.force,
                entry.task,
                entry.call_type,
                entry.call_reference,
                entry.officer_id,
                entry.decision,
                entry.parent_id,
                entry.policy_id,
                entry.policy_version,
                entry.policy_digest,
                entry.caller_role,
                entry.caller_key_id,
                entry.request_json,
                entry.response_json,
                prev,
                digest,
            )
        )
        appended.append(Appended(seq, digest))
        prev = digest
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(_driver_sql(connection, _INSERT_RECORD), rows)
        side: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            for table, values in entry.side_rows:
                side.setdefault(table, []).append(values)
        for table, rows_for_table in side.items():
            connection.execute(insert(SQLModel.metadata.tables[table]), rows_for_table)
        for entry in entries:
            for effect in entry.side_effects:
                effect(connection)
        cursor.execute(_driver_sql(connection, _MOVE_HEAD), (seq, prev))
    finally:
        cursor.close()
    return appended


Done = Callable[[list[Appended] | None, BaseException | None], None]


class ChainWriter:
    """Appends entries from many callers in shared transactions (group commit).

    Callers wait in their own way: a thread blocks on a future (``append``); a coroutine awaits
    an asyncio future that the writer resolves on the caller's event loop (``append_async``), so
    the event loop never parks a thread per request.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 512) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Sequence[NewEntry], Done] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def append(self, entries: Sequence[NewEntry], *, timeout: float = 30.0) -> list[Appended]:
        """Block until the entries are committed (together); raise the store's error if they could not be."""
        future: Future[list[Appended]] = Future()

        def done(result: list[Appended] | None, error: BaseException | None) -> None:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result or [])

        self._submit(entries, done)
        return future.result(timeout=timeout)

    async def append_async(self, entries: Sequence[NewEntry], *, timeout: float = 30.0) -> list[Appended]:
        """Await the commit of the entries (together); raise the store's error if they could not be."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Appended]] = loop.create_future()

        def settle(result: list[Appended] | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result or [])

        def done(result: list[Appended] | None, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(settle, result, error)

        self._submit(entries, done)
        return await asyncio.wait_for(future, timeout)

    def _submit(self, entries: Sequence[NewEntry], done: Done) -> None:
        if self._thread is None:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the chain writer is closed")
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="chain-writer", daemon=True)
                    self._thread.start()
        self._queue.put((entries, done))

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            size = len(item[0])
            while size < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
                size += len(more[0])
            self._commit(batch)

    def _commit(self, batch: list[tuple[Sequence[NewEntry], Done]]) -> None:
        try:
            with self._engine.begin() as connection:
                head = lock_head(connection, datetime.now(UTC))
                appended = append_locked(connection, [entry for entries, _ in batch for entry in entries], head)
        except Exception as exc:  # noqa: BLE001 - every waiting caller must hear of the failure
            logger.error("audit append failed for %d requests: %s", len(batch), type(exc).__name__)
            for _, done in batch:
                done(None, exc)
            return
        position = 0
        for entries, done in batch:
            done(appended[position : position + len(entries)], None)
            position += len(entries)
