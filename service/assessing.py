"""Assess a request: decide, record durably, and only then hand back the answer."""

from __future__ import annotations

from datetime import datetime

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
from service.store.chain import NewEntry
from service.store.records import AuditStore, RecordFilter, decode_cursor, encode_cursor


def policy_for(registry: PolicyRegistry, force: str, *, field: str | None = None) -> PolicySet:
    """The force's policy set, or a 404 problem naming the known forces."""
    policy = registry.get(force)
    if policy is None:
        known = ", ".join(sorted(registry.sets))
        errors = [{"field": field, "message": f"Unknown force '{force}'; known: {known}.", "code": "unknown_force"}] if field else None
        raise NotFound(f"No policy set for force '{force}'. Known forces: {known}.", errors=errors)
    return policy


def assess(
    body: AssessmentRequest,
    *,
    registry: PolicyRegistry,
    store: AuditStore,
    caller: Caller,
    now: datetime,
    assessment_id: str,
) -> str:
    """Decide and record one assessment; returns the JSON body that was recorded."""
    policy = policy_for(registry, body.force, field="force")
    request = body.to_engine()
    problems = check_request(policy, request)
    if problems:
        raise InvalidRequest(
            "The officer's designated powers include codes that are not acceptable.",
            errors=[{"field": field_path(p.field[1:]), "message": p.message, "code": p.code} for p in problems],
        )
    decision = decide(policy, request, now=now)
    response = to_response(decision, assessment_id=assessment_id, officer_id=body.officer.id, call_reference=body.call.reference)
    payload = response.model_dump_json()
    store.append(
        NewEntry(
            id=assessment_id,
            kind="assessment",
            recorded_at=now,
            force=policy.id,
            task=body.task,
            call_type=body.call.type,
            call_reference=body.call.reference,
            officer_id=body.officer.id,
            decision=decision.decision,
            policy_id=policy.id,
            policy_version=policy.version,
            policy_digest=policy.digest,
            caller_role=caller.role,
            caller_key_id=caller.key_id,
            request_json=body.model_dump_json(),
            response_json=payload,
        )
    )
    return payload


def to_response(decision: Decision, *, assessment_id: str, officer_id: str, call_reference: str | None) -> AssessmentResponse:
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
        },
        from_attributes=True,
    )


def read_assessment(store: AuditStore, assessment_id: str, *, caller: Caller) -> AssessmentRecordOut:
    """A recorded assessment; dispatchers see only those their own key recorded."""
    stored = store.get(assessment_id)
    visible = stored is not None and (
        caller.may(Permission.READ_ALL_ASSESSMENTS) or stored.caller_key_id == caller.key_id
    )
    if not visible:
        raise NotFound(f"No assessment '{assessment_id}' that this key may read.")
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
