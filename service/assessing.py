"""Assess a request: decide, record durably, and only then hand back the answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from service.api.access import Caller, Permission
from service.api.schemas import (
    AssessmentPage,
    AssessmentQuery,
    AssessmentRecordOut,
    AssessmentRequest,
    AssessmentResponse,
    AssessmentSummary,
)
from service.engine.assessment import Decision
from service.engine.decide import check_request, decide
from service.engine.policy import PolicyRegistry, PolicySet
from service.errors import InvalidRequest, NotFound, field_path
from service.idempotent import Completion
from service.observability import note_decision
from service.store.chain import NewEntry
from service.store.records import AuditStore, RecordFilter, StoredRecord, decode_cursor, encode_cursor
from service.wire import decision_document, to_json

# Conditions that mean the deployment abstracts the officer (WMP 1.3), and the reason recorded.
ABSTRACTION_CONDITIONS = {
    "abstraction_out_of_area": "out_of_area",
    "abstraction_from_neighbourhood_duties": "non_neighbourhood_duty",
}


def policy_for(registry: PolicyRegistry, force: str, *, field: str | None = None) -> PolicySet:
    """The force's policy set, or a 404 problem naming the known forces."""
    policy = registry.get(force)
    if policy is None:
        known = ", ".join(sorted(registry.sets))
        errors = [{"field": field, "message": f"Unknown force '{force}'; known: {known}.", "code": "unknown_force"}] if field else None
        raise NotFound(f"No policy set for force '{force}'. Known forces: {known}.", errors=errors)
    return policy


def checked_request(policy: PolicySet, body: AssessmentRequest, *, officer_path: tuple[str | int, ...] = ("officer",)):
    """The engine input for a request, or a 422 naming powers the policy cannot accept (under ``officer_path``)."""
    request = body.to_engine()
    problems = check_request(policy, request)
    if problems:
        raise InvalidRequest(
            "The officer's designated powers include codes that are not acceptable.",
            errors=[{"field": field_path(officer_path + p.field[2:]), "message": p.message, "code": p.code} for p in problems],
        )
    return request


def to_response(
    decision: Decision, *, assessment_id: str, officer_id: str, call_reference: str | None, **extra: Any
) -> AssessmentResponse:
    """The wire form of an engine decision."""
    return AssessmentResponse.model_validate(
        {
            "assessment_id": assessment_id,
            "decided_at": decision.decided_at,
            "decision": decision.decision,
            "may_assign": decision.may_assign,
            "task": decision.task,
            "officer_id": officer_id,
            "call_reference": call_reference,
            "reasons": decision.reasons,
            "conditions": decision.conditions,
            "limits": decision.limits,
            "alternatives": decision.alternatives,
            "policy": decision.policy,
            "warnings": decision.warnings,
            "screening": decision.screening,
            **extra,
        },
        from_attributes=True,
    )


def abstraction_for(decision: Decision, body: AssessmentRequest, *, new_id: Callable[[], str]) -> tuple[str, str] | None:
    """(abstraction id, reason) when this deployment abstracts the officer, else None."""
    if not decision.may_assign:
        return None
    for condition in decision.conditions:
        reason = ABSTRACTION_CONDITIONS.get(condition.code)
        if reason:
            return new_id(), reason
    return None


def record_entry(
    *,
    kind: str,
    record_id: str,
    body: AssessmentRequest,
    decision: Decision,
    policy: PolicySet,
    caller: Caller,
    now: datetime,
    payload: str,
    parent_id: str | None = None,
    abstraction: tuple[str, str] | None = None,
    side_effects: tuple[Callable[[Connection], None], ...] = (),
) -> NewEntry:
    """The audit entry for one decision, with the abstraction row that must commit with it."""
    side_rows: tuple[tuple[str, dict[str, Any]], ...] = ()
    if abstraction is not None:
        side_rows = (
            (
                "abstraction",
                {
                    "id": abstraction[0], "force": policy.id, "officer_id": body.officer.id,
                    "home_lpa": body.officer.home_lpa, "home_neighbourhood": body.officer.home_neighbourhood,
                    "lpa": body.location.lpa, "neighbourhood": body.location.neighbourhood, "reason": abstraction[1],
                    "description": f"{body.task} for {body.call.type}" + (f" ({body.call.reference})" if body.call.reference else ""),
                    "source": "assessment", "assessment_id": record_id, "started_at": now, "hours": None,
                    "status": "pending", "authorised_by": None, "justification": None, "authorised_at": None,
                    "recorded_at": now, "recorded_by_role": caller.role,
                },
            ),
        )
    return NewEntry(
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
        caller_role=caller.role,
        caller_key_id=caller.key_id,
        request_json=body.model_dump_json(),
        response_json=payload,
        side_rows=side_rows,
        side_effects=side_effects,
    )


async def assess(
    body: AssessmentRequest,
    *,
    registry: PolicyRegistry,
    store: AuditStore,
    caller: Caller,
    now: datetime,
    new_id: Callable[[], str],
    completion: Completion | None = None,
) -> tuple[int, str]:
    """Decide and record one assessment; returns the status and the JSON body that was recorded."""
    policy = policy_for(registry, body.force, field="force")
    decision = decide(policy, checked_request(policy, body), now=now)
    assessment_id = new_id()
    abstraction = abstraction_for(decision, body, new_id=new_id)
    payload = to_json(
        decision_document(
            decision,
            assessment_id=assessment_id,
            officer_id=body.officer.id,
            call_reference=body.call.reference,
            abstraction_id=abstraction[0] if abstraction else None,
        )
    )
    await store.append_async(
        record_entry(
            kind="assessment", record_id=assessment_id, body=body, decision=decision, policy=policy, caller=caller,
            now=now, payload=payload, abstraction=abstraction, side_effects=(completion(200, payload),) if completion else (),
        )
    )
    note_decision(force=policy.id, decision=decision.decision, policy_version=policy.version, officer_id=body.officer.id)
    return 200, payload


def visible_record(store: AuditStore, record_id: str, *, caller: Caller) -> StoredRecord:
    """A recorded decision this caller may read (dispatchers: only their own key's), or a 404."""
    stored = store.get(record_id)
    if stored is None or not (caller.may(Permission.READ_ALL_ASSESSMENTS) or stored.caller_key_id == caller.key_id):
        raise NotFound(f"No assessment '{record_id}' that this key may read.")
    return stored


def read_assessment(store: AuditStore, assessment_id: str, *, caller: Caller) -> AssessmentRecordOut:
    """A recorded assessment or escalation with its request."""
    stored = visible_record(store, assessment_id, caller=caller)
    return AssessmentRecordOut(
        assessment_id=stored.id,
        kind=stored.kind,
        sequence=stored.seq,
        recorded_at=stored.recorded_at,
        caller_role=stored.caller_role,
        parent_id=stored.parent_id,
        digest=stored.digest,
        request=stored.request,
        response=AssessmentResponse.model_validate(stored.response),
    )


def list_assessments(store: AuditStore, query: AssessmentQuery, *, caller: Caller) -> AssessmentPage:
    """One page of recorded decisions, newest first; dispatchers see only their own key's."""
    own_only = not caller.may(Permission.READ_ALL_ASSESSMENTS)
    filters = RecordFilter(
        force=query.force,
        decision=query.decision,
        officer_id=query.officer_id,
        recorded_from=query.from_,
        recorded_to=query.to,
        caller_key_id=caller.key_id if own_only else None,
    )
    before = decode_cursor(query.cursor) if query.cursor else None
    page, next_before = store.list(filters, before_seq=before, limit=query.limit)
    return AssessmentPage(
        items=[AssessmentSummary.model_validate(item, from_attributes=True) for item in page],
        next_cursor=encode_cursor(next_before) if next_before is not None else None,
    )
