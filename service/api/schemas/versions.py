"""Wire models of policy versions: upload, approval, the list, and an assessment's explanation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from service.api.schemas.common import IDENTIFIER_PATTERN, WHOLE, FreeText, Identifier, Strict, WireDatetime
from service.api.schemas.policies import ImpactOut

VersionState = TypeAliasType("VersionState", Literal["candidate", "approved", "active", "retired", "withdrawn"])
VersionSource = TypeAliasType("VersionSource", Literal["directory", "upload"])


class VersionUpload(Strict):
    files: dict[Identifier, dict[str, Any]] = Field(
        min_length=1,
        description="The force's changed policy files by path, e.g. 'west-midlands/rules.json' (its own folder only); "
        "every other file is the policy directory's.",
        json_schema_extra={"propertyNames": {"pattern": IDENTIFIER_PATTERN}, "additionalProperties": False},
    )
    effective_from: WireDatetime = Field(
        description="When the version takes effect: calls received from then on are decided by it."
    )
    effective_to: WireDatetime | None = Field(default=None, description="When it stops deciding, if it is for a fixed period.")
    note: FreeText | None = Field(default=None, max_length=1000, description="What changes and why, for the approver.")
    impact_days: Annotated[int, Field(ge=1, le=366), WHOLE] = Field(
        default=30, description="Replay the force's decisions recorded in this many days before now through the candidate."
    )


class VersionApproval(Strict):
    note: FreeText | None = Field(default=None, max_length=1000, description="The approver's note.")


class ProofCounterexample(BaseModel):
    rule_ids: list[str]
    explanation: str
    request: dict[str, Any]
    riskier_request: dict[str, Any] | None = None


class ProofProperty(BaseModel):
    name: str
    holds: bool
    method: str
    covered: str
    seconds: float
    counterexamples: list[ProofCounterexample]
    unproved: list[str]


class ProofOut(BaseModel):
    holds: bool
    seconds: float
    properties: list[ProofProperty]


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    force: str
    digest: str
    version: str
    state: VersionState
    source: VersionSource
    effective_from: datetime | None = Field(
        description="None for the policy directory's version: in force until an approved version takes effect."
    )
    effective_to: datetime | None
    note: str | None
    changed_rules: list[str] = Field(
        description="Ids of the rules the upload adds, removes or changes against the version in force when uploaded."
    )
    uploaded_by: str | None = Field(
        description="The uploader's caller id (a key fingerprint, or a hash of a token's issuer and subject)."
    )
    uploaded_subject: str | None
    uploaded_at: datetime
    approved_by: str | None
    approved_subject: str | None
    approved_at: datetime | None
    activated_at: datetime | None
    retired_at: datetime | None
    proof: ProofOut | None
    impact: ImpactOut | None


class ExplanationOut(BaseModel):
    assessment_id: str
    kind: str
    recorded_at: datetime
    policy_id: str
    policy_version: str
    policy_digest: str
    version_state: VersionState | None = Field(description="The state of the version that decided it, now.")
    matches: bool = Field(
        description="Whether deciding the recorded request again, with that version, gives the recorded answer."
    )
    differences: list[str] = Field(description="The fields of the answer that differ, if any.")
    recorded_decision: str
    redecided_decision: str
