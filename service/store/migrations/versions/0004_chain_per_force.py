"""One audit chain per force, signed checkpoints, idempotent answers tied to their entries.

The entries written before this revision stay exactly as they were, as one chain shared by every
force (``~shared``, digest version 1), still verifiable; each force's new entries start a chain of
their own (digest version 2, covering the caller's key fingerprint, the chain and the idempotent
answer). ``chain_head`` keeps numbering entries overall on SQLite; PostgreSQL numbers them from the
sequence ``audit_record_seq`` so that forces never wait on one another.

Revision ID: 0004_chain_per_force
Revises: 0003_idempotency
Create Date: 2026-11-25
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004_chain_per_force"
down_revision = "0003_idempotency"
branch_labels = None
depends_on = None

LEGACY_CHAIN = "~shared"


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("audit_record") as batch:
        batch.add_column(sa.Column("chain", sa.String(64), nullable=False, server_default=LEGACY_CHAIN))
        batch.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("digest_version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("answer_digest", sa.String(80)))
    op.execute("UPDATE audit_record SET chain_seq = seq")
    op.create_index("ux_audit_record_chain_seq", "audit_record", ["chain", "chain_seq"], unique=True)

    chains = op.create_table(
        "audit_chain",
        sa.Column("chain", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("signed_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    head = bind.execute(sa.text("SELECT seq, digest FROM chain_head WHERE id = 1")).first()
    if head is not None and int(head.seq) > 0:
        op.bulk_insert(
            chains,
            [
                {
                    "chain": LEGACY_CHAIN,
                    "seq": int(head.seq),
                    "digest": head.digest,
                    "signed_seq": 0,
                    "updated_at": datetime.now(UTC),
                }
            ],
        )
    op.create_table(
        "audit_signature",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("chain_seq", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("signed_at", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signature", sa.String(120), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
    )
    op.create_index("ix_audit_signature_chain_seq", "audit_signature", ["chain", "chain_seq"])

    with op.batch_alter_table("audit_checkpoint") as batch:
        batch.add_column(sa.Column("chain", sa.String(64), nullable=False, server_default=LEGACY_CHAIN))
        batch.add_column(sa.Column("through_chain_seq", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute("UPDATE audit_checkpoint SET through_chain_seq = through_seq")

    with op.batch_alter_table("idempotency_key") as batch:
        batch.add_column(sa.Column("record_id", sa.String(36)))

    if bind.dialect.name == "postgresql":
        start = int(head.seq) + 1 if head is not None else 1
        op.execute(f"CREATE SEQUENCE audit_record_seq START WITH {start}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP SEQUENCE audit_record_seq")
    with op.batch_alter_table("idempotency_key") as batch:
        batch.drop_column("record_id")
    with op.batch_alter_table("audit_checkpoint") as batch:
        batch.drop_column("through_chain_seq")
        batch.drop_column("chain")
    op.drop_index("ix_audit_signature_chain_seq", "audit_signature")
    op.drop_table("audit_signature")
    op.drop_table("audit_chain")
    op.drop_index("ux_audit_record_chain_seq", "audit_record")
    with op.batch_alter_table("audit_record") as batch:
        batch.drop_column("answer_digest")
        batch.drop_column("digest_version")
        batch.drop_column("chain_seq")
        batch.drop_column("chain")
