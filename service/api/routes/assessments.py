"""POST /v1/assessments and GET /v1/assessments/{assessment_id}."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response

from service.actions.access import require_force
from service.actions.assessments import assess, list_assessments, read_assessment
from service.actions.documents import compact_document
from service.actions.escalations import escalate_assessment, writable_parent
from service.api.decision_route import DecisionRoute
from service.api.deps import BEARER_SECURITY, AssessmentPost, AssessmentReader, EscalationPost, KnownQueryParameters, StoreDep
from service.api.examples import (
    ASSESSMENT_EXAMPLES,
    ASSESSMENT_PAGE_EXAMPLE,
    COMPACT_ASSESSMENT_EXAMPLE,
    ESCALATION_EXAMPLES,
    FULL_ASSESSMENT_EXAMPLE,
)
from service.api.negotiation import ViewQuery, render_view
from service.api.responses import json_example, problems
from service.api.schemas.assessments import (
    AssessmentPage,
    AssessmentQuery,
    AssessmentRecordOut,
    AssessmentRequest,
    AssessmentResponse,
    CompactAssessmentResponse,
    EscalationRequest,
)
from service.api.schemas.common import Identifier
from service.api.strict_json import StrictJSONRoute
from service.errors import InvalidRequest

router = APIRouter(
    prefix="/v1/assessments", tags=["assessments"], route_class=StrictJSONRoute, dependencies=[KnownQueryParameters]
)
# The posts that decide and record, resolved in one pass (service/api/decision_route.py).
decisions = APIRouter(
    prefix="/v1/assessments", tags=["assessments"], route_class=DecisionRoute, dependencies=[KnownQueryParameters]
)
MAX_SEQ = 2**63 - 1  # sequence numbers are 64-bit integers in the store
DECISION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The decision: the full document (`view=full`, the default) or its compact view (`view=compact`).",
        "content": {
            "application/json": {
                "examples": {
                    "full": {"summary": "view=full (trimmed)", "value": FULL_ASSESSMENT_EXAMPLE},
                    "compact": {"summary": "view=compact", "value": COMPACT_ASSESSMENT_EXAMPLE},
                }
            }
        },
    },
    **problems(401, 403, 404, 409, 422, 503),
}


def _check_cursor(cursor: str | None) -> None:
    """A cursor must be one the service issued: URL-safe base64 of {"before": <sequence number>}, nothing else; any
    other is a 422 naming `cursor` before the store sees it."""
    if cursor is None:
        return
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        decoded = None
    before = decoded.get("before") if isinstance(decoded, dict) and decoded.keys() == {"before"} else None
    # bool is an int in Python: {"before": true} is not a sequence number.
    if type(before) is not int or not 1 <= before <= MAX_SEQ:
        raise InvalidRequest(
            "The cursor is not one this service issued.",
            errors=[{"field": "cursor", "message": "malformed cursor; pass next_cursor unchanged", "code": "invalid_cursor"}],
        )


@decisions.post(
    "",
    operation_id="create_assessment",
    response_model=AssessmentResponse | CompactAssessmentResponse,
    summary="Decide whether a PCSO may be assigned to a call",
    description=(
        "The control room's question at the moment a call is resourced: may this PCSO be sent, for this task, "
        "and on what terms? The answer gives the decision, the conditions to pass on, the powers the officer "
        "holds and lacks for this call, what is prohibited, when to withdraw, and the policy clause behind each. "
        "The most restrictive applicable rule decides. The decision is recorded before it is answered; "
        "`assessment_id` retrieves it later. `summary` gives the decision at a glance. "
        "`view=compact` answers `CompactAssessmentResponse` (under 1.5 KB) instead of the full `AssessmentResponse`."
    ),
    responses=DECISION_RESPONSES,
    openapi_extra=BEARER_SECURITY,
)
async def create_assessment(
    body: Annotated[AssessmentRequest, Body(openapi_examples=ASSESSMENT_EXAMPLES)],
    post: AssessmentPost,
    view: ViewQuery = "full",
) -> Response:
    require_force(post.caller, body.force)  # before an Idempotency-Key can replay: a caller re-scoped since gets no answer
    answer = await post.answer(endpoint="POST /v1/assessments", body=body, action=lambda run: assess(body, run))
    return render_view(answer, view, compact_document)


@router.get(
    "",
    operation_id="list_assessments",
    response_model=AssessmentPage,
    summary="List recorded decisions, newest first",
    description=(
        "For planners and auditors reviewing decisions by force, outcome, officer or time: newest first, a page at a "
        "time. Pass `next_cursor` back as `cursor` for the next page; the cursor stays valid as new decisions arrive. "
        "Dispatchers see only the decisions their own key recorded."
    ),
    responses={**json_example(ASSESSMENT_PAGE_EXAMPLE), **problems(401, 403, 422, 503)},
)
def list_recorded(query: Annotated[AssessmentQuery, Query()], caller: AssessmentReader, store: StoreDep) -> AssessmentPage:
    _check_cursor(query.cursor)
    return list_assessments(store, query, caller=caller)


@router.get(
    "/{assessment_id}",
    operation_id="get_assessment",
    response_model=AssessmentRecordOut,
    summary="Read a recorded decision with its request",
    description=(
        "For a dispatcher checking what was decided for a call, or an auditor asking months later why a PCSO "
        "was sent: the request as received, the decision as answered, and the policy version it applied. "
        "Dispatchers see only the decisions their own key recorded."
    ),
    responses=problems(401, 403, 404, 503),
)
def get_assessment(
    assessment_id: Annotated[Identifier, Path(min_length=1, max_length=64, examples=["8f0c2d9e-4b1a-4c7e-9a55-2f3e1d7c6b10"])],
    caller: AssessmentReader,
    store: StoreDep,
) -> AssessmentRecordOut:
    return read_assessment(store, assessment_id, caller=caller)


@decisions.post(
    "/{assessment_id}/escalations",
    operation_id="create_escalation",
    response_model=AssessmentResponse | CompactAssessmentResponse,
    summary="The situation changed during the deployment",
    description=(
        "For the dispatcher when the PCSO or the caller reports something new (a weapon, violence, a higher risk, or the scene "
        "now secured by officers): a fresh decision for the same call, task and officer, linked to the one it follows and recorded. "
        "A decision only gets stricter unless the change itself lowers the risk, and `escalation.risk_lowered_by` says which. "
        "When the deployment is no longer within the remit, `escalation.instructions` tells the PCSO what to do now "
        "(disengage, withdraw, observe and report, request officer support) with the clauses. "
        "`view=compact` answers `CompactAssessmentResponse` instead, as for POST /v1/assessments."
    ),
    responses=DECISION_RESPONSES,
    openapi_extra=BEARER_SECURITY,
)
async def create_escalation(
    assessment_id: Annotated[Identifier, Path(min_length=1, max_length=64, description="The decision the escalation follows.")],
    body: Annotated[EscalationRequest, Body(openapi_examples=ESCALATION_EXAMPLES)],
    post: EscalationPost,
    view: ViewQuery = "full",
) -> Response:
    endpoint = f"POST /v1/assessments/{assessment_id}/escalations"
    await writable_parent(post.store, assessment_id, caller=post.caller)  # before an Idempotency-Key can replay
    answer = await post.answer(endpoint=endpoint, body=body, action=lambda run: escalate_assessment(assessment_id, body, run))
    return render_view(answer, view, compact_document)
