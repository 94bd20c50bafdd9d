"""Fast wire form of a decision: plain dicts serialised in one call.

Building the pydantic response models from the engine's dataclasses for every decision costs
more than deciding. This builds the same JSON directly; `AssessmentResponse` stays the documented
schema, and a test checks that both give the same document for every decision case.

The full document is what is recorded and replayed; the compact view a CAD screen asks for is
derived from it on the way out (`compact_document`, `compact_candidates`), so a replay of the
same request gives the same bytes in either view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
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


DECISION_WORDS = {
    "deploy": "Deploy",
    "deploy_with_conditions": "Deploy with conditions",
    "refer_to_supervisor": "Refer to supervisor",
    "do_not_deploy": "Do not deploy",
}
HEADLINE_MAX = 99  # characters: one line of a CAD screen
LINE_MAX = 99
LABEL_MAX = 24  # longer clause labels (APP headings, legislation) are abbreviated in the summary
CLAUSE_MAX = 30
COMPACT_MAX = 1500  # bytes of JSON: the compact view of one decision fits a CAD screen
_LEGAL_WORDS = {"Schedule": "Sch", "Section": "s", "section": "s", "paragraphs": "paras", "paragraph": "para"}


def short_label(label: str, clause: str) -> str:
    """A citation's label, abbreviated when long: 'College of Policing APP Custody' -> 'APP Custody', 'Police Reform
    Act 2002 Schedule 3B, ...' -> 'PRA 2002 Sch 3B, ...', a long clause heading cut short."""
    if len(label) <= LABEL_MAX or not label.endswith(clause):
        return label
    words = label[: len(label) - len(clause)].split()
    first_acronym = next((i for i, w in enumerate(words) if len(w) > 1 and w.isupper()), None)
    if first_acronym is not None:
        source = " ".join(words[first_acronym:])
    else:
        initials = "".join(w[0] for w in words if w[:1].isupper())
        source = " ".join([initials, *(w for w in words if w.isdigit())])
    short = " ".join(_LEGAL_WORDS.get(w, w) for w in clause.split()).rstrip(":")
    return f"{source} {_clip(short, CLAUSE_MAX)}".strip()


def _clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:(")
    return cut + "\u2026"


def _short_form(finding: Finding) -> str:
    """A finding in a few words: its code read as words ('no_arrest_or_search' -> 'No arrest or search')."""
    words = finding.code.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _head(text: str) -> str:
    """``text`` up to its first ': ', '; ' or '. ' outside parentheses and quotes."""
    depth, quoted = 0, False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char in ":;." and not depth and not quoted and text[index + 1 : index + 2] == " ":
            return text[:index]
    return text


def _lead(message: str) -> str:
    """The leading clause of a message ('A weapon is reported: not a ...' -> 'a weapon is reported')."""
    lead = message.strip().rstrip(".")
    head = _head(lead)
    if len(head) >= 12:  # a heading such as 'ASB' is too short to stand alone
        lead = head
    return lead if lead[1:2].isupper() else lead[:1].lower() + lead[1:]


def summary_line(finding: Finding) -> str:
    """One line for a condition, prohibition or withdrawal trigger: its short form and clause label."""
    label = f" ({short_label(finding.citation.label, finding.citation.clause)})"
    return _clip(_short_form(finding), LINE_MAX - len(label)) + label


def decision_summary(decision: Decision, *, reasons: tuple[Finding, ...], conditions: tuple[Finding, ...]) -> dict[str, Any]:
    """The at-a-glance form of a decision: a headline (decision in words, the deciding reason in a few words, its
    clause) and one line per condition, prohibition and withdrawal trigger, each under 100 characters.

    ``reasons`` and ``conditions`` are those the document carries (a refusal carries no conditions)."""
    words = DECISION_WORDS[decision.decision]
    deciding = reasons[0] if reasons else None
    label = f" ({short_label(deciding.citation.label, deciding.citation.clause)})" if deciding else ""
    if decision.decision == "deploy_with_conditions" and len(conditions) == 1:
        # One condition is named, with its own clause.
        reason = _short_form(conditions[0]).lower()
        label = f" ({short_label(conditions[0].citation.label, conditions[0].citation.clause)})"
    elif decision.decision == "deploy_with_conditions":
        reason = f"{len(conditions)} conditions"
    elif deciding is not None:
        reason = _lead(deciding.message)
        if len(words) + 2 + len(reason) + len(label) > HEADLINE_MAX:
            reason = _short_form(deciding).lower()
    else:
        reason = ""
    budget = HEADLINE_MAX - len(words) - 2 - len(label)
    headline = f"{words}: {_clip(reason, budget)}{label}" if reason else words
    limits = decision.limits
    lines = [summary_line(f) for f in (*conditions, *limits.prohibited, *limits.withdrawal)]
    return {"headline": headline, "lines": lines}


def _in_force(decision: Decision) -> tuple[tuple[Finding, ...], tuple[Finding, ...], tuple[Finding, ...]]:
    """(reasons, conditions, superseded). A refusal or referral carries no deployment conditions and no reason
    that only says why it would otherwise have been allowed; those are kept apart, for the record."""
    if decision.may_assign:
        return decision.reasons, decision.conditions, ()
    reasons = tuple(f for f in decision.reasons if f.effect != "permit")
    permits = tuple(f for f in decision.reasons if f.effect == "permit")
    return reasons, (), (*permits, *decision.conditions)


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
    reasons, conditions, superseded = _in_force(decision)
    return {
        "assessment_id": assessment_id,
        "decided_at": decision.decided_at,
        "decision": decision.decision,
        "may_assign": decision.may_assign,
        "summary": decision_summary(decision, reasons=reasons, conditions=conditions),
        "task": decision.task,
        "officer_id": officer_id,
        "call_reference": call_reference,
        "reasons": [_finding(f) for f in reasons],
        "conditions": [_finding(f) for f in conditions],
        "superseded": [_finding(f) for f in superseded],
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


# The parts of a decision document that differ between requests with the same decision, in document order.
_SLOT = "\x00pcso-slot\x00"
_SLOT_JSON = pydantic_core.to_json(_SLOT).decode("utf-8")
_SLOTS = ("assessment_id", "decided_at", "officer_id", "call_reference", "abstraction_id", "candidates_id", "escalation")


@dataclass(frozen=True, slots=True)
class WireTemplate:
    """A decision's document as JSON text with a gap for each per-request value (the ids, the time,
    the escalation): filled in, it gives the bytes that ``to_json(decision_document(...))`` gives, for
    a few string joins instead of building and serialising the whole document again."""

    pieces: tuple[str, ...]  # len(_SLOTS) + 1 texts around the gaps; () when the text could not be split
    decision: Decision

    @classmethod
    def of(cls, decision: Decision) -> WireTemplate:
        slots: dict[str, Any] = dict.fromkeys(_SLOTS, _SLOT)
        del slots["decided_at"]
        document = decision_document(decision, **slots)
        document["decided_at"] = _SLOT
        pieces = tuple(to_json(document).split(_SLOT_JSON))
        # The gap marker holds NULs, which reach a document only escaped; if a value still held it the
        # text is not split, and each render builds the whole document.
        return cls(pieces if len(pieces) == len(_SLOTS) + 1 else (), decision)

    def render(
        self,
        *,
        decided_at: datetime,
        assessment_id: str,
        officer_id: str,
        call_reference: str | None,
        abstraction_id: str | None = None,
        candidates_id: str | None = None,
        escalation: dict[str, Any] | None = None,
    ) -> str:
        """The document's JSON with these values: the same text as ``to_json(decision_document(...))``."""
        ids: dict[str, Any] = {
            "assessment_id": assessment_id,
            "officer_id": officer_id,
            "call_reference": call_reference,
            "abstraction_id": abstraction_id,
            "candidates_id": candidates_id,
            "escalation": escalation,
        }
        if not self.pieces:
            return to_json(decision_document(replace(self.decision, decided_at=decided_at), **ids))
        values = ids | {"decided_at": decided_at}
        parts = [self.pieces[0]]
        for name, piece in zip(_SLOTS, self.pieces[1:], strict=True):
            parts.append(to_json(values[name]))
            parts.append(piece)
        return "".join(parts)


def escalation_document(escalation: Any) -> dict[str, Any]:
    return {
        "parent_id": escalation.parent_id,
        "previous_decision": escalation.previous_decision,
        "direction": escalation.direction,
        "risk_lowered_by": list(escalation.risk_lowered_by),
        "instructions": [_finding(f) for f in escalation.instructions],
    }


def _labels(findings: list[dict[str, Any]]) -> list[str]:
    return [short_label(finding["citation"]["label"], finding["citation"]["clause"]) for finding in findings]


def compact_document(document: dict[str, Any]) -> dict[str, Any]:
    """The compact view of a decision document (an assessment, an escalation or a candidate's): the decision,
    its summary, the finding codes (reasons, then conditions) with their clause labels, the ids and the policy
    version and digest; under COMPACT_MAX bytes as JSON (the last summary lines give way to a count if need be)."""
    compact = _compact(document)
    lines = compact["summary"]["lines"]
    for dropped in range(1, len(lines) + 1):
        if len(to_json(compact).encode("utf-8")) < COMPACT_MAX:
            break
        compact["summary"] = {**compact["summary"], "lines": [*lines[:-dropped], f"+{dropped} more in the full view"]}
    return compact


def _compact(document: dict[str, Any]) -> dict[str, Any]:
    findings = document["reasons"] + document["conditions"]
    policy = document["policy"]
    escalation = document.get("escalation")
    return {
        "view": "compact",
        "assessment_id": document["assessment_id"],
        "decision": document["decision"],
        "may_assign": document["may_assign"],
        "officer_id": document["officer_id"],
        "summary": document.get("summary") or {"headline": DECISION_WORDS[document["decision"]], "lines": []},
        "codes": [finding["code"] for finding in findings],
        "clauses": _labels(findings),
        "policy": {"id": policy["id"], "version": policy["version"], "digest": policy["digest"]},
        "abstraction_id": document.get("abstraction_id"),
        "escalation": ({key: escalation[key] for key in ("parent_id", "previous_decision", "direction")} if escalation else None),
    }


def compact_candidates(document: dict[str, Any]) -> dict[str, Any]:
    """The compact view of a candidates answer: each candidate's decision in its compact view, in rank order."""
    policy = document["policy"]
    return {
        "view": "compact",
        "candidates_id": document["candidates_id"],
        "force": document["force"],
        "call_type": document["call_type"],
        "deployable": document["deployable"],
        "policy": {"id": policy["id"], "version": policy["version"], "digest": policy["digest"]},
        "candidates": [
            {"rank": c["rank"], "officer_id": c["officer_id"], "assessment": compact_document(c["assessment"])}
            for c in document["candidates"]
        ],
    }


def to_json(document: Any) -> str:
    """Serialise as the response models would (UTC datetimes with 'Z', ISO dates)."""
    return pydantic_core.to_json(document).decode("utf-8")
