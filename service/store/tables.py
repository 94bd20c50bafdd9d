"""SQLModel tables. Only the store package imports these."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, Table, Text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored with time zone and always read back as UTC-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class AuditRecord(SQLModel, table=True):
    """One entry of an audit chain: an assessment, an escalation, an abstraction or its
    authorisation, or a purge of old entries.

    Each force has its own chain: ``chain_seq`` numbers a chain's entries without gaps,
    ``prev_digest`` is the digest of the chain's entry before, and ``digest`` covers
    ``prev_digest`` and the canonical content of this entry (``digest_version`` says which
    canonical form, see service/store/digests.py). ``seq`` numbers every entry of every chain, for
    listing and paging.
    """

    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ux_audit_record_chain_seq", "chain", "chain_seq", unique=True),
        Index("ix_audit_record_recorded_at", "recorded_at"),
        Index("ix_audit_record_force_seq", "force", "seq"),
        Index("ix_audit_record_officer_seq", "officer_id", "seq"),
        Index("ix_audit_record_decision_seq", "decision", "seq"),
        Index("ix_audit_record_caller_seq", "caller_key_id", "seq"),
    )

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    id: str = Field(max_length=36, unique=True)
    kind: str = Field(max_length=16)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    force: str | None = Field(default=None, max_length=64)
    task: str | None = Field(default=None, max_length=32)
    call_type: str | None = Field(default=None, max_length=100)
    call_reference: str | None = Field(default=None, max_length=64)
    officer_id: str | None = Field(default=None, max_length=64)
    decision: str | None = Field(default=None, max_length=32)
    parent_id: str | None = Field(default=None, max_length=36)
    policy_id: str | None = Field(default=None, max_length=64)
    policy_version: str | None = Field(default=None, max_length=64)
    policy_digest: str | None = Field(default=None, max_length=80)
    caller_role: str = Field(max_length=64)
    caller_key_id: str = Field(max_length=32)
    # Who signed in (a token's subject and client id) and the forces the caller acted for ('*': all).
    caller_subject: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    caller_client_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    caller_scope: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    request_json: str = Field(sa_column=Column(Text, nullable=False))
    response_json: str = Field(sa_column=Column(Text, nullable=False))
    prev_digest: str = Field(max_length=80)
    digest: str = Field(max_length=80)
    chain: str = Field(max_length=64)
    chain_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    digest_version: int = Field(sa_column=Column(Integer, nullable=False))
    answer_digest: str | None = Field(default=None, max_length=80)


class AuditChain(SQLModel, table=True):
    """One row per chain naming its newest entry; a writer locks its chain's row to append, so
    forces never wait on each other's chains. ``signed_seq`` is the newest entry signed."""

    __tablename__ = "audit_chain"

    chain: str = Field(max_length=64, primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    digest: str = Field(max_length=80)
    signed_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AuditSignature(SQLModel, table=True):
    """A signed checkpoint: the service's Ed25519 key says entry ``chain_seq`` of ``chain`` had
    ``digest`` (see digests.statement for the exact bytes signed)."""

    __tablename__ = "audit_signature"
    __table_args__ = (Index("ix_audit_signature_chain_seq", "chain", "chain_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=64)
    chain_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    digest: str = Field(max_length=80)
    signed_at: str = Field(max_length=40)
    key_id: str = Field(max_length=32)
    signature: str = Field(max_length=120)
    reason: str = Field(max_length=16)


class ChainHead(SQLModel, table=True):
    """The newest sequence number over all chains (SQLite numbers entries from this row; PostgreSQL
    from the sequence audit_record_seq)."""

    __tablename__ = "chain_head"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    digest: str = Field(max_length=80)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AuditCheckpoint(SQLModel, table=True):
    """What a purge removed from a chain: its entries up to ``through_chain_seq`` (``through_seq``
    overall), the last of which had ``digest``. Valid only beside the purge entry that made it."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=64)
    through_chain_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    through_seq: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    digest: str = Field(max_length=80)
    purged_count: int = Field(sa_column=Column(BigInteger, nullable=False))
    cutoff: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    purged_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    purge_record_id: str = Field(max_length=36)


class Abstraction(SQLModel, table=True):
    """A PCSO taken away from core neighbourhood duties (WMP 1.3): pending until authorised."""

    __tablename__ = "abstraction"
    __table_args__ = (
        Index("ix_abstraction_lpa_started", "home_lpa", "started_at"),
        Index("ix_abstraction_officer_started", "officer_id", "started_at"),
    )

    id: str = Field(max_length=36, primary_key=True)
    force: str = Field(max_length=64)
    officer_id: str = Field(max_length=64)
    home_lpa: str | None = Field(default=None, max_length=64)
    home_neighbourhood: str | None = Field(default=None, max_length=64)
    lpa: str | None = Field(default=None, max_length=64)
    neighbourhood: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=32)
    description: str | None = Field(default=None, max_length=500)
    source: str = Field(max_length=16)
    assessment_id: str | None = Field(default=None, max_length=36)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    hours: float | None = Field(default=None)
    status: str = Field(max_length=16)
    authorised_by: str | None = Field(default=None, max_length=100)
    justification: str | None = Field(default=None, max_length=1000)
    authorised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by_role: str = Field(max_length=64)


class IdempotencyKey(SQLModel, table=True):
    """A client's Idempotency-Key on one endpoint: the request it was first used with and the answer recorded for it."""

    __tablename__ = "idempotency_key"

    caller_key_id: str = Field(max_length=32, primary_key=True)
    endpoint: str = Field(max_length=100, primary_key=True)
    key: str = Field(max_length=255, primary_key=True)
    request_hash: str = Field(max_length=80)
    status: str = Field(max_length=16)
    response_status: int | None = Field(default=None)
    response_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    record_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PolicyVersionRow(SQLModel, table=True):
    """A version of a force's policy: the policy directory's, or one uploaded as a candidate,
    approved by a second person, in force from ``effective_from``. ``bundle`` holds every file its
    digest covers, so the version stays loadable after the directory has moved on."""

    __tablename__ = "policy_version"
    __table_args__ = (Index("ix_policy_version_force", "force", "effective_from"),)

    digest: str = Field(max_length=80, primary_key=True)
    force: str = Field(max_length=64)
    version: str = Field(max_length=64)
    source: str = Field(max_length=16)  # "directory" or "upload"
    status: str = Field(max_length=16)  # "candidate", "approved" (uploads); "directory"
    effective_from: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    effective_to: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    bundle: str = Field(sa_column=Column(Text, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    proof: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    impact: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    changed_rules: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    uploaded_by: str | None = Field(default=None, max_length=32)
    uploaded_subject: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    uploaded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    approved_by: str | None = Field(default=None, max_length=32)
    approved_subject: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    approved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    activated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    retired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


# The tables as SQLAlchemy Core objects, for the store's queries.
audit_records: Table = SQLModel.metadata.tables["audit_record"]
chain_head: Table = SQLModel.metadata.tables["chain_head"]
audit_chains: Table = SQLModel.metadata.tables["audit_chain"]
audit_signatures: Table = SQLModel.metadata.tables["audit_signature"]
audit_checkpoints: Table = SQLModel.metadata.tables["audit_checkpoint"]
abstractions: Table = SQLModel.metadata.tables["abstraction"]
idempotency_keys: Table = SQLModel.metadata.tables["idempotency_key"]
policy_versions: Table = SQLModel.metadata.tables["policy_version"]
