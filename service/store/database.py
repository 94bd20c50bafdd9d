"""Database engines for the embedded SQLite default and for PostgreSQL.

Every engine is given one store wait (STORE_WAIT_SECONDS): how long a statement may wait for a
lock another writer holds, a connection may take to open, or a request may wait for a pooled
connection, before the store gives up and the caller gets a 503 problem with Retry-After.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

DEFAULT_WAIT_SECONDS = 5.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, wait_seconds: float) -> None:
    cursor = dbapi_connection.cursor()
    # WAL with synchronous=FULL: a committed decision survives a crash or power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    # How long a write waits for another connection's write lock before failing "database is locked".
    cursor.execute(f"PRAGMA busy_timeout={_milliseconds(wait_seconds)}")
    cursor.close()


def _postgres_session(dbapi_connection: Any, _record: Any) -> None:
    """Compress large values (a record's ~10 KB of JSON) with lz4 where the server has it: PostgreSQL's
    default, pglz, takes about 40% of its CPU per decision recorded, lz4 under half of that. A session
    setting, so no table is altered; a server built without lz4 keeps its default."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET default_toast_compression = 'lz4'")
        dbapi_connection.commit()
    except Exception:  # noqa: BLE001 - without lz4 the server's default stays
        dbapi_connection.rollback()
    finally:
        cursor.close()


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def make_engine(url: str, *, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Engine:
    """An engine for ``url`` whose statements wait at most ``wait_seconds`` for a lock, a
    connection or a pooled connection; for SQLite the folder of the file is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": wait_seconds})
        event.listen(engine, "connect", partial(_sqlite_pragmas, wait_seconds=wait_seconds))
        return engine
    # lock_timeout, not statement_timeout: a write blocked behind another transaction's lock gives
    # up after the wait, while a long read (an audit export or verification) is not cut short.
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=wait_seconds,
        connect_args={
            # libpq counts whole seconds (and treats 1 as 2).
            "connect_timeout": max(1, math.ceil(wait_seconds)),
            "options": f"-c lock_timeout={_milliseconds(wait_seconds)}",
        },
    )
    event.listen(engine, "connect", _postgres_session)
    return engine


def ping(engine: Engine) -> None:
    """Raise if the database cannot be reached."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def probe_write(engine: Engine) -> None:
    """Raise unless a write could start now: take the write lock the writers take, within the
    store wait, and give it straight back (nothing is written)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # BEGIN IMMEDIATE takes the database's write lock, waiting busy_timeout for a writer.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.exec_driver_sql("ROLLBACK")
            return
        # A row lock on the sequence row, which PostgreSQL's writers never lock: it fails at once in
        # a read-only (standby or read-only) database, and waits lock_timeout at most.
        with connection.begin():
            connection.execute(text("SELECT id FROM chain_head WHERE id = 1 FOR UPDATE"))
