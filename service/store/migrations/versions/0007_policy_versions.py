"""Policy versions held in the store: each force's versions by effective date, four-eyes approval.

Every version that ever decided is kept here with every file its digest covers (the policy
directory's own, recorded at start-up, and each uploaded candidate), so an old decision can be
decided again with its own version after the directory has moved on.

Revision ID: 0007_policy_versions
Revises: 0006_caller_identity
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_policy_versions"
down_revision = "0006_caller_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_version",
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("force", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bundle", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("proof", sa.Text(), nullable=True),
        sa.Column("impact", sa.Text(), nullable=True),
        sa.Column("changed_rules", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.String(32), nullable=True),
        sa.Column("uploaded_subject", sa.Text(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(32), nullable=True),
        sa.Column("approved_subject", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_policy_version_force", "policy_version", ["force", "effective_from"])


def downgrade() -> None:
    op.drop_index("ix_policy_version_force", table_name="policy_version")
    op.drop_table("policy_version")
