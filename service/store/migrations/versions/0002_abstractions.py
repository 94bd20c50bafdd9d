"""Abstraction records (WMP 1.3).

Revision ID: 0002_abstractions
Revises: 0001_audit_chain
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_abstractions"
down_revision = "0001_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "abstraction",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("force", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.String(64), nullable=False),
        sa.Column("home_lpa", sa.String(64)),
        sa.Column("home_neighbourhood", sa.String(64)),
        sa.Column("lpa", sa.String(64)),
        sa.Column("neighbourhood", sa.String(64)),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("description", sa.String(500)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("assessment_id", sa.String(36)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hours", sa.Float()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("authorised_by", sa.String(100)),
        sa.Column("justification", sa.String(1000)),
        sa.Column("authorised_at", sa.DateTime(timezone=True)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_role", sa.String(16), nullable=False),
    )
    op.create_index("ix_abstraction_lpa_started", "abstraction", ["home_lpa", "started_at"])
    op.create_index("ix_abstraction_officer_started", "abstraction", ["officer_id", "started_at"])


def downgrade() -> None:
    op.drop_table("abstraction")
