"""Wire models of assessments, escalations and the record of each."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.common import (
    CitationOut,
    DecisionCode,
    EscalationDirection,
    FindingOut,
    Flag,
    FreeText,
    Grade,
    Identifier,
    Marker,
    Out,
    Phase,
    PolicyRefOut,
    PowerOut,
    RecordedWindow,
    RecordKind,
    RiskLevel,
    Setting,
    ShortText,
    Strict,
    Task,
    TrainingStatus,
    WireDatetime,
)
from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput


class CallIn(Strict):
    type: Identifier = Field(
        min_length=1, max_length=100, description="Call-type code from the force's catalogue; an unknown code is referred."
    )
    reference: Identifier | None = Field(default=None, min_length=1, max_length=64, description="The CAD incident reference.")
    phase: Phase = "in_progress"
    grade: Grade | None = None
    flags: list[Flag] = Field(default_factory=list, max_length=10)
    description: FreeText | None = Field(
        default=None, max_length=4000, description="The call handler's narrative; screened for risk words."
    )
    received_at: WireDatetime | None = Field(
        default=None,
        description="When the call was received (default: now). The policy version in force at that time decides it; "
        "at most 24 hours before now and 5 minutes after.",
    )


class LocationIn(Strict):
    risk_level: RiskLevel
    markers: list[Marker] = Field(default_factory=list, max_length=10)
    setting: Setting = "urban"
    lpa: Identifier | None = ShortText
    neighbourhood: Identifier | None = ShortText


class OfficerIn(Strict):
    id: Identifier = Field(min_length=1, max_length=64, description="The officer's collar or staff number.")
    designated_powers: list[Identifier] = Field(
        default_factory=list, max_length=50, description="Power codes the officer is designated with."
    )
    training_status: TrainingStatus
    in_uniform: bool
    authorised_driver: bool = False
    cycle_trained: bool = False
    home_lpa: Identifier | None = ShortText
    home_neighbourhood: Identifier | None = ShortText


class AssessmentRequest(Strict):
    force: Identifier = Field(min_length=1, max_length=64, description="Policy set id, e.g. west-midlands or kent.")
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


class WarningOut(Out):
    code: str
    message: str
    citations: list[CitationOut] = []


class ScreeningOut(Out):
    category: str = Field(description="The screening category, e.g. violence.knife_crime or risk.vulnerability.")
    words: list[str] = Field(description="The words of the description that showed it, as normalised (lower case).")
    adds_flags: list[str]
    adds_markers: list[str]
    describes: str | None = Field(
        default=None,
        description="The outside-remit call type (WMP 2.8.3 incident type) the description describes, decided as well as the call's own; "
        "null when it describes none or the call type already covers it.",
    )


class EscalationOut(BaseModel):
    parent_id: str
    previous_decision: DecisionCode
    direction: EscalationDirection
    risk_lowered_by: list[str] = Field(description="Changes that lowered the risk; only these can loosen a decision.")
    instructions: list[FindingOut] = Field(
        description="What the PCSO must do now when the deployment is no longer within the remit."
    )


class SummaryOut(BaseModel):
    headline: str = Field(
        max_length=99,
        description="The decision in words, the deciding reason in a few words and its clause, e.g. "
        "'Do not deploy: knife crime incident is not a PCSO first response (WMP 2.8.3)'.",
        examples=["Deploy with conditions: 1 condition (WMP 2.7.3)"],
    )
    lines: list[str] = Field(
        description="One line per condition, then per prohibition, then per withdrawal trigger: its short form and "
        "clause label, each under 100 characters."
    )


class AssessmentResponse(BaseModel):
    assessment_id: str
    decided_at: datetime
    decision: DecisionCode
    may_assign: bool
    summary: SummaryOut | None = Field(
        default=None,
        description="The decision at a glance, for the dispatcher's screen. Present on every decision; null only on "
        "records made before summaries were answered.",
    )
    task: Task
    officer_id: str
    call_reference: str | None
    reasons: list[FindingOut] = Field(
        description="Deciding reason first. A refusal or referral gives only the reasons that refuse or refer."
    )
    conditions: list[FindingOut] = Field(
        description="What to pass on to the PCSO. Empty when the decision is not a deployment (may_assign false)."
    )
    superseded: list[FindingOut] = Field(
        default_factory=list,
        description="For a refusal or referral: the findings it overrides, kept for the record and not to be passed on "
        "(the reasons the task would otherwise be allowed, and the conditions a deployment would have carried).",
    )
    limits: LimitsOut
    alternatives: list[AlternativeOut]
    policy: PolicyRefOut
    warnings: list[WarningOut]
    screening: list[ScreeningOut]
    abstraction_id: str | None = Field(
        default=None, description="The abstraction record this deployment created, pending authorisation (WMP 1.3)."
    )
    candidates_id: str | None = Field(default=None, description="The candidates request this decision was part of.")
    escalation: EscalationOut | None = Field(
        default=None, description="For an escalation: what changed against the decision it follows."
    )


class CompactPolicyOut(BaseModel):
    id: str
    version: str
    digest: str


class CompactEscalationOut(BaseModel):
    parent_id: str
    previous_decision: DecisionCode
    direction: EscalationDirection


class CompactAssessmentResponse(BaseModel):
    """The compact view (`?view=compact`) of a decision, for a CAD screen: under 1.5 KB of JSON."""

    view: Literal["compact"]
    assessment_id: str
    decision: DecisionCode
    may_assign: bool
    officer_id: str
    summary: SummaryOut = Field(
        description="As in the full view; when the lines would take the answer over 1.5 KB the last ones give way to "
        "a line '+N more in the full view'."
    )
    codes: list[str] = Field(description="The finding codes of the reasons (deciding first), then of the conditions.")
    clauses: list[str] = Field(description="The clause label of each code, in the same order (long labels abbreviated).")
    policy: CompactPolicyOut
    abstraction_id: str | None = Field(description="The abstraction record this deployment created, if any (WMP 1.3).")
    escalation: CompactEscalationOut | None = Field(description="For an escalation: the decision it follows.")


class AssessmentRecordOut(BaseModel):
    assessment_id: str
    kind: RecordKind
    sequence: int = Field(description="Sequence number over every chain: the order records were committed in.")
    chain: str = Field(
        description="The audit chain the record belongs to: its force's (`~shared` for records written before one chain per force)."
    )
    chain_sequence: int = Field(
        description="Position in that chain (GET /v1/audit/verify?force=...&from_seq=... checks from here)."
    )
    recorded_at: datetime
    caller_role: str
    parent_id: str | None = Field(description="For an escalation, the assessment it follows.")
    digest: str = Field(description="The record's digest in its audit chain.")
    request: AssessmentRequest = Field(
        description="The request as decided, every default filled in; for an escalation, the original request with the "
        "changes applied."
    )
    response: AssessmentResponse


class AssessmentQuery(RecordedWindow):
    """Filters for listing recorded decisions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    force: Identifier | None = Field(default=None, max_length=64)
    decision: DecisionCode | None = None
    officer_id: Identifier | None = Field(default=None, max_length=64)
    cursor: str | None = Field(default=None, max_length=200, description="next_cursor from the previous page, unchanged.")
    limit: int = Field(default=50, ge=1, le=500)


class AssessmentSummary(Out):
    assessment_id: str = Field(validation_alias="id")
    sequence: int = Field(validation_alias="seq")
    kind: RecordKind
    recorded_at: datetime
    force: str | None
    task: Task | None
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


class EscalationRequest(Strict):
    """What changed during the deployment. Flags and markers are added; cleared ones count as lowering the risk."""

    flags: list[Flag] = Field(default_factory=list, max_length=10, description="Flags now reported, added to the call's.")
    markers: list[Marker] = Field(default_factory=list, max_length=10, description="Location markers now known, added.")
    clear_flags: list[Flag] = Field(
        default_factory=list, max_length=10, description="Flags that no longer apply (lowers the risk)."
    )
    clear_markers: list[Marker] = Field(
        default_factory=list, max_length=10, description="Markers that no longer apply (lowers the risk)."
    )
    risk_level: RiskLevel | None = None
    phase: Phase | None = None
    grade: Grade | None = None
    description: FreeText | None = Field(
        default=None, min_length=1, max_length=4000, description="The new narrative; risk words found earlier are kept as flags."
    )
