"""The audit chains: entries appended by group commit, one chain per force.

Each entry's digest is sha256(prev_digest + content_digest) (service/store/digests.py), linking it
to the entry before it in its own force's chain, so a force's records verify alone.

Appending: a per-process writer thread takes every entry waiting and, in one transaction, locks
the head row of each chain the batch touches (one UPDATE each, in a fixed order; PostgreSQL locks
only those rows, so forces never wait on each other's chains), numbers and links the entries,
inserts them, moves the heads, signs a head that has passed a signing interval, and commits once.
Only then is each caller released, so nothing is acknowledged before it is durable. If the shared
commit fails, each caller's entries are tried again alone, so only the one that cannot be stored
fails. Several processes append safely: the head rows serialise them.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from service.store.database import DEFAULT_WAIT_SECONDS
from service.store.digests import CURRENT_VERSION, chain_digest, content_digest, genesis, iso_utc, statement
from service.store.signing import Signer

HEAD_ID = 1
SERVICE_CHAIN = "~service"  # entries that concern no force
DEFAULT_SIGN_EVERY = 100
logger = logging.getLogger("service.store")


def chain_of(force: str | None) -> str:
    """The chain an entry of ``force`` belongs to."""
    return force or SERVICE_CHAIN


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append; the writer computes its content digest from these fields when it links it."""

    id: str
    kind: str
    recorded_at: datetime
    caller_role: str
    caller_key_id: str
    request_json: str
    response_json: str
    # Who signed in (a token's subject and client id) and the forces the caller acted for.
    caller_subject: str | None = None
    caller_client_id: str | None = None
    caller_scope: str | None = None
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
    # sha256 of the answer an Idempotency-Key replays, when the request had one.
    answer_digest: str | None = None
    # The chain it joins; by default its force's.
    chain_name: str | None = None
    # Rows for other tables that must commit with this entry, as (table name, values).
    side_rows: tuple[tuple[str, dict[str, Any]], ...] = field(default=(), compare=False)
    # Other statements that must commit with this entry (e.g. completing an idempotency key).
    side_effects: tuple[Callable[[Connection], None], ...] = field(default=(), compare=False)

    @property
    def chain(self) -> str:
        return self.chain_name or chain_of(self.force)


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    chain_seq: int
    digest: str


@dataclass(frozen=True, slots=True)
class Signing:
    """How entries are signed: with ``signer``, the entry at each multiple of ``every`` in its chain."""

    signer: Signer
    every: int = DEFAULT_SIGN_EVERY


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
    "caller_subject",
    "caller_client_id",
    "caller_scope",
    "request_json",
    "response_json",
    "prev_digest",
    "digest",
    "chain",
    "chain_seq",
    "digest_version",
    "answer_digest",
)
_NEW_CHAIN = (
    "INSERT INTO audit_chain (chain, seq, digest, signed_seq, updated_at) VALUES (?, 0, ?, 0, ?) ON CONFLICT (chain) DO NOTHING"
)
_LOCK_CHAIN = "UPDATE audit_chain SET updated_at = ? WHERE chain = ? RETURNING seq, digest, signed_seq"
_INSERT_RECORD = f"INSERT INTO audit_record ({', '.join(_RECORD_COLUMNS)}) VALUES ({', '.join('?' for _ in _RECORD_COLUMNS)})"
_MOVE_CHAIN = "UPDATE audit_chain SET seq = ?, digest = ?, signed_seq = ? WHERE chain = ?"
_INSERT_SIGNATURE = (
    "INSERT INTO audit_signature (chain, chain_seq, digest, signed_at, key_id, signature, reason) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_NEXT_SEQ_SQLITE = f"UPDATE chain_head SET seq = seq + ?, updated_at = ? WHERE id = {HEAD_ID} RETURNING seq"
_NEXT_SEQ_POSTGRES = "SELECT nextval('audit_record_seq') FROM generate_series(1, %s)"

# The append path is the hot path of every decision, so it talks to the database driver directly
# (inside the SQLAlchemy transaction): one UPDATE ... RETURNING per chain takes the lock and reads
# the head, one executemany inserts the batch, one UPDATE per chain moves the head.


def _driver_sql(connection: Connection, sql: str) -> str:
    return sql if connection.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def _driver_time(connection: Connection, moment: datetime) -> object:
    """A timestamp as the column stores it: SQLite keeps SQLAlchemy's text form, in UTC."""
    if connection.dialect.name == "sqlite":
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


@dataclass
class _Head:
    seq: int
    digest: str
    signed_seq: int

    @classmethod
    def of(cls, row: Sequence[Any]) -> _Head:
        """A head from a row of ``_LOCK_CHAIN``'s RETURNING (seq, digest, signed_seq)."""
        return cls(int(row[0]), row[1], int(row[2]))


def lock_chain(connection: Connection, chain: str, now: datetime) -> _Head:
    """Take ``chain``'s write lock in this transaction (starting the chain if it is new) and return its head."""
    cursor = connection.connection.cursor()
    try:
        when = _driver_time(connection, now)
        cursor.execute(_driver_sql(connection, _LOCK_CHAIN), (when, chain))
        row = cursor.fetchone()
        if row is None:
            cursor.execute(_driver_sql(connection, _NEW_CHAIN), (chain, genesis(chain), when))
            cursor.execute(_driver_sql(connection, _LOCK_CHAIN), (when, chain))
            row = cursor.fetchone()
            if row is None:
                raise RuntimeError(f"the head of chain {chain!r} could not be created")
    finally:
        cursor.close()
    return _Head.of(row)


def _next_seqs(connection: Connection, count: int, now: datetime) -> list[int]:
    """Reserve ``count`` overall sequence numbers on SQLite, where the one writer holding the
    database's write lock gets consecutive numbers (PostgreSQL's come with its heads, `_lock_heads`)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_NEXT_SEQ_SQLITE, (count, _driver_time(connection, now)))
        row = cursor.fetchone()
        if row is None:
            raise RuntimeError("the sequence row is missing: the schema was not migrated")
        return list(range(int(row[0]) - count + 1, int(row[0]) + 1))
    finally:
        cursor.close()


@dataclass(frozen=True)
class _DriverInsert:
    """Rows of one table given to the driver with the records (in their round trip on PostgreSQL):
    the statement, and each column's conversion to what the driver is given (SQLAlchemy's own)."""

    sql: str
    keys: tuple[str, ...]
    conversions: tuple[Callable[[Any], Any] | None, ...]

    def params(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            row[key] if convert is None else convert(row[key]) for key, convert in zip(self.keys, self.conversions, strict=True)
        )


_DRIVER_INSERTS: dict[tuple[str, str, str, str, tuple[str, ...]], _DriverInsert | None] = {}


def _driver_insert(connection: Connection, table_name: str, keys: tuple[str, ...]) -> _DriverInsert | None:
    """How rows of ``table_name`` with ``keys`` go to the driver; None unless they name every column
    (SQLAlchemy then inserts them, filling in its defaults)."""
    dialect = connection.dialect
    cache_key = (dialect.name, dialect.driver, dialect.paramstyle, table_name, keys)
    if cache_key not in _DRIVER_INSERTS:
        table = SQLModel.metadata.tables[table_name]
        plan = None
        if sorted(keys) == sorted(column.name for column in table.columns):
            quote = dialect.identifier_preparer.quote
            columns = [table.c[key] for key in keys]
            sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(column.name) for column in columns)}) VALUES ({', '.join('?' for _ in columns)})"
            plan = _DriverInsert(
                _driver_sql(connection, sql),
                keys,
                tuple(column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns),
            )
        _DRIVER_INSERTS[cache_key] = plan
    return _DRIVER_INSERTS[cache_key]


def _commit_last(connection: Connection, cursor: Any) -> None:
    """Commit the transaction with the statements sent before it. On PostgreSQL the COMMIT is one
    more statement of the pipeline, so the pipeline's end reads its result with the others' and
    nothing is left to fail once it has committed; the transaction's own commit then has nothing
    to do."""
    if connection.dialect.name == "postgresql":
        cursor.execute("COMMIT", prepare=False)
    else:
        connection.connection.dbapi_connection.commit()  # type: ignore[union-attr]


def _batched(connection: Connection) -> AbstractContextManager[Any]:
    """On PostgreSQL, statements sent together and answered together (psycopg's pipeline mode): one
    round trip for what is inside, in the order sent. Elsewhere, nothing changes."""
    if connection.dialect.name == "postgresql":
        return cast(AbstractContextManager[Any], connection.connection.dbapi_connection.pipeline())  # type: ignore[union-attr]
    return nullcontext()


def _lock_heads(connection: Connection, chains: Sequence[str], count: int, now: datetime) -> tuple[dict[str, _Head], list[int]]:
    """Lock each chain's head (in the order given) and reserve ``count`` overall sequence numbers, in
    one round trip on PostgreSQL; the heads, and the numbers in increasing order."""
    if connection.dialect.name != "postgresql":
        return {chain: lock_chain(connection, chain, now) for chain in chains}, _next_seqs(connection, count, now)
    locks = []
    with _batched(connection):
        for chain in chains:
            cursor = connection.connection.cursor()
            cursor.execute(_driver_sql(connection, _LOCK_CHAIN), (now, chain))
            locks.append(cursor)
        numbers = connection.connection.cursor()
        numbers.execute(_NEXT_SEQ_POSTGRES, (count,))
    heads = {}
    for chain, cursor in zip(chains, locks, strict=True):
        row = cursor.fetchone()
        cursor.close()
        # A chain with no head yet is started (and locked) on its own: once per chain, ever.
        heads[chain] = _Head.of(row) if row is not None else lock_chain(connection, chain, now)
    # nextval() runs once per number: another writer's numbers may fall between this batch's.
    reserved = sorted(int(row[0]) for row in numbers.fetchall())
    numbers.close()
    return heads, reserved


def append_in(
    connection: Connection,
    entries: Sequence[NewEntry],
    *,
    now: datetime,
    signing: Signing | None = None,
    sign_reason: str | None = None,
    commit_if: Callable[[], None] | None = None,
) -> list[Appended]:
    """Lock each chain the entries join, then number, link and insert them and move the heads, in
    the caller's transaction. Every entry at a multiple of the signing interval is signed; with
    ``sign_reason``, so is every head moved (a purge). With ``commit_if``, the transaction is
    committed as its last statement unless ``commit_if()`` raises (which rolls it back): on
    PostgreSQL the COMMIT goes in the records' round trip, and its result, like theirs, is read
    before this returns."""
    # Hashed here, in the writer's thread, off the event loop (hashlib lets go of the GIL while it
    # reads a record's ~10 KB), and before any chain's head is locked.
    contents = [content_digest(entry) for entry in entries]
    chains = sorted({entry.chain for entry in entries})
    heads, numbers = _lock_heads(connection, chains, len(entries), now)
    rows = []
    appended = []
    to_sign: list[tuple[str, int, str, str]] = []
    for entry, content, seq in zip(entries, contents, numbers, strict=True):
        head = heads[entry.chain]
        head.seq += 1
        digest = chain_digest(head.digest, content)
        if signing is not None and head.seq % signing.every == 0:
            to_sign.append((entry.chain, head.seq, digest, "interval"))
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
                entry.caller_subject,
                entry.caller_client_id,
                entry.caller_scope,
                entry.request_json,
                entry.response_json,
                head.digest,
                digest,
                entry.chain,
                head.seq,
                CURRENT_VERSION,
                entry.answer_digest,
            )
        )
        appended.append(Appended(seq, head.seq, digest))
        head.digest = digest
    if signing is not None and sign_reason is not None:
        to_sign += [(chain, head.seq, head.digest, sign_reason) for chain, head in heads.items() if head.seq % signing.every]
    # Rows of other tables that name every column go with the records; the others, and the effects
    # (the idempotency key's completion), go first, so that the records, those rows, the checkpoints,
    # the heads' moves and the commit can go last, together.
    side: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for entry in entries:
        for table, values in entry.side_rows:
            side.setdefault((table, tuple(values)), []).append(values)
    with_records = []
    for (table, keys), rows_for_table in side.items():
        plan = _driver_insert(connection, table, keys)
        if plan is None:
            connection.execute(insert(SQLModel.metadata.tables[table]), rows_for_table)
        else:
            with_records.append((plan, [plan.params(row) for row in rows_for_table]))
    for entry in entries:
        for effect in entry.side_effects:
            effect(connection)
    cursor = connection.connection.cursor()
    try:
        # One round trip on PostgreSQL, the commit included when it is asked for.
        with _batched(connection):
            cursor.executemany(_driver_sql(connection, _INSERT_RECORD), rows)
            for plan, params in with_records:
                cursor.executemany(plan.sql, params)
            for chain, chain_seq, digest, reason in to_sign:
                assert signing is not None
                _sign(cursor, connection, signing.signer, chain, chain_seq, digest, now, reason)
                heads[chain].signed_seq = max(heads[chain].signed_seq, chain_seq)
            for chain, head in heads.items():
                cursor.execute(_driver_sql(connection, _MOVE_CHAIN), (head.seq, head.digest, head.signed_seq, chain))
            if commit_if is not None:
                commit_if()
                _commit_last(connection, cursor)
    finally:
        cursor.close()
    return appended


def _sign(
    cursor: Any, connection: Connection, signer: Signer, chain: str, chain_seq: int, digest: str, now: datetime, reason: str
) -> None:
    signed_at = iso_utc(now)
    message = statement(chain=chain, chain_seq=chain_seq, digest=digest, signed_at=signed_at, key_id=signer.key_id)
    cursor.execute(
        _driver_sql(connection, _INSERT_SIGNATURE),
        (chain, chain_seq, digest, signed_at, signer.key_id, signer.sign(message), reason),
    )


Done = Callable[[list[Appended] | None, BaseException | None], None]
# Time for one commit of a batch, beyond the time its statements may wait for locks.
COMMIT_ALLOWANCE_SECONDS = 5.0
# How much sooner than its caller the writer gives up on an entry.
_MARGIN_SECONDS = 0.5
# The most entries (about 10 KB each) a batch commits in the same round trip as its records.
_COMMIT_WITH_RECORDS = 16
# A writer keeps its connection from one batch to the next while batches keep coming; after this
# long without one it takes a connection from the pool again, which checks it is still alive.
_KEEP_CONNECTION_SECONDS = 1.0


class CallerGaveUp(TimeoutError):
    """The caller stopped waiting before its entries could be appended; they were not."""


@dataclass(frozen=True, slots=True)
class _Waiting:
    entries: Sequence[NewEntry]
    done: Done
    deadline: float  # time.monotonic() after which the caller no longer waits


class ChainWriter:
    """Appends entries from many callers in shared transactions (group commit).

    Callers wait in their own way: a thread blocks on a future (``append``); a coroutine awaits
    an asyncio future that the writer resolves on the caller's event loop (``append_async``), so
    the event loop never parks a thread per request.

    Waits are bounded by the store wait the engine was made with (``wait_seconds``): a batch's
    statements give up on a lock after it, and a caller waits for the batch ahead of it and its
    own, each with a commit allowance. An entry whose caller has stopped waiting is never
    appended, so a caller told its entries failed can rely on it.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 512,
        signing: Signing | None = None,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> None:
        self._engine = engine
        self._signing = signing
        self._max_batch = max_batch
        self.timeout = 2 * (wait_seconds + COMMIT_ALLOWANCE_SECONDS)
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        # Used only by the writer's thread.
        self._connection: Connection | None = None
        self._used_at = 0.0

    def append(self, entries: Sequence[NewEntry], *, timeout: float | None = None) -> list[Appended]:
        """Block until the entries are committed (together); raise the store's error if they could not be."""
        timeout = self.timeout if timeout is None else timeout
        future: Future[list[Appended]] = Future()

        def done(result: list[Appended] | None, error: BaseException | None) -> None:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result or [])

        self._submit(entries, done, timeout)
        return future.result(timeout=timeout)

    async def append_async(self, entries: Sequence[NewEntry], *, timeout: float | None = None) -> list[Appended]:
        """Await the commit of the entries (together); raise the store's error if they could not be."""
        timeout = self.timeout if timeout is None else timeout
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

        self._submit(entries, done, timeout)
        return await asyncio.wait_for(future, timeout)

    def _submit(self, entries: Sequence[NewEntry], done: Done, timeout: float) -> None:
        if self._thread is None:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the chain writer is closed")
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="chain-writer", daemon=True)
                    self._thread.start()
        # The writer gives up on the entries a little before the caller does, so that nothing is
        # committed after the caller has been told it was not.
        self._queue.put(_Waiting(entries, done, time.monotonic() + timeout - _MARGIN_SECONDS))

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)
        if thread is None or not thread.is_alive():
            self._release()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            try:
                # While it holds a connection, the writer waits for work only so long before it gives
                # the connection back to the pool.
                item = self._queue.get(timeout=_KEEP_CONNECTION_SECONDS if self._connection is not None else None)
            except queue.Empty:
                self._release()
                continue
            if item is None:
                break
            batch = [item]
            size = len(item.entries)
            while size < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
                size += len(more.entries)
            self._commit(batch)
        self._release()

    def _commit(self, batch: list[_Waiting]) -> None:
        batch = self._still_waiting(batch)
        if not batch:
            return
        try:
            appended = self._append([entry for item in batch for entry in item.entries], min(i.deadline for i in batch))
        except CallerGaveUp:
            # A caller stopped waiting while the batch waited for the store: nothing was committed;
            # the callers still waiting are tried again without it.
            self._commit(batch)
            return
        except Exception as exc:  # noqa: BLE001 - every waiting caller must hear of the failure
            if len(batch) == 1 or isinstance(exc, OperationalError):
                # A lock not granted within the wait, or a store that cannot be reached, fails every
                # caller of the batch alike: trying each alone would only make them wait again.
                logger.error("audit append of %d requests failed: %s", len(batch), type(exc).__name__)
                for item in batch:
                    item.done(None, exc)
                return
            # One caller's entries may be what the store refused: try each caller's alone, so that
            # only the one that cannot be stored fails.
            logger.warning("audit append of %d requests failed (%s); appending each alone", len(batch), type(exc).__name__)
            for item in batch:
                self._commit([item])
            return
        position = 0
        for item in batch:
            item.done(appended[position : position + len(item.entries)], None)
            position += len(item.entries)

    @staticmethod
    def _still_waiting(batch: list[_Waiting]) -> list[_Waiting]:
        """The items whose callers still wait; the others are told they were not appended."""
        now = time.monotonic()
        for item in batch:
            if item.deadline <= now:
                item.done(None, CallerGaveUp("the caller stopped waiting before the entries could be appended"))
        return [item for item in batch if item.deadline > now]

    def _append(self, entries: list[NewEntry], deadline: float) -> list[Appended]:
        connection = self._connect()

        def in_time() -> None:
            if time.monotonic() >= deadline:
                raise CallerGaveUp("a caller stopped waiting before the batch could be committed")  # rolls back

        # A small batch commits in its records' round trip: the deadline is checked just before the
        # COMMIT is queued behind them, and they are few enough to be written well within the margin
        # the writer keeps from its callers' own. A larger one is checked once its records are written,
        # then committed.
        small = len(entries) <= _COMMIT_WITH_RECORDS
        try:
            with connection.begin():
                appended = append_in(
                    connection, entries, now=datetime.now(UTC), signing=self._signing, commit_if=in_time if small else None
                )
                if not small:
                    in_time()
        except CallerGaveUp:
            raise
        except BaseException:
            self._release()  # a failed connection is not used again; the next batch takes a fresh one
            raise
        self._used_at = time.monotonic()
        return appended

    def _connect(self) -> Connection:
        """The writer's connection: kept while batches keep coming (no pool checkout or liveness
        round trip per batch), taken from the pool again after a pause or a failure."""
        if self._connection is not None and time.monotonic() - self._used_at > _KEEP_CONNECTION_SECONDS:
            self._release()
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - a broken connection is dropped whatever closing it says
                logger.warning("closing the audit writer's connection failed", exc_info=True)


class ChainWriters:
    """One ChainWriter (one thread, one group commit) per chain, so that a force whose chain head is
    held (a slow batch, a lock) never delays another force's decisions.

    On PostgreSQL each force's writer commits on its own connection and locks only its own chain's
    head, so forces append in parallel. SQLite has one write lock for the whole file: there one
    writer serves every chain (``per_chain=False``), as parallel writers would only queue on it.
    Entries of one append that join several chains go to the writer of that set of chains.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        signing: Signing | None = None,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        per_chain: bool = True,
    ) -> None:
        self._make = lambda: ChainWriter(engine, signing=signing, wait_seconds=wait_seconds)
        self._per_chain = per_chain
        self._writers: dict[tuple[str, ...], ChainWriter] = {}
        self._lock = threading.Lock()
        self.timeout = 2 * (wait_seconds + COMMIT_ALLOWANCE_SECONDS)  # as each ChainWriter's

    def _writer(self, entries: Sequence[NewEntry]) -> ChainWriter:
        key = tuple(sorted({entry.chain for entry in entries})) if self._per_chain else ()
        writer = self._writers.get(key)
        if writer is None:
            with self._lock:
                writer = self._writers.setdefault(key, self._make())
        return writer

    def append(self, entries: Sequence[NewEntry], *, timeout: float | None = None) -> list[Appended]:
        return self._writer(entries).append(entries, timeout=timeout)

    async def append_async(self, entries: Sequence[NewEntry], *, timeout: float | None = None) -> list[Appended]:
        return await self._writer(entries).append_async(entries, timeout=timeout)

    def close(self) -> None:
        with self._lock:
            writers = list(self._writers.values())
        for writer in writers:
            writer.close()
