"""Wire models of the policy catalogues, the matrix, impact replay and reload."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from service.api.schemas.common import (
    IDENTIFIER_PATTERN,
    WHOLE,
    CitationOut,
    Classification,
    DecisionCode,
    Identifier,
    Out,
    Phase,
    PolicyRefOut,
    QueryModel,
    RiskLevel,
    Setting,
    Strict,
    Task,
    TrainingStatus,
    WireDatetime,
    window_end,
)


class PolicySummary(BaseModel):
    id: str
    name: str
    publisher: str
    document: str
    version: str
    effective_from: date
    review_due: date
    past_review_date: bool
    digest: str
    inherits: list[str]
    rule_count: int
    call_type_count: int


class ClassificationSourceOut(Out):
    code: str
    summary: str
    citations: list[CitationOut]


class DocumentOut(Out):
    id: str
    title: str
    publisher: str
    kind: str
    cite_as: str


class PolicyDetail(PolicySummary):
    notes: str
    checks_abstraction: bool
    classification_sources: list[ClassificationSourceOut]
    documents: list[DocumentOut]


class CallTypeOut(BaseModel):
    code: str
    name: str
    group: str
    classification: Classification
    classified_by: str | None
    citation: CitationOut
    support_citation: CitationOut | None
    relevant_powers: list[str]
    support_tasks: list[Task]
    any_phase_tasks: list[Task]
    tags: list[str]


class TaskOut(Out):
    code: Task
    name: str
    kind: Literal["first_response", "support", "investigation", "prohibited"]
    citation: CitationOut
    requires_powers: list[str]
    relevant_powers: list[str]


class PowerCatalogueEntry(Out):
    code: str
    name: str
    legal_basis: str
    citation: CitationOut


class PowerCatalogue(BaseModel):
    powers: list[PowerCatalogueEntry]
    excluded: list[PowerCatalogueEntry] = Field(description="Powers that cannot be designated to a PCSO (a 422 when claimed).")


class MatrixCell(BaseModel):
    decision: DecisionCode
    code: str = Field(description="The deciding reason's code.")
    clause: str = Field(description="The deciding clause, e.g. 'WMP 2.8.3'.")


class MatrixRow(BaseModel):
    call_type: str
    name: str
    classification: Classification
    cells: dict[str, MatrixCell]


class MatrixProfile(QueryModel):
    training_status: TrainingStatus = "independent"
    powers: list[Identifier] = Field(default_factory=list, max_length=50, description="Designated power codes.")
    in_uniform: bool = True
    authorised_driver: bool = False
    cycle_trained: bool = False
    phase: Phase = "in_progress"
    risk_level: RiskLevel = "low"
    setting: Setting = "urban"


class MatrixOut(BaseModel):
    force: str
    policy: PolicyRefOut
    profile: MatrixProfile
    tasks: list[Task]
    rows: list[MatrixRow]


class ImpactRequest(Strict):
    files: dict[Identifier, dict[str, Any]] = Field(
        min_length=1,
        description="Candidate policy files by path under policy_data/, e.g. 'west-midlands/rules.json'; the rest is the current policy.",
        # Every key is a file name and every value a JSON object, as the service checks (JSON Schema's
        # patternProperties alone would let other keys and values through).
        json_schema_extra={"propertyNames": {"pattern": IDENTIFIER_PATTERN}, "additionalProperties": False},
    )
    from_: WireDatetime | None = Field(
        default=None,
        alias="from",
        description="Replay decisions recorded at or after (ISO 8601, 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z).",
    )
    to: WireDatetime | None = Field(
        default=None, description="Replay decisions recorded before (ISO 8601, same range); not before `from`."
    )
    limit: Annotated[int, Field(ge=1, le=1_000_000), WHOLE] = Field(
        default=100_000, description="At most this many recorded decisions are replayed."
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("to")
    @classmethod
    def _in_order(cls, to: datetime | None, info: ValidationInfo) -> datetime | None:
        return window_end(info.data.get("from_"), to)


class ImpactTransition(BaseModel):
    from_decision: DecisionCode
    to_decision: DecisionCode
    count: int
    examples: list[str]


class ImpactByCallType(BaseModel):
    call_type: str
    replayed: int
    changed: int
    transitions: dict[str, int]


class ImpactOut(BaseModel):
    force: str
    current_digest: str
    candidate_digest: str
    replayed: int
    changed: int
    not_replayable: int = Field(description="Records the candidate policy rejects (e.g. a power code it no longer knows).")
    truncated: bool
    transitions: list[ImpactTransition]
    by_call_type: list[ImpactByCallType]


class PolicyReloadRequest(Strict):
    allow_removal: list[Identifier] = Field(
        default_factory=list,
        max_length=64,
        description="Forces that are loaded now and may be removed because POLICY_DIR no longer holds them; a reload that "
        "would remove any other loaded force is refused (409) and the loaded policy kept.",
        examples=[["kent"]],
    )


class PolicyReloadOut(BaseModel):
    policies: dict[str, str] = Field(description="Force id -> digest now loaded.")
    changed: list[str] = Field(description="Forces loaded before and after the reload whose digest changed.")
    added: list[str] = Field(description="Forces loaded by this reload that were not loaded before.")
    removed: list[str] = Field(
        description="Forces no longer loaded: POLICY_DIR no longer holds them and allow_removal named them."
    )
