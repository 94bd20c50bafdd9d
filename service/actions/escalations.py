"""Escalate a recorded deployment: what changed, a fresh decision, and what the PCSO must do now."""

from __future__ import annotations

import asyncio
from datetime import datetime

from service.actions.access import Caller
from service.actions.assessments import visible_record
from service.actions.decisions import Recording, checked_request, prepare, record
from service.actions.documents import escalation_document
from service.actions.policies import policy_at
from service.api.schemas.assessments import AssessmentRequest, EscalationRequest
from service.engine.assessment import AssessmentInput, Decision
from service.engine.escalate import escalate
from service.engine.policy import PolicySet
from service.errors import InvalidRequest
from service.store.records import AuditStore, StoredRecord


def changed_request(
    original: AssessmentRequest, change: EscalationRequest, carried_flags: set[str], carried_markers: set[str]
) -> AssessmentRequest:
    """The deployment as it stands after the change; risk read from earlier descriptions is kept."""
    call = original.call
    location = original.location
    flags = (set(call.flags) | carried_flags | set(change.flags)) - set(change.clear_flags)
    markers = (set(location.markers) | carried_markers | set(change.markers)) - set(change.clear_markers)
    return original.model_copy(
        update={
            "call": call.model_copy(
                update={
                    "flags": sorted(flags),
                    "phase": change.phase or call.phase,
                    "grade": change.grade or call.grade,
                    "description": change.description or call.description,
                }
            ),
            "location": location.model_copy(
                update={"markers": sorted(markers), "risk_level": change.risk_level or location.risk_level}
            ),
        }
    )


def _carried(parent: StoredRecord) -> tuple[set[str], set[str]]:
    """The flags and markers the parent's description added: risk read earlier is kept."""
    screening = parent.response.get("screening", [])
    return {flag for hit in screening for flag in hit["adds_flags"]}, {m for hit in screening for m in hit["adds_markers"]}


def _before_and_after(
    parent: StoredRecord, original: AssessmentRequest, updated: AssessmentRequest, policy: PolicySet
) -> tuple[AssessmentInput, AssessmentInput]:
    before = checked_request(policy, changed_request(original, EscalationRequest(), *_carried(parent)))
    return before, checked_request(policy, updated)


def redecide_escalation(policy: PolicySet, parent: StoredRecord, updated: AssessmentRequest, *, now: datetime) -> Decision:
    """A recorded escalation decided again, as escalate_assessment decided it."""
    original = AssessmentRequest.model_validate(parent.request)
    before, after = _before_and_after(parent, original, updated, policy)
    decision, _ = escalate(
        policy, parent_id=parent.id, before=before, previous_decision=parent.response["decision"], after=after, now=now
    )
    return decision


async def writable_parent(store: AuditStore, parent_id: str, *, caller: Caller) -> StoredRecord:
    """The decision an escalation follows, if this caller may escalate it: a 404 when it cannot read
    it, a 403 naming the force when it is another force's."""
    return await asyncio.to_thread(visible_record, store, parent_id, caller=caller, writing=True)


async def escalate_assessment(parent_id: str, change: EscalationRequest, recording: Recording) -> tuple[int, str]:
    """Decide the changed deployment, record it linked to its parent; returns the status and recorded JSON."""
    if change == EscalationRequest():
        raise InvalidRequest(
            "Nothing changed: give at least one of flags, markers, clear_flags, clear_markers, risk_level, phase, grade, description.",
            errors=[{"field": "body", "message": "no change given", "code": "nothing_changed"}],
        )
    parent = await writable_parent(recording.store, parent_id, caller=recording.caller)
    original = AssessmentRequest.model_validate(parent.request)
    # The call is the same: the version in force when it was received decides it again.
    policy = policy_at(recording.registry, original.force, original.call.received_at or parent.recorded_at)
    updated = changed_request(original, change, *_carried(parent))
    before, after = _before_and_after(parent, original, updated, policy)
    decision, escalation = escalate(
        policy, parent_id=parent.id, before=before, previous_decision=parent.response["decision"], after=after, now=recording.now
    )
    prepared = prepare(
        updated,
        decision,
        policy=policy,
        recording=recording,
        kind="escalation",
        parent_id=parent.id,
        abstraction_id=parent.response.get("abstraction_id"),
        escalation=escalation_document(escalation),
    )
    return await record(recording, [prepared], answer=prepared.answer)
