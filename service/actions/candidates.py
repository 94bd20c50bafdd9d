"""Choosing among the PCSOs on duty: every officer decided and recorded, the best placed first."""

from __future__ import annotations

import asyncio
from typing import Any

import pydantic_core

from service.actions.access import require_force
from service.actions.decisions import Prepared, Recording, checked_request, prepare, record
from service.actions.documents import to_json
from service.actions.policies import call_time, policy_at
from service.api.schemas.assessments import AssessmentRequest
from service.api.schemas.candidates import CandidatesRequest
from service.engine.assessment import Decision
from service.engine.policy import DECISIONS
from service.errors import InvalidRequest

TRAINING_ORDER = {"independent": 0, "coaching": 1, "foundation": 2}


def _travel_fit(body: AssessmentRequest) -> tuple[int, str | None]:
    """0 when the officer can travel the way this location needs; a note either way."""
    officer = body.officer
    if body.location.setting == "rural":
        return (
            (0, "can drive to a rural location")
            if officer.authorised_driver
            else (1, "not an authorised driver for a rural location")
        )
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
        reasons.append(
            f"{len(decision.conditions)} condition(s)"
            + (f": {', '.join(c.code for c in decision.conditions)}" if decision.conditions else "")
        )
        reasons.append(
            "abstracted from home LPA or neighbourhood"
            if _abstracted(decision)
            else "no abstraction from their own neighbourhood"
        )
        held, missing = len(decision.limits.powers_available), len(decision.limits.powers_not_held)
        reasons.append(f"holds {held} of {held + missing} powers relevant to the call")
        _, travel = _travel_fit(body)
        if travel:
            reasons.append(travel)
        if body.officer.training_status != "independent":
            reasons.append(f"training status {body.officer.training_status}")
    return reasons


async def rank_candidates(body: CandidatesRequest, recording: Recording) -> tuple[int, str]:
    """Decide the call for every officer, record each decision, rank them; returns status and JSON."""
    require_force(recording.caller, body.force)
    # Hundreds of decisions: computed in a worker thread so the event loop keeps serving.
    decided, answer = await asyncio.to_thread(_decide_and_rank, body, recording)
    return await record(recording, decided, answer=answer)


def _decide_and_rank(body: CandidatesRequest, recording: Recording) -> tuple[list[Prepared], str]:
    """Every officer's decision ready to record, and the ranked answer as JSON."""
    ids = [officer.id for officer in body.officers]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i, officer_id in enumerate(ids) if ids.index(officer_id) != i)
        raise InvalidRequest(
            "Each officer may appear once.",
            errors=[
                {
                    "field": f"officers[{duplicate}].id",
                    "message": f"'{ids[duplicate]}' is listed twice",
                    "code": "duplicate_officer",
                }
            ],
        )
    when = call_time(body.call.received_at, recording.now)
    policy = policy_at(recording.registry, body.force, when, field="force")
    candidates_id = recording.new_id()
    decided = []
    for index, officer in enumerate(body.officers):
        single = AssessmentRequest(force=body.force, task=body.task, call=body.call, location=body.location, officer=officer)
        decided.append((single, recording.decide(policy, checked_request(policy, single, officer_path=("officers", index)))))
    prepared = [
        prepare(single, decision, policy=policy, recording=recording, candidates_id=candidates_id) for single, decision in decided
    ]
    places = sorted(prepared, key=lambda p: _rank_key(p.body, p.decision))
    candidates = [
        _candidate(rank, place, abstraction=_abstracted(place.decision) if policy.checks_abstraction else None)
        for rank, place in enumerate(places, start=1)
    ]
    answer = to_json(
        {
            "candidates_id": candidates_id,
            "decided_at": recording.now,
            "force": policy.id,
            "task": body.task,
            "call_type": body.call.type,
            "deployable": sum(1 for c in candidates if c["may_assign"]),
            "policy": candidates[0]["assessment"]["policy"],
            "candidates": candidates,
        }
    )
    return prepared, answer


def _candidate(rank: int, place: Prepared, *, abstraction: bool | None) -> dict[str, Any]:
    """One place in the ranking (a CandidateOut), built from the decision document recorded for the officer, so
    the candidate carries the same reasons, conditions and summary as that document."""
    document = pydantic_core.from_json(place.answer)
    limits = document["limits"]
    return {
        "rank": rank,
        "officer_id": document["officer_id"],
        "assessment_id": document["assessment_id"],
        "decision": document["decision"],
        "may_assign": document["may_assign"],
        "deciding_reason": document["reasons"][0],
        "conditions": [c["code"] for c in document["conditions"]],
        "powers_available": [p["code"] for p in limits["powers_available"]],
        "powers_not_held": [p["code"] for p in limits["powers_not_held"]],
        "transport": limits["transport"],
        "abstraction": abstraction,
        "place_reasons": _place_reasons(place.body, place.decision),
        "assessment": document,
    }
