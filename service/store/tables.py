"""SQLModel tables. Only the store package imports these."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel


class AssessmentRecord(SQLModel, table=True):
    """One recorded decision, with the request that produced it.

    ``seq``, ``prev_digest`` and ``digest`` carry the audit chain: records are numbered in the
    order they were committed and each digest covers the record's canonical content.
    """

    __tablename__ = "assessment"
    __table_args__ = (
        Index("ix_assessment_recorded_at", "recorded_at"),
        Index("ix_assessment_officer", "officer_id", "recorded_at"),
        Index("ix_assessment_force_decision", "force", "decision", "recorded_at"),
        Index("ix_assessment_caller", "caller_key_id", "recorded_at"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=36, unique=True, index=False, nullable=False)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    force: str = Field(max_length=64)
    task: str = Field(max_length=32)
    call_type: str = Field(max_length=100)
    call_reference: str | None = Field(default=None, max_length=64)
    officer_id: str = Field(max_length=64)
    decision: str = Field(max_length=32)
    policy_id: str = Field(max_length=64)
    policy_version: str = Field(max_length=64)
    policy_digest: str = Field(max_length=80)
    caller_role: str = Field(max_length=16)
    caller_key_id: str = Field(max_length=32)
    request_json: str = Field(sa_column=Column(Text, nullable=False))
    response_json: str = Field(sa_column=Column(Text, nullable=False))
    prev_digest: str | None = Field(default=None, max_length=80)
    digest: str | None = Field(default=None, max_length=80)
