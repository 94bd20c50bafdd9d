"""POST /v1/candidates: one call, every PCSO on duty, ranked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from service.api.deps import Assessor, ClockDep, IdempotencyDep, IdempotencyKeyHeader, IdFactoryDep, RegistryDep, StoreDep, json_answer
from service.api.examples import CANDIDATES_EXAMPLES
from service.api.responses import problems
from service.api.schemas import CandidatesRequest, CandidatesResponse
from service.candidates import rank_candidates
from service.idempotent import run_idempotent

router = APIRouter(prefix="/v1/candidates", tags=["dispatch"])


@router.post(
    "",
    response_model=CandidatesResponse,
    summary="Choose among the PCSOs on duty for one call",
    description=(
        "For the CAD when resourcing a call: send the call once with every PCSO on duty (up to 500) and get each officer's "
        "decision, deployable officers first, ranked by fewest conditions, no abstraction from their own neighbourhood, "
        "holding the powers the call may need, able to travel as the location needs, and training status, with the reasons "
        "for each place. Every officer's decision is recorded (fetch it by `assessment_id`)."
    ),
    responses=problems(401, 403, 404, 409, 422, 503),
)
async def candidates(
    body: Annotated[CandidatesRequest, Body(openapi_examples=CANDIDATES_EXAMPLES)],
    caller: Assessor,
    registry: RegistryDep,
    store: StoreDep,
    idempotency: IdempotencyDep,
    clock: ClockDep,
    new_id: IdFactoryDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    now = clock()
    return json_answer(
        *await run_idempotent(
            store=idempotency, caller=caller, key=idempotency_key, endpoint="POST /v1/candidates", body_json=body.model_dump_json(), now=now,
            run=lambda completion: rank_candidates(body, registry=registry, store=store, caller=caller, now=now, new_id=new_id, completion=completion),
        )
    )
