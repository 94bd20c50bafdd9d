"""Assessments: decide and record one deployment, read it back, list what was recorded."""

from __future__ import annotations

from service.actions.access import Caller, Permission, require_force
from service.actions.decisions import Recording, checked_request, prepare, record
from service.actions.policies import call_time, policy_at
from service.api.schemas.assessments import (
    AssessmentPage,
    AssessmentQuery,
    AssessmentRecordOut,
    AssessmentRequest,
    AssessmentResponse,
    AssessmentSummary,
)
from service.errors import NotFound
from service.store.records import AuditStore, RecordFilter, StoredRecord, decode_cursor, encode_cursor


async def assess(body: AssessmentRequest, recording: Recording) -> tuple[int, str]:
    """Decide and record one assessment; returns the status and the JSON body that was recorded."""
    require_force(recording.caller, body.force)
    when = call_time(body.call.received_at, recording.now)
    policy = policy_at(recording.registry, body.force, when, field="force")
    prepared = prepare(body, recording.decide(policy, checked_request(policy, body)), policy=policy, recording=recording)
    return await record(recording, [prepared], answer=prepared.answer)


def visible_record(store: AuditStore, record_id: str, *, caller: Caller, writing: bool = False) -> StoredRecord:
    """A recorded decision this caller may read (dispatchers: only their own key's; anyone: only
    their forces'), or a 404, as if another force's record did not exist. With ``writing`` (an
    escalation), another force's record is a 403 naming the force."""
    stored = store.get(record_id)
    if stored is not None and writing:
        require_force(caller, stored.force, field="assessment_id")
    if (
        stored is None
        or not caller.acts_for(stored.force)
        or not (caller.may(Permission.READ_ALL_ASSESSMENTS) or stored.caller_key_id == caller.key_id)
    ):
        raise NotFound(f"No assessment '{record_id}' that this caller may read.")
    return stored


def read_assessment(store: AuditStore, assessment_id: str, *, caller: Caller) -> AssessmentRecordOut:
    """A recorded assessment or escalation with its request."""
    stored = visible_record(store, assessment_id, caller=caller)
    return AssessmentRecordOut(
        assessment_id=stored.id,
        kind=stored.kind,
        sequence=stored.seq,
        chain=stored.chain,
        chain_sequence=stored.chain_seq,
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
        forces=caller.forces,
    )
    before = decode_cursor(query.cursor) if query.cursor else None
    page, next_before = store.list(filters, before_seq=before, limit=query.limit)
    return AssessmentPage(
        items=[AssessmentSummary.model_validate(item, from_attributes=True) for item in page],
        next_cursor=encode_cursor(next_before) if next_before is not None else None,
    )
