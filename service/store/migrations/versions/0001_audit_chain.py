"""The audit chain: records, chain head and purge checkpoints.

Revision ID: 0001_audit_chain
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001_audit_chain"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "sha256:" + "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_record",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("force", sa.String(64)),
        sa.Column("task", sa.String(32)),
        sa.Column("call_type", sa.String(100)),
        sa.Column("call_reference", sa.String(64)),
        sa.Column("officer_id", sa.String(64)),
        sa.Column("decision", sa.String(32)),
        sa.Column("parent_id", sa.String(36)),
        sa.Column("policy_id", sa.String(64)),
        sa.Column("policy_version", sa.String(64)),
        sa.Column("policy_digest", sa.String(80)),
        sa.Column("caller_role", sa.String(16), nullable=False),
        sa.Column("caller_key_id", sa.String(32), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("response_json", sa.Text(), nullable=False),
        sa.Column("prev_digest", sa.String(80), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
    )
    op.create_index("ix_audit_record_recorded_at", "audit_record", ["recorded_at"])
    op.create_index("ix_audit_record_force_seq", "audit_record", ["force", "seq"])
    op.create_index("ix_audit_record_officer_seq", "audit_record", ["officer_id", "seq"])
    op.create_index("ix_audit_record_decision_seq", "audit_record", ["decision", "seq"])
    op.create_index("ix_audit_record_caller_seq", "audit_record", ["caller_key_id", "seq"])
    head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "digest": GENESIS, "updated_at": datetime.now(UTC)}])
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("through_seq", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("purged_count", sa.BigInteger(), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purge_record_id", sa.String(36), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoint")
    op.drop_table("chain_head")
    op.drop_table("audit_record")
