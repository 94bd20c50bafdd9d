"""Wire vocabulary and the models every resource shares: citations, findings, problems.

The schemas package is a leaf: it imports only the engine's vocabularies, so routes and actions
both depend on it and it depends on neither.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

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


_NUMBER = re.compile(r"\s*[-+]?\d+(?:\.\d*)?\s*")


def _iso_8601(value: object) -> object:
    """A date-time in a JSON body is an ISO 8601 string (or, from Python, a datetime); never a number."""
    if isinstance(value, datetime) or (isinstance(value, str) and not _NUMBER.fullmatch(value)):
        return value
    raise PydanticCustomError("datetime_type", "Input should be an ISO 8601 date-time string")


# Strict body models still read date-times from JSON strings (strict mode alone would want a datetime object).
WireDatetime = Annotated[datetime, BeforeValidator(_iso_8601), Field(strict=False)]


# A JSON request body: unknown fields refused and nothing coerced (no "true" or 1 for true, no "5" for 5,
# no "LOW" for "low"). Comments, not docstrings, so that the OpenAPI descriptions do not change.
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# Query parameters: unknown ones refused; every value arrives as a string, so "true" and "5" are parsed.
class QueryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class PolicyRefOut(Out):
    id: str
    name: str
    document: str
    version: str
    effective_from: date
    review_due: date
    digest: str
    past_review_date: bool


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
