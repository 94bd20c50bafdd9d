"""Wire models of POST /v1/candidates."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.api.schemas.assessments import (
    AssessmentResponse,
    CallIn,
    CompactAssessmentResponse,
    CompactPolicyOut,
    LocationIn,
    OfficerIn,
)
from service.api.schemas.common import DecisionCode, FindingOut, Identifier, PolicyRefOut, Strict, Task


class CandidatesRequest(Strict):
    force: Identifier = Field(min_length=1, max_length=64)
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
    abstraction: bool | None = Field(
        description="Whether sending this officer abstracts them from their home LPA or neighbourhood."
    )
    place_reasons: list[str] = Field(description="Why this officer is at this place in the ranking.")
    assessment: AssessmentResponse = Field(
        description="This officer's decision document, as POST /v1/assessments answers it and as recorded (summary included)."
    )


class CandidatesResponse(BaseModel):
    candidates_id: str
    decided_at: datetime
    force: str
    task: Task
    call_type: str
    deployable: int
    policy: PolicyRefOut
    candidates: list[CandidateOut]


class CompactCandidateOut(BaseModel):
    rank: int
    officer_id: str
    assessment: CompactAssessmentResponse = Field(description="This officer's decision in the compact view.")


class CompactCandidatesResponse(BaseModel):
    """The compact view (`?view=compact`) of a candidates answer: each officer's decision in its compact view."""

    view: Literal["compact"]
    candidates_id: str
    force: str
    call_type: str
    deployable: int
    policy: CompactPolicyOut
    candidates: list[CompactCandidateOut]
