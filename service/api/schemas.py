"""Wire models: what integrators send and receive. Separate from engine and table models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput

Task = Literal[
    "attend",
    "scene_guard",
    "house_to_house",
    "cctv_collection",
    "victim_statement",
    "reassurance_patrol",
    "area_search",
    "traffic_control",
    "custody_conveyance",
    "covert_deployment",
]
Phase = Literal["in_progress", "recent", "scene_secured"]
Grade = Literal["emergency", "priority", "scheduled", "resolution_without_deployment"]
Flag = Literal[
    "weapon_reported",
    "violence_threatened",
    "confrontation_likely",
    "suspect_present",
    "injury_reported",
    "vulnerable_person",
    "safeguarding_concern",
    "multiple_parties",
    "community_sensitive",
    "serious_investigation",
]
Marker = Literal[
    "weapons",
    "firearms",
    "violent_person",
    "dangerous_dog",
    "drugs",
    "hazardous_materials",
    "water",
    "live_lane",
    "mental_health_risk",
    "officer_safety",
]
RiskLevel = Literal["low", "medium", "high"]
Setting = Literal["urban", "rural"]
TrainingStatus = Literal["foundation", "coaching", "independent"]
DecisionCode = Literal["deploy", "deploy_with_conditions", "refer_to_supervisor", "do_not_deploy"]

Code = Field(min_length=1, max_length=100)
ShortText = Field(default=None, min_length=1, max_length=64)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallIn(Strict):
    type: str = Field(min_length=1, max_length=100, description="Call-type code from the force's catalogue; an unknown code is referred.")
    reference: str | None = Field(default=None, min_length=1, max_length=64, description="The CAD incident reference.")
    phase: Phase = "in_progress"
    grade: Grade | None = None
    flags: list[Flag] = Field(default_factory=list, max_length=10)
    description: str | None = Field(default=None, max_length=4000, description="The call handler's narrative; screened for risk words.")


class LocationIn(Strict):
    risk_level: RiskLevel
    markers: list[Marker] = Field(default_factory=list, max_length=10)
    setting: Setting = "urban"
    lpa: str | None = ShortText
    neighbourhood: str | None = ShortText


class OfficerIn(Strict):
    id: str = Field(min_length=1, max_length=64, description="The officer's collar or staff number.")
    designated_powers: list[str] = Field(default_factory=list, max_length=50, description="Power codes the officer is designated with.")
    training_status: TrainingStatus
    in_uniform: bool
    authorised_driver: bool = False
    cycle_trained: bool = False
    home_lpa: str | None = ShortText
    home_neighbourhood: str | None = ShortText


class AssessmentRequest(Strict):
    force: str = Field(min_length=1, max_length=64, description="Policy set id, e.g. west-midlands or kent.")
    task: Task = "attend"
    call: CallIn
    location: LocationIn
    officer: OfficerIn

    def to_engine(self) -> AssessmentInput:
        """The engine's view of this request."""
        return AssessmentInput(
            force=self.force,
            task=self.task,
            call=CallInput(
                type=self.call.type,
                reference=self.call.reference,
                phase=self.call.phase,
                grade=self.call.grade,
                flags=frozenset(self.call.flags),
                description=self.call.description,
            ),
            location=LocationInput(
                risk_level=self.location.risk_level,
                markers=frozenset(self.location.markers),
                setting=self.location.setting,
                lpa=self.location.lpa,
                neighbourhood=self.location.neighbourhood,
            ),
            officer=OfficerInput(
                id=self.officer.id,
                designated_powers=tuple(self.officer.designated_powers),
                training_status=self.officer.training_status,
                in_uniform=self.officer.in_uniform,
                authorised_driver=self.officer.authorised_driver,
                cycle_trained=self.officer.cycle_trained,
                home_lpa=self.officer.home_lpa,
                home_neighbourhood=self.officer.home_neighbourhood,
            ),
        )


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CitationOut(Out):
    policy: str = Field(description="The policy set that declares the rule (a force, or 'national').")
    document: str
    document_id: str
    clause: str
    quote: str | None = Field(description="The words the rule rests on, verbatim; null for legislation.")
    label: str = Field(description="Short form, e.g. 'WMP 2.8.3'.")


class FindingOut(Out):
    code: str
    effect: str
    message: str
    citation: CitationOut


class PowerOut(Out):
    code: str
    name: str
    legal_basis: str


class LimitsOut(Out):
    permitted_tasks: list[Task]
    powers_available: list[PowerOut]
    powers_not_held: list[PowerOut]
    powers_suspended: list[PowerOut] = Field(description="Powers the officer holds but cannot use in this deployment.")
    prohibited: list[FindingOut]
    withdraw_when: list[str]
    withdrawal: list[FindingOut]
    transport: str
    transport_basis: list[FindingOut]


class AlternativeOut(Out):
    task: Task
    phase: Phase
    decision: DecisionCode
    message: str
    citation: CitationOut


class PolicyRefOut(Out):
    id: str
    name: str
    document: str
    version: str
    effective_from: date
    review_due: date
    digest: str
    past_review_date: bool


class WarningOut(Out):
    code: str
    message: str
    citations: list[CitationOut] = []


class ScreeningOut(Out):
    category: str
    words: list[str]
    adds_flags: list[str]
    adds_markers: list[str]


class AssessmentResponse(BaseModel):
    assessment_id: str
    decided_at: datetime
    decision: DecisionCode
    may_assign: bool
    task: Task
    officer_id: str
    call_reference: str | None
    reasons: list[FindingOut]
    conditions: list[FindingOut]
    limits: LimitsOut
    alternatives: list[AlternativeOut]
    policy: PolicyRefOut
    warnings: list[WarningOut]
    screening: list[ScreeningOut]


class AssessmentRecordOut(BaseModel):
    assessment_id: str
    kind: Literal["assessment", "escalation"]
    sequence: int = Field(description="Position in the audit chain.")
    recorded_at: datetime
    caller_role: str
    parent_id: str | None = Field(description="For an escalation, the assessment it follows.")
    digest: str = Field(description="The record's digest in the audit chain.")
    request: dict[str, Any]
    response: AssessmentResponse


class AssessmentQuery(BaseModel):
    """Filters for listing recorded decisions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    force: str | None = Field(default=None, max_length=64)
    decision: DecisionCode | None = None
    officer_id: str | None = Field(default=None, max_length=64)
    from_: datetime | None = Field(default=None, alias="from", description="Recorded at or after (ISO 8601).")
    to: datetime | None = Field(default=None, description="Recorded before (ISO 8601).")
    cursor: str | None = Field(default=None, max_length=200, description="next_cursor from the previous page.")
    limit: int = Field(default=50, ge=1, le=500)


class AssessmentSummary(Out):
    assessment_id: str = Field(validation_alias="id")
    sequence: int = Field(validation_alias="seq")
    kind: Literal["assessment", "escalation"]
    recorded_at: datetime
    force: str | None
    task: str | None
    call_type: str | None
    call_reference: str | None
    officer_id: str | None
    decision: DecisionCode | None
    parent_id: str | None
    policy_version: str | None
    caller_role: str


class AssessmentPage(BaseModel):
    items: list[AssessmentSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")


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
    classification: Literal["within_remit", "outside_remit"]
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


class ProblemError(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. officer.designated_powers[1].")
    message: str
    code: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemError] | None = None


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    policies: dict[str, str] = Field(description="Force id -> policy digest loaded.")
    store: Literal["ok"]
