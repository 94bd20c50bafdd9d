"""Wire models of abstraction records and the monthly report (WMP 1.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from service.api.schemas.common import FreeText, Identifier, ShortText, Strict, WireDatetime

AbstractionReason = TypeAliasType("AbstractionReason", Literal["out_of_area", "non_neighbourhood_duty", "other"])


class AbstractionIn(Strict):
    force: Identifier = Field(min_length=1, max_length=64)
    officer_id: Identifier = Field(min_length=1, max_length=64)
    home_lpa: Identifier = Field(min_length=1, max_length=64)
    home_neighbourhood: Identifier | None = ShortText
    lpa: Identifier | None = ShortText
    neighbourhood: Identifier | None = ShortText
    reason: AbstractionReason
    description: FreeText | None = Field(default=None, max_length=500, description="What the officer was taken to do.")
    started_at: WireDatetime
    hours: float | None = Field(default=None, gt=0, le=24 * 31)


class AuthorisationIn(Strict):
    authorised_by: Identifier = Field(min_length=1, max_length=100, description="Name and rank of the supervisor authorising.")
    justification: FreeText = Field(min_length=1, max_length=1000)
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
