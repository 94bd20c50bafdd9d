"""An index of the policy approvals among the audit records.

Every worker reads which policy versions are approved every POLICY_SYNC_SECONDS, and a version
counts as approved only with its approval entry in the audit chain. Without an index that check
read the whole audit table each time, so the sync grew slower with every decision recorded and
stalled the requests around it. The index is partial: it holds the approval entries alone, so
recording a decision costs nothing more.

Revision ID: 0009_approvals_index
Revises: 0008_record_compression
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_approvals_index"
down_revision = "0008_record_compression"
branch_labels = None
depends_on = None

_APPROVALS = sa.text("kind = 'policy_approve'")


def upgrade() -> None:
    op.create_index(
        "ix_audit_record_approvals", "audit_record", ["policy_digest"], sqlite_where=_APPROVALS, postgresql_where=_APPROVALS
    )


def downgrade() -> None:
    op.drop_index("ix_audit_record_approvals", table_name="audit_record")
