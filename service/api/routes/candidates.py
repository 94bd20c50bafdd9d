"""POST /v1/candidates: one call, every PCSO on duty, ranked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from service.actions.access import require_force
from service.actions.candidates import rank_candidates
from service.actions.documents import compact_candidates
from service.api.decision_route import DecisionRoute
from service.api.deps import BEARER_SECURITY, AssessmentPost, KnownQueryParameters
from service.api.examples import CANDIDATES_EXAMPLES
from service.api.negotiation import ViewQuery, render_view
from service.api.responses import problems
from service.api.schemas.candidates import CandidatesRequest, CandidatesResponse, CompactCandidatesResponse

router = APIRouter(prefix="/v1/candidates", tags=["dispatch"], route_class=DecisionRoute, dependencies=[KnownQueryParameters])


@router.post(
    "",
    operation_id="rank_candidates",
    response_model=CandidatesResponse | CompactCandidatesResponse,
    summary="Choose among the PCSOs on duty for one call",
    description=(
        "For the CAD when resourcing a call: send the call once with every PCSO on duty (up to 500) and get each officer's "
        "decision, deployable officers first, ranked by fewest conditions, no abstraction from their own neighbourhood, "
        "holding the powers the call may need, able to travel as the location needs, and training status, with the reasons "
        "for each place. Every officer's decision is recorded (fetch it by `assessment_id`); each candidate carries it as "
        "`assessment`, the same document POST /v1/assessments answers. `view=compact` answers `CompactCandidatesResponse`: "
        "each officer's decision in the compact view of POST /v1/assessments."
    ),
    responses=problems(401, 403, 404, 409, 422, 503),
    openapi_extra=BEARER_SECURITY,
)
async def candidates(
    body: Annotated[CandidatesRequest, Body(openapi_examples=CANDIDATES_EXAMPLES)],
    post: AssessmentPost,
    view: ViewQuery = "full",
) -> Response:
    require_force(post.caller, body.force)  # before an Idempotency-Key can replay: a caller re-scoped since gets no answer
    answer = await post.answer(endpoint="POST /v1/candidates", body=body, action=lambda run: rank_candidates(body, run))
    return render_view(answer, view, compact_candidates)
