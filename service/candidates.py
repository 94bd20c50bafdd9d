"""Choosing among the PCSOs on duty: every officer decided and recorded, the best placed first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from service.api.access import Caller
from service.api.schemas import AssessmentRequest, CandidateOut, CandidatesRequest, CandidatesResponse, FindingOut, PolicyRefOut
from service.assessing import abstraction_for, checked_request, policy_for, record_entry
from service.engine.assessment import Decision
from service.engine.decide import decide
from service.engine.policy import DECISIONS, PolicyRegistry
from service.errors import InvalidRequest
from service.idempotent import Completion
from service.observability import note_decision
from service.store.records import AuditStore
from service.wire import decision_document, to_json
from starlette.concurrency import run_in_threadpool

TRAINING_ORDER = {"independent": 0, "coaching": 1, "foundation": 2}


def _travel_fit(body: AssessmentRequest) -> tuple[int, str | None]:
    """0 when the officer can travel the way this location needs; a note either way."""
    officer = body.officer
    if body.location.setting == "rural":
        return (0, "can drive to a rural location") if officer.authorised_driver else (1, "not an authorised driver for a rural location")
    return (0, "cycle trained") if officer.cycle_trained else (1, "on foot only")


def _abstracted(decision: Decision) -> bool:
    return any(c.code.startswith("abstraction_") for c in decision.conditions)


def _rank_key(body: AssessmentRequest, decision: Decision) -> tuple:
    travel, _ = _travel_fit(body)
    return (
        DECISIONS.index(decision.decision),
        len(decision.conditions),
        _abstracted(decision),
        len(decision.limits.powers_not_held),
        travel,
        TRAINING_ORDER[body.officer.training_status],
        body.officer.id,
    )


def _place_reasons(body: AssessmentRequest, decision: Decision) -> list[str]:
    reasons = [f"{decision.decision.replace('_', ' ')}: {decision.reasons[0].message}"]
    if decision.may_assign:
        reasons.append(f"{len(decision.conditions)} condition(s)" + (f": {', '.join(c.code for c in decision.conditions)}" if decision.conditions else ""))
        reasons.append("abstracted from home LPA or neighbourhood" if _abstracted(decision) else "no abstraction from their own neighbourhood")
        held, missing = len(decision.limits.powers_available), len(decision.limits.powers_not_held)
        reasons.append(f"holds {held} of {held + missing} powers relevant to the call")
        _, travel = _travel_fit(body)
        if travel:
            reasons.append(travel)
        if body.officer.training_status != "independent":
            reasons.append(f"training status {body.officer.training_status}")
    return reasons


async def rank_candidates(
    body: CandidatesRequest,
    *,
    registry: PolicyRegistry,
    store: AuditStore,
    caller: Caller,
    now: datetime,
    new_id: Callable[[], str],
    completion: Completion | None = None,
) -> tuple[int, str]:
    """Decide the call for every officer, record each decision, rank them; returns status and JSON."""
    # Hundreds of decisions: computed in a worker thread so the event loop keeps serving.
    entries, payload, notes = await run_in_threadpool(
        _decide_and_rank, body, registry=registry, caller=caller, now=now, new_id=new_id, completion=completion
    )
    await store.append_async(*entries)
    for force, decision, version, officer_id in notes:
        note_decision(force=force, decision=decision, policy_version=version, officer_id=officer_id)
    return 200, payload


def _decide_and_rank(
    body: CandidatesRequest,
    *,
    registry: PolicyRegistry,
    caller: Caller,
    now: datetime,
    new_id: Callable[[], str],
    completion: Completion | None,
) -> tuple[list, str, list[tuple[str, str, str, str]]]:
    """The recorded entries, the ranked answer as JSON, and what to note for the log and metrics."""
    ids = [officer.id for officer in body.officers]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i, officer_id in enumerate(ids) if ids.index(officer_id) != i)
        raise InvalidRequest(
            "Each officer may appear once.",
            errors=[{"field": f"officers[{duplicate}].id", "message": f"'{ids[duplicate]}' is listed twice", "code": "duplicate_officer"}],
        )
    policy = policy_for(registry, body.force, field="force")
    candidates_id = new_id()
    decided = []
    for index, officer in enumerate(body.officers):
        single = AssessmentRequest(force=body.force, task=body.task, call=body.call, location=body.location, officer=officer)
        decision = decide(policy, checked_request(policy, single, officer_path=("officers", index)), now=now)
        decided.append((single, decision))
    entries = []
    places = []
    for single, decision in decided:
        assessment_id = new_id()
        abstraction = abstraction_for(decision, single, new_id=new_id)
        payload = to_json(
            decision_document(
                decision, assessment_id=assessment_id, officer_id=single.officer.id, call_reference=single.call.reference,
                abstraction_id=abstraction[0] if abstraction else None, candidates_id=candidates_id,
            )
        )
        entries.append(
            record_entry(
                kind="assessment", record_id=assessment_id, body=single, decision=decision, policy=policy, caller=caller,
                now=now, payload=payload, abstraction=abstraction,
            )
        )
        places.append((_rank_key(single, decision), single, decision, assessment_id))
    places.sort(key=lambda place: place[0])
    candidates = [
        CandidateOut(
            rank=rank,
            officer_id=single.officer.id,
            assessment_id=assessment_id,
            decision=decision.decision,
            may_assign=decision.may_assign,
            deciding_reason=FindingOut.model_validate(decision.reasons[0], from_attributes=True),
            conditions=[c.code for c in decision.conditions],
            powers_available=[p.code for p in decision.limits.powers_available],
            powers_not_held=[p.code for p in decision.limits.powers_not_held],
            transport=decision.limits.transport,
            abstraction=_abstracted(decision) if policy.checks_abstraction else None,
            place_reasons=_place_reasons(single, decision),
        )
        for rank, (_key, single, decision, assessment_id) in enumerate(places, start=1)
    ]
    payload = CandidatesResponse(
        candidates_id=candidates_id,
        decided_at=now,
        force=policy.id,
        task=body.task,
        call_type=body.call.type,
        deployable=sum(1 for c in candidates if c.may_assign),
        policy=PolicyRefOut.model_validate(decided[0][1].policy, from_attributes=True),
        candidates=candidates,
    ).model_dump_json()
    if completion is not None:
        entries[-1] = replace(entries[-1], side_effects=(completion(200, payload),))
    notes = [(policy.id, decision.decision, policy.version, single.officer.id) for single, decision in decided]
    return entries, payload, notes
