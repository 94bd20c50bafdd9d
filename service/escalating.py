"""Escalate a recorded deployment: what changed, a fresh decision, and what the PCSO must do now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from service.api.access import Caller
from service.api.schemas import AssessmentRequest, EscalationRequest
from service.assessing import abstraction_for, checked_request, policy_for, record_entry, visible_record
from service.engine.escalate import escalate
from service.engine.policy import PolicyRegistry
from service.errors import InvalidRequest
from service.idempotent import Completion
from service.observability import note_decision
from service.store.records import AuditStore
from service.wire import decision_document, escalation_document, to_json
from starlette.concurrency import run_in_threadpool


def changed_request(original: AssessmentRequest, change: EscalationRequest, carried_flags: set[str], carried_markers: set[str]) -> AssessmentRequest:
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
            "location": location.model_copy(update={"markers": sorted(markers), "risk_level": change.risk_level or location.risk_level}),
        }
    )


async def escalate_assessment(
    parent_id: str,
    change: EscalationRequest,
    *,
    registry: PolicyRegistry,
    store: AuditStore,
    caller: Caller,
    now: datetime,
    new_id: Callable[[], str],
    completion: Completion | None = None,
) -> tuple[int, str]:
    """Decide the changed deployment, record it linked to its parent; returns the status and recorded JSON."""
    if change == EscalationRequest():
        raise InvalidRequest("Nothing changed: give at least one of flags, markers, clear_flags, clear_markers, risk_level, phase, grade, description.")
    parent = await run_in_threadpool(visible_record, store, parent_id, caller=caller)
    original = AssessmentRequest.model_validate(parent.request)
    policy = policy_for(registry, original.force)
    screening = parent.response.get("screening", [])
    carried_flags = {flag for hit in screening for flag in hit["adds_flags"]}
    carried_markers = {marker for hit in screening for marker in hit["adds_markers"]}
    updated = changed_request(original, change, carried_flags, carried_markers)
    before = checked_request(policy, changed_request(original, EscalationRequest(), carried_flags, carried_markers))
    decision, escalation = escalate(
        policy, parent_id=parent.id, before=before, previous_decision=parent.response["decision"],
        after=checked_request(policy, updated), now=now,
    )
    record_id = new_id()
    abstraction = abstraction_for(decision, updated, new_id=new_id) if not parent.response.get("abstraction_id") else None
    payload = to_json(
        decision_document(
            decision,
            assessment_id=record_id,
            officer_id=updated.officer.id,
            call_reference=updated.call.reference,
            abstraction_id=abstraction[0] if abstraction else parent.response.get("abstraction_id"),
            escalation=escalation_document(escalation),
        )
    )
    await store.append_async(
        record_entry(
            kind="escalation", record_id=record_id, body=updated, decision=decision, policy=policy, caller=caller,
            now=now, payload=payload, parent_id=parent.id, abstraction=abstraction,
            side_effects=(completion(200, payload),) if completion else (),
        )
    )
    note_decision(force=policy.id, decision=decision.decision, policy_version=policy.version, officer_id=updated.officer.id)
    return 200, payload
