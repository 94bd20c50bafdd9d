"""Fast wire form of a decision: plain dicts serialised in one call.

Building the pydantic response models from the engine's dataclasses for every decision costs
more than deciding. This builds the same JSON directly; `AssessmentResponse` stays the documented
schema, and a test checks that both give the same document for every decision case.
"""

from __future__ import annotations

from typing import Any

import pydantic_core

from service.engine.assessment import Alternative, Decision, Finding, PowerRef, ScreeningHit, Warning
from service.engine.policy import Citation


def _citation(citation: Citation) -> dict[str, Any]:
    return {
        "policy": citation.policy,
        "document": citation.document,
        "document_id": citation.document_id,
        "clause": citation.clause,
        "quote": citation.quote,
        "label": citation.label,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {"code": finding.code, "effect": finding.effect, "message": finding.message, "citation": _citation(finding.citation)}


def _power(power: PowerRef) -> dict[str, Any]:
    return {"code": power.code, "name": power.name, "legal_basis": power.legal_basis}


def _alternative(alternative: Alternative) -> dict[str, Any]:
    return {
        "task": alternative.task,
        "phase": alternative.phase,
        "decision": alternative.decision,
        "message": alternative.message,
        "citation": _citation(alternative.citation),
    }


def _warning(warning: Warning) -> dict[str, Any]:
    return {"code": warning.code, "message": warning.message, "citations": [_citation(c) for c in warning.citations]}


def _screening(hit: ScreeningHit) -> dict[str, Any]:
    return {
        "category": hit.category,
        "words": list(hit.words),
        "adds_flags": list(hit.adds_flags),
        "adds_markers": list(hit.adds_markers),
        "describes": hit.describes,
    }


def decision_document(
    decision: Decision,
    *,
    assessment_id: str,
    officer_id: str,
    call_reference: str | None,
    abstraction_id: str | None = None,
    candidates_id: str | None = None,
    escalation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The AssessmentResponse document for a decision, as plain data."""
    limits = decision.limits
    policy = decision.policy
    return {
        "assessment_id": assessment_id,
        "decided_at": decision.decided_at,
        "decision": decision.decision,
        "may_assign": decision.may_assign,
        "task": decision.task,
        "officer_id": officer_id,
        "call_reference": call_reference,
        "reasons": [_finding(f) for f in decision.reasons],
        "conditions": [_finding(f) for f in decision.conditions],
        "limits": {
            "permitted_tasks": list(limits.permitted_tasks),
            "powers_available": [_power(p) for p in limits.powers_available],
            "powers_not_held": [_power(p) for p in limits.powers_not_held],
            "powers_suspended": [_power(p) for p in limits.powers_suspended],
            "prohibited": [_finding(f) for f in limits.prohibited],
            "withdraw_when": list(limits.withdraw_when),
            "withdrawal": [_finding(f) for f in limits.withdrawal],
            "transport": limits.transport,
            "transport_basis": [_finding(f) for f in limits.transport_basis],
        },
        "alternatives": [_alternative(a) for a in decision.alternatives],
        "policy": {
            "id": policy.id,
            "name": policy.name,
            "document": policy.document,
            "version": policy.version,
            "effective_from": policy.effective_from,
            "review_due": policy.review_due,
            "digest": policy.digest,
            "past_review_date": policy.past_review_date,
        },
        "warnings": [_warning(w) for w in decision.warnings],
        "screening": [_screening(h) for h in decision.screening],
        "abstraction_id": abstraction_id,
        "candidates_id": candidates_id,
        "escalation": escalation,
    }


def escalation_document(escalation: Any) -> dict[str, Any]:
    return {
        "parent_id": escalation.parent_id,
        "previous_decision": escalation.previous_decision,
        "direction": escalation.direction,
        "risk_lowered_by": list(escalation.risk_lowered_by),
        "instructions": [_finding(f) for f in escalation.instructions],
    }


def to_json(document: Any) -> str:
    """Serialise as the response models would (UTC datetimes with 'Z', ISO dates)."""
    return pydantic_core.to_json(document).decode("utf-8")
