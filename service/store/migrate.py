"""Schema migrations (alembic): apply at start-up under a lock, or check and refuse to start.

`python -m service.store.migrate` applies pending migrations to DATABASE_URL and exits; use it
with MIGRATE_ON_START=false when a deployment step, not the service, owns schema changes.
"""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK = 0x5C50_D3C1  # PostgreSQL advisory lock id for migrations


class SchemaOutOfDate(RuntimeError):
    """The database is not at the schema this code needs."""


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = make_url(engine.url).database
    if not database or database == ":memory:":
        yield
        return
    with open(Path(database).with_suffix(".migrate.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> None:
    """Apply pending migrations; concurrent starters (several workers) wait for one another."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            # Workers starting together wait for the one migrating, however long it takes: the
            # store wait (lock_timeout) is for requests, not for schema changes.
            connection.execute(text("SET LOCAL lock_timeout = 0"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK})
            command.upgrade(_config(connection), "head")
        return
    with _file_lock(engine), engine.begin() as connection:
        command.upgrade(_config(connection), "head")


def check(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the database is at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at {current or 'nothing'}, this version needs {head}: "
            "run `python -m service.store.migrate` (or start with MIGRATE_ON_START=true)"
        )


def main() -> int:
    from service.config import get_settings
    from service.store.database import make_engine

    engine = make_engine(get_settings().database_url)
    try:
        upgrade(engine)
        print(f"database at {current_revision(engine)}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
