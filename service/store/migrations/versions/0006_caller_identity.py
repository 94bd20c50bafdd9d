"""Who made each audited request: the token subject, its client id and the forces it acted for.

Callers may now sign in with an OpenID Connect token as well as an API key, and act for some
forces only. Every audit entry records the caller's subject and client id (for a token) and its
force scope, and the entry's digest (version 3) covers them. A token may carry more than one
role, recorded joined by '+', so the role columns widen. Existing entries keep their digests and
versions; their new columns stay empty.

Revision ID: 0006_caller_identity
Revises: 0005_idempotency_per_endpoint
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_caller_identity"
down_revision = "0005_idempotency_per_endpoint"
branch_labels = None
depends_on = None

_COLUMNS = ("caller_subject", "caller_client_id", "caller_scope")


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("audit_record", sa.Column(name, sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce a VARCHAR's length
        op.alter_column("audit_record", "caller_role", type_=sa.String(64), existing_nullable=False)
        op.alter_column("abstraction", "recorded_by_role", type_=sa.String(64), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("abstraction", "recorded_by_role", type_=sa.String(16), existing_nullable=False)
        op.alter_column("audit_record", "caller_role", type_=sa.String(16), existing_nullable=False)
    with op.batch_alter_table("audit_record") as batch:
        for name in _COLUMNS:
            batch.drop_column(name)
