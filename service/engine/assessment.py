"""Engine inputs and outputs: plain frozen values, independent of the wire and the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from service.engine.policy import Citation
from service.engine.screening import ScreeningHit

__all__ = ["ScreeningHit"]  # defined with the screener; part of a Decision


@dataclass(frozen=True, slots=True)
class CallInput:
    type: str
    phase: str = "in_progress"
    grade: str | None = None
    flags: frozenset[str] = frozenset()
    description: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class LocationInput:
    risk_level: str
    markers: frozenset[str] = frozenset()
    setting: str = "urban"
    lpa: str | None = None
    neighbourhood: str | None = None


@dataclass(frozen=True, slots=True)
class OfficerInput:
    id: str
    designated_powers: tuple[str, ...] = ()
    training_status: str = "independent"
    in_uniform: bool = True
    authorised_driver: bool = False
    cycle_trained: bool = False
    home_lpa: str | None = None
    home_neighbourhood: str | None = None


@dataclass(frozen=True, slots=True)
class AssessmentInput:
    force: str
    call: CallInput
    location: LocationInput
    officer: OfficerInput
    task: str = "attend"


@dataclass(frozen=True, slots=True)
class Finding:
    """A reason, condition, prohibition or withdrawal trigger, with the clause behind it."""

    code: str
    effect: str
    message: str
    citation: Citation


@dataclass(frozen=True, slots=True)
class PowerRef:
    code: str
    name: str
    legal_basis: str


@dataclass(frozen=True, slots=True)
class Limits:
    permitted_tasks: tuple[str, ...]
    powers_available: tuple[PowerRef, ...]
    powers_not_held: tuple[PowerRef, ...]
    powers_suspended: tuple[PowerRef, ...]
    prohibited: tuple[Finding, ...]
    withdraw_when: tuple[str, ...]
    withdrawal: tuple[Finding, ...]
    transport: str
    transport_basis: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Alternative:
    task: str
    phase: str
    decision: str
    message: str
    citation: Citation


@dataclass(frozen=True, slots=True)
class PolicyRef:
    id: str
    name: str
    document: str
    version: str
    effective_from: date
    review_due: date
    digest: str
    past_review_date: bool


@dataclass(frozen=True, slots=True)
class Warning:
    code: str
    message: str
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str
    may_assign: bool
    decided_at: datetime
    task: str
    reasons: tuple[Finding, ...]
    conditions: tuple[Finding, ...]
    limits: Limits
    alternatives: tuple[Alternative, ...]
    policy: PolicyRef
    warnings: tuple[Warning, ...]
    screening: tuple[ScreeningHit, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """A request field that is well-formed but not acceptable under the policy (a 422)."""

    field: tuple[str | int, ...]
    message: str
    code: str
