"""Idempotency keys scoped to the caller and the endpoint.

A CAD system may use one value (its incident number, say) as the Idempotency-Key of an
assessment and of a candidates request for the same call: the key is now unique per caller and
endpoint, not per caller. Every existing row keeps its key; the primary key gains ``endpoint``.
SQLite cannot change a primary key in place, so there the table is rebuilt (batch mode).

Revision ID: 0005_idempotency_per_endpoint
Revises: 0004_chain_per_force
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_idempotency_per_endpoint"
down_revision = "0004_chain_per_force"
branch_labels = None
depends_on = None

# PostgreSQL's own name for the table's primary key, kept so that both revisions name it alike.
PRIMARY_KEY = "idempotency_key_pkey"


def _table(primary_key: list[str]) -> sa.Table:
    """The table as revision 0004 left it, with ``primary_key``."""
    return sa.Table(
        "idempotency_key",
        sa.MetaData(),
        sa.Column("caller_key_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("request_hash", sa.String(80), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("response_status", sa.Integer()),
        sa.Column("response_body", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_id", sa.String(36)),
        sa.PrimaryKeyConstraint(*primary_key, name=PRIMARY_KEY),
    )


def _primary_key(columns: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE idempotency_key DROP CONSTRAINT {PRIMARY_KEY}, "
            f"ADD CONSTRAINT {PRIMARY_KEY} PRIMARY KEY ({', '.join(columns)})"
        )
        return
    # Rebuilt from the full definition: create the new table, copy every row, drop the old, rename.
    with op.batch_alter_table("idempotency_key", recreate="always", copy_from=_table(columns)):
        pass


def upgrade() -> None:
    _primary_key(["caller_key_id", "endpoint", "key"])


def downgrade() -> None:
    # Keys used on several endpoints by one caller cannot share the narrower key: keep the newest.
    op.execute(
        "DELETE FROM idempotency_key WHERE EXISTS (SELECT 1 FROM idempotency_key AS newer "
        "WHERE newer.caller_key_id = idempotency_key.caller_key_id AND newer.key = idempotency_key.key "
        "AND (newer.created_at > idempotency_key.created_at "
        "OR (newer.created_at = idempotency_key.created_at AND newer.endpoint > idempotency_key.endpoint)))"
    )
    _primary_key(["caller_key_id", "key"])
