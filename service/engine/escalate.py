"""Escalation: a fresh decision for the same deployment after the situation changed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from service.engine.assessment import AssessmentInput, Decision, Finding, Warning
from service.engine.decide import decide
from service.engine.policy import DECISIONS, PolicySet

PHASE_RISK = {"scene_secured": 0, "recent": 1, "in_progress": 2}
RISK = {"low": 0, "medium": 1, "high": 2}
GRADE_RISK = {None: 0, "resolution_without_deployment": 1, "scheduled": 2, "priority": 3, "emergency": 4}


@dataclass(frozen=True, slots=True)
class Escalation:
    parent_id: str
    previous_decision: str
    direction: str  # stricter | unchanged | looser
    risk_lowered_by: tuple[str, ...]
    instructions: tuple[Finding, ...]


def risk_lowered_by(before: AssessmentInput, after: AssessmentInput) -> tuple[str, ...]:
    """The changes that lower the risk (only these may loosen a decision)."""
    lowered = []
    if PHASE_RISK[after.call.phase] < PHASE_RISK[before.call.phase]:
        lowered.append(f"phase {before.call.phase} -> {after.call.phase}")
    if RISK[after.location.risk_level] < RISK[before.location.risk_level]:
        lowered.append(f"risk level {before.location.risk_level} -> {after.location.risk_level}")
    if GRADE_RISK[after.call.grade] < GRADE_RISK[before.call.grade]:
        lowered.append(f"grade {before.call.grade} -> {after.call.grade}")
    lowered += [f"flag {flag} cleared" for flag in sorted(before.call.flags - after.call.flags)]
    lowered += [f"marker {marker} cleared" for marker in sorted(before.location.markers - after.location.markers)]
    return tuple(lowered)


def escalate(
    policy: PolicySet,
    *,
    parent_id: str,
    before: AssessmentInput,
    previous_decision: str,
    after: AssessmentInput,
    now: datetime,
) -> tuple[Decision, Escalation]:
    """Decide ``after``; never looser than ``previous_decision`` unless a change lowered the risk."""
    decision = decide(policy, after, now=now)
    lowered = risk_lowered_by(before, after)
    old, new = DECISIONS.index(previous_decision), DECISIONS.index(decision.decision)
    if new < old and not lowered:
        # Defensive: the rules are monotone, so this should not happen; hold the stricter answer.
        held = DECISIONS[old]
        decision = replace(
            decision,
            decision=held,
            may_assign=old <= 1,
            warnings=decision.warnings
            + (
                Warning(
                    "escalation_held_previous_decision",
                    f"Nothing in the change lowers the risk, so the previous decision ({held}) stands.",
                ),
            ),
        )
        new = old
    direction = "stricter" if new > old else "looser" if new < old else "unchanged"
    instructions = decision.limits.withdrawal if (old <= 1 and not decision.may_assign) else ()
    return decision, Escalation(parent_id, previous_decision, direction, lowered, instructions)
