"""Wire models of the audit trail: verification and purge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from service.api.schemas.common import WHOLE, FreeText, Out, Strict

ChainStatus = TypeAliasType("ChainStatus", Literal["intact", "broken"])


class ChainBreakOut(Out):
    chain: str = Field(description="The chain (force) where the break is.")
    seq: int = Field(description="The position in that chain of the first entry that does not verify.")
    kind: Literal["altered", "missing", "reordered"]
    detail: str


class ChainVerifyOut(Out):
    chain: str = Field(description="The force whose chain this is; `~shared` holds entries written before one chain per force.")
    status: ChainStatus
    checked: int
    first_seq: int | None
    last_seq: int | None
    head_seq: int
    head_digest: str
    checkpoint_seq: int | None = Field(description="The last entry removed by a retention purge, if any.")
    broken: ChainBreakOut | None


class VerifyOut(Out):
    status: ChainStatus = Field(description="Intact when every chain checked is.")
    checked: int = Field(description="Entries checked, over every chain checked.")
    broken: ChainBreakOut | None = Field(description="The first break found, if any.")
    chains: list[ChainVerifyOut] = Field(description="One report per chain checked (one per force).")


class PublicKeyOut(Out):
    key_id: str = Field(description="First 16 hex digits of the sha256 of the raw public key; signatures name it.")
    algorithm: Literal["Ed25519"]
    public_key: str = Field(description="Base64 of the 32 raw bytes of the Ed25519 public key.")
    current: bool = Field(description="True for the key that signs now; retired keys stay listed for older signatures.")


class PublicKeysOut(Out):
    keys: list[PublicKeyOut]


class PurgeRequest(Strict):
    older_than_days: Annotated[int, Field(ge=1, le=36500), WHOLE] | None = Field(
        default=None, description="Defaults to RETENTION_DAYS."
    )
    reason: FreeText = Field(min_length=1, max_length=500, description="Why, e.g. the force's retention schedule.")


class ChainPurgeOut(Out):
    chain: str
    record_id: str = Field(description="The purge entry recorded in this chain.")
    purged: int
    through_chain_seq: int | None = Field(description="The last entry of this chain removed, if any.")
    checkpoint_digest: str | None


class PurgeOut(Out):
    purge_id: str
    purged: int = Field(description="Entries removed, over every chain.")
    through_seq: int | None = Field(description="The newest entry removed, numbered over every chain.")
    checkpoint_digest: str | None = Field(description="The digest of that entry, kept in its chain's checkpoint.")
    cutoff: datetime
    chains: list[ChainPurgeOut] = Field(description="What the purge did in each chain; each chain records its own purge entry.")
