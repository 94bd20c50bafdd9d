"""Decide and record: the one path by which an engine decision becomes a recorded answer.

Assessments, escalations and candidates all come through here: each decision is turned into its
wire document and its audit entry (with the abstraction row it creates, if any), the entries are
appended to the chain together, and only once they are committed is the answer handed back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from service.actions.abstractions import pending
from service.actions.access import Caller
from service.actions.documents import WireTemplate
from service.actions.idempotency import Completion
from service.api.schemas.assessments import AssessmentRequest
from service.engine.assessment import AssessmentInput, Decision
from service.engine.decide import check_request, decide
from service.engine.policy import PolicyRegistry, PolicySet
from service.errors import InvalidRequest, field_path
from service.ops.context import note_decision
from service.store.chain import NewEntry
from service.store.digests import sha256
from service.store.records import AuditStore

# Conditions that mean the deployment abstracts the officer (WMP 1.3), and the reason recorded.
ABSTRACTION_CONDITIONS = {
    "abstraction_out_of_area": "out_of_area",
    "abstraction_from_neighbourhood_duties": "non_neighbourhood_duty",
}


def checked_request(
    policy: PolicySet, body: AssessmentRequest, *, officer_path: tuple[str | int, ...] = ("officer",)
) -> AssessmentInput:
    """The engine input for a request, or a 422 naming powers the policy cannot accept (under ``officer_path``)."""
    request = body.to_engine()
    problems = check_request(policy, request)
    if problems:
        raise InvalidRequest(
            "The officer's designated powers include codes that are not acceptable.",
            errors=[{"field": field_path(officer_path + p.field[2:]), "message": p.message, "code": p.code} for p in problems],
        )
    return request


def abstraction_reason(decision: Decision) -> str | None:
    """Why this deployment abstracts the officer (WMP 1.3), or None when it does not."""
    if not decision.may_assign:
        return None
    for condition in decision.conditions:
        reason = ABSTRACTION_CONDITIONS.get(condition.code)
        if reason:
            return reason
    return None


# Decisions kept by fact signature: a few thousand distinct situations cover a control room's day.
DECISION_CACHE_SIZE = 4096


def fact_signature(policy: PolicySet, request: AssessmentInput, *, now: datetime) -> Hashable:
    """What a decision depends on: the policy version, whether it is past its review date, and every
    input except those that only name the call and the officer (the call's reference, the officer's
    id) and the description, which counts through what screening reads in it (the flags, markers
    and incident types it adds, with the words quoted)."""
    hits = policy.screener.screen(request.call.description, call_type=request.call.type)
    anonymous = replace(
        request, call=replace(request.call, description=None, reference=None), officer=replace(request.officer, id="")
    )
    return (policy.id, policy.digest, policy.past_review(now.date()), anonymous, hits)


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision and its wire document with gaps for the ids and the time."""

    decision: Decision
    wire: WireTemplate

    @classmethod
    def of(cls, decision: Decision) -> Decided:
        return cls(decision, WireTemplate.of(decision))


class DecisionCache:
    """The engine's decisions by fact signature, least recently used dropped first.

    The engine is a pure function of the signature's parts (``decide`` is given the time only to
    stamp the decision and to tell whether the policy is past its review date, which the
    signature holds), so an answer kept here is the answer ``decide`` would give again: only
    ``decided_at`` is the new request's own. The same request with another officer id or call
    reference, or a description that screening reads the same way, reuses the decision and its
    wire text. Safe to use from worker threads (candidates are ranked in one).
    """

    def __init__(self, size: int = DECISION_CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Decided] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def decide(self, policy: PolicySet, request: AssessmentInput, *, now: datetime) -> Decided:
        """The decision for ``request`` at ``now``, as ``decide`` gives it."""
        if self.size <= 0:
            return Decided.of(decide(policy, request, now=now))
        key = fact_signature(policy, request, now=now)
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        if kept is not None:
            return Decided(replace(kept.decision, decided_at=now), kept.wire)
        decided = Decided.of(decide(policy, request, now=now))
        with self._lock:
            self.misses += 1
            self._entries[key] = decided
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return decided


# Every decision decided afresh: for recordings made without the app's cache.
UNCACHED = DecisionCache(size=0)


@dataclass(frozen=True, slots=True)
class Recording:
    """What a decide-and-record use case works with besides its input: the policy, the store, the
    caller, the time and ids, and the idempotency key to complete with the record (if any)."""

    registry: PolicyRegistry
    store: AuditStore
    caller: Caller
    now: datetime
    new_id: Callable[[], str]
    completion: Completion | None = None
    decisions: DecisionCache = UNCACHED

    def decide(self, policy: PolicySet, request: AssessmentInput) -> Decided:
        """The engine's decision for ``request`` now, through the decision cache."""
        return self.decisions.decide(policy, request, now=self.now)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One decision ready to record: its audit entry and the JSON answer that entry holds."""

    entry: NewEntry
    answer: str
    decision: Decision
    body: AssessmentRequest
    policy: PolicySet

    @property
    def assessment_id(self) -> str:
        return self.entry.id


def prepare(
    body: AssessmentRequest,
    decision: Decision | Decided,
    *,
    policy: PolicySet,
    recording: Recording,
    kind: str = "assessment",
    parent_id: str | None = None,
    abstraction_id: str | None = None,
    candidates_id: str | None = None,
    escalation: dict[str, Any] | None = None,
) -> Prepared:
    """The wire document and audit entry for one decision.

    A deployment that abstracts the officer creates a pending abstraction record, committed with
    the entry, unless ``abstraction_id`` names the one an earlier decision already created.
    """
    caller, now, new_id = recording.caller, recording.now, recording.new_id
    decided = decision if isinstance(decision, Decided) else Decided.of(decision)
    decision = decided.decision
    record_id = new_id()
    reason = abstraction_reason(decision) if abstraction_id is None else None
    created = new_id() if reason else None
    answer = decided.wire.render(
        decided_at=decision.decided_at,
        assessment_id=record_id,
        officer_id=body.officer.id,
        call_reference=body.call.reference,
        abstraction_id=created or abstraction_id,
        candidates_id=candidates_id,
        escalation=escalation,
    )
    side_rows = (
        (("abstraction", _abstraction_row(created, reason, body, policy, record_id, caller, now)),) if created and reason else ()
    )
    entry = NewEntry(
        id=record_id,
        kind=kind,
        recorded_at=now,
        force=policy.id,
        task=body.task,
        call_type=body.call.type,
        call_reference=body.call.reference,
        officer_id=body.officer.id,
        decision=decision.decision,
        parent_id=parent_id,
        policy_id=policy.id,
        policy_version=policy.version,
        policy_digest=policy.digest,
        **caller.audit_fields(),
        request_json=body.model_dump_json(),
        response_json=answer,
        side_rows=side_rows,
    )
    return Prepared(entry=entry, answer=answer, decision=decision, body=body, policy=policy)


def _abstraction_row(
    abstraction_id: str, reason: str, body: AssessmentRequest, policy: PolicySet, record_id: str, caller: Caller, now: datetime
) -> dict[str, Any]:
    reference = f" ({body.call.reference})" if body.call.reference else ""
    return {
        "id": abstraction_id,
        "force": policy.id,
        "officer_id": body.officer.id,
        "home_lpa": body.officer.home_lpa,
        "home_neighbourhood": body.officer.home_neighbourhood,
        "lpa": body.location.lpa,
        "neighbourhood": body.location.neighbourhood,
        "reason": reason,
        "description": f"{body.task} for {body.call.type}{reference}",
        "source": "assessment",
        "assessment_id": record_id,
        "started_at": now,
        "hours": None,
        **pending(now=now, role=caller.role),
    }


async def record(recording: Recording, decisions: Sequence[Prepared], *, answer: str) -> tuple[int, str]:
    """Commit the decisions' entries together (completing the idempotency key in the same
    transaction), then note them for the log and metrics; returns the status and ``answer``."""
    entries = [prepared.entry for prepared in decisions]
    if recording.completion is not None:
        # The answer a retry replays is covered by the last entry's digest.
        last = entries[-1]
        entries[-1] = replace(last, side_effects=(recording.completion(200, answer, last.id),), answer_digest=sha256(answer))
    await recording.store.append_async(*entries)
    for prepared in decisions:
        note_decision(
            force=prepared.policy.id,
            decision=prepared.decision.decision,
            policy_version=prepared.policy.version,
            officer_id=prepared.body.officer.id,
        )
    return 200, answer
