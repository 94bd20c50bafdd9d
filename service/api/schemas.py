"""Wire models: what integrators send and receive. Separate from engine and table models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.policy import DECISIONS, FLAGS, GRADES, MARKERS, PHASES, RISK_LEVELS, SETTINGS, TASKS, TRAINING_STATUSES

# The wire enums are the engine's vocabularies, so the two cannot drift apart.
Task = Literal[TASKS]  # type: ignore[valid-type]
Phase = Literal[PHASES]  # type: ignore[valid-type]
Grade = Literal[GRADES]  # type: ignore[valid-type]
Flag = Literal[FLAGS]  # type: ignore[valid-type]
Marker = Literal[MARKERS]  # type: ignore[valid-type]
RiskLevel = Literal[RISK_LEVELS]  # type: ignore[valid-type]
Setting = Literal[SETTINGS]  # type: ignore[valid-type]
TrainingStatus = Literal[TRAINING_STATUSES]  # type: ignore[valid-type]
DecisionCode = Literal[DECISIONS]  # type: ignore[valid-type]

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


class EscalationOut(BaseModel):
    parent_id: str
    previous_decision: DecisionCode
    direction: Literal["stricter", "unchanged", "looser"]
    risk_lowered_by: list[str] = Field(description="Changes that lowered the risk; only these can loosen a decision.")
    instructions: list[FindingOut] = Field(description="What the PCSO must do now when the deployment is no longer within the remit.")


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
    abstraction_id: str | None = Field(default=None, description="The abstraction record this deployment created, pending authorisation (WMP 1.3).")
    candidates_id: str | None = Field(default=None, description="The candidates request this decision was part of.")
    escalation: EscalationOut | None = Field(default=None, description="For an escalation: what changed against the decision it follows.")


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


class EscalationRequest(Strict):
    """What changed during the deployment. Flags and markers are added; cleared ones count as lowering the risk."""

    flags: list[Flag] = Field(default_factory=list, max_length=10, description="Flags now reported, added to the call's.")
    markers: list[Marker] = Field(default_factory=list, max_length=10, description="Location markers now known, added.")
    clear_flags: list[Flag] = Field(default_factory=list, max_length=10, description="Flags that no longer apply (lowers the risk).")
    clear_markers: list[Marker] = Field(default_factory=list, max_length=10, description="Markers that no longer apply (lowers the risk).")
    risk_level: RiskLevel | None = None
    phase: Phase | None = None
    grade: Grade | None = None
    description: str | None = Field(default=None, min_length=1, max_length=4000, description="The new narrative; risk words found earlier are kept as flags.")


class CandidatesRequest(Strict):
    force: str = Field(min_length=1, max_length=64)
    task: Task = "attend"
    call: CallIn
    location: LocationIn
    officers: list[OfficerIn] = Field(min_length=1, max_length=500, description="The PCSOs on duty who could take the call.")


class CandidateOut(BaseModel):
    rank: int
    officer_id: str
    assessment_id: str
    decision: DecisionCode
    may_assign: bool
    deciding_reason: FindingOut
    conditions: list[str]
    powers_available: list[str]
    powers_not_held: list[str]
    transport: str
    abstraction: bool | None = Field(description="Whether sending this officer abstracts them from their home LPA or neighbourhood.")
    place_reasons: list[str] = Field(description="Why this officer is at this place in the ranking.")


class CandidatesResponse(BaseModel):
    candidates_id: str
    decided_at: datetime
    force: str
    task: Task
    call_type: str
    deployable: int
    policy: PolicyRefOut
    candidates: list[CandidateOut]


class MatrixCell(BaseModel):
    decision: DecisionCode
    code: str = Field(description="The deciding reason's code.")
    clause: str = Field(description="The deciding clause, e.g. 'WMP 2.8.3'.")


class MatrixRow(BaseModel):
    call_type: str
    name: str
    classification: Literal["within_remit", "outside_remit"]
    cells: dict[str, MatrixCell]


class MatrixProfile(Strict):
    training_status: TrainingStatus = "independent"
    powers: list[str] = Field(default_factory=list, max_length=50, description="Designated power codes.")
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


AbstractionReason = Literal["out_of_area", "non_neighbourhood_duty", "other"]


class AbstractionIn(Strict):
    force: str = Field(min_length=1, max_length=64)
    officer_id: str = Field(min_length=1, max_length=64)
    home_lpa: str = Field(min_length=1, max_length=64)
    home_neighbourhood: str | None = ShortText
    lpa: str | None = ShortText
    neighbourhood: str | None = ShortText
    reason: AbstractionReason
    description: str | None = Field(default=None, max_length=500, description="What the officer was taken to do.")
    started_at: datetime
    hours: float | None = Field(default=None, gt=0, le=24 * 31)


class AuthorisationIn(Strict):
    authorised_by: str = Field(min_length=1, max_length=100, description="Name and rank of the supervisor authorising.")
    justification: str = Field(min_length=1, max_length=1000)
    hours: float | None = Field(default=None, gt=0, le=24 * 31, description="How long the abstraction lasted, if now known.")


class AbstractionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    force: str
    officer_id: str
    home_lpa: str | None
    home_neighbourhood: str | None
    lpa: str | None
    neighbourhood: str | None
    reason: AbstractionReason
    description: str | None
    source: Literal["assessment", "manual"]
    assessment_id: str | None
    started_at: datetime
    hours: float | None
    status: Literal["pending", "authorised"]
    authorised_by: str | None
    justification: str | None
    authorised_at: datetime | None


class OfficerAbstractions(BaseModel):
    officer_id: str
    abstractions: int
    hours: float
    review_required: bool = Field(description="Repeated or prolonged abstraction that supervisory ranks must review (WMP 1.3).")


class LpaMonth(BaseModel):
    lpa: str
    month: str
    abstractions: int
    hours: float
    hours_unknown: int = Field(description="Abstractions whose duration is not yet recorded.")
    unauthorised: int
    officers_for_review: list[OfficerAbstractions]


class AbstractionReport(BaseModel):
    month: str
    lpa: str | None
    review_threshold: dict[str, float]
    lpas: list[LpaMonth]


class ImpactRequest(Strict):
    files: dict[str, dict[str, Any]] = Field(
        min_length=1,
        description="Candidate policy files by path under policy_data/, e.g. 'west-midlands/rules.json'; the rest is the current policy.",
    )
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None
    limit: int = Field(default=100_000, ge=1, le=1_000_000, description="At most this many recorded decisions are replayed.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


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


class PolicyReloadOut(BaseModel):
    policies: dict[str, str] = Field(description="Force id -> digest now loaded.")
    changed: list[str] = Field(description="Forces whose digest changed.")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    policies: dict[str, str] = Field(description="Force id -> policy digest loaded.")
    store: Literal["ok"]
    warnings: list[str] = Field(default_factory=list, description="E.g. a policy past its review date; the service stays ready.")
