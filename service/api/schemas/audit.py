"""Wire models of the audit trail: verification and purge."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from service.api.schemas.common import Out, Strict


class ChainBreakOut(Out):
    seq: int
    kind: Literal["altered", "missing", "reordered"]
    detail: str


class VerifyOut(Out):
    status: Literal["intact", "broken"]
    checked: int
    first_seq: int | None
    last_seq: int | None
    head_seq: int
    head_digest: str
    checkpoint_seq: int | None = Field(description="The last entry removed by a retention purge, if any.")
    broken: ChainBreakOut | None


class PurgeRequest(Strict):
    older_than_days: int | None = Field(default=None, ge=1, le=36500, description="Defaults to RETENTION_DAYS.")
    reason: str = Field(min_length=1, max_length=500, description="Why, e.g. the force's retention schedule.")


class PurgeOut(Out):
    purge_id: str
    purged: int
    through_seq: int | None
    checkpoint_digest: str | None
    cutoff: datetime
