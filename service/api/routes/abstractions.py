"""Abstraction records (WMP 1.3) and the monthly report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response

from service.actions.abstractions import (
    abstraction_report,
    authorise_abstraction,
    read_abstraction,
    record_abstraction,
    report_csv,
)
from service.api.deps import (
    AbstractionAuthoriser,
    AbstractionReader,
    AbstractionRecorder,
    AbstractionStoreDep,
    ClockDep,
    IdFactoryDep,
    KnownQueryParameters,
    RegistryDep,
    ReportReader,
)
from service.api.examples import ABSTRACTION_EXAMPLES, ABSTRACTION_RECORD_EXAMPLE, AUTHORISATION_EXAMPLES
from service.api.negotiation import wants_csv
from service.api.responses import CSVResponse, json_example, problems, text_body
from service.api.schemas.abstractions import AbstractionIn, AbstractionOut, AbstractionReport, AuthorisationIn
from service.api.schemas.common import Identifier
from service.api.schemas.spreadsheet import safe_csv
from service.api.strict_json import StrictJSONRoute

router = APIRouter(tags=["abstractions"], route_class=StrictJSONRoute, dependencies=[KnownQueryParameters])
AbstractionId = Annotated[Identifier, Path(min_length=1, max_length=64, description="The abstraction record's id.")]
# The months the service reports on: 2000-01 to 2099-12.
MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"


@router.post(
    "/v1/abstractions",
    operation_id="record_abstraction",
    response_model=AbstractionOut,
    status_code=201,
    summary="Record an abstraction",
    description=(
        "For a supervisor or planner when a PCSO is taken off core neighbourhood duties other than through an assessment "
        "(an event, a cover shift): recorded pending authorisation, as WMP 1.3 requires. Deployments the service decides "
        "create these themselves (`abstraction_id` in the decision)."
    ),
    responses={
        201: {"headers": {"Location": {"description": "The new abstraction's address.", "schema": {"type": "string"}}}},
        **problems(401, 403, 404, 422, 503),
    },
)
def create_abstraction(
    body: Annotated[AbstractionIn, Body(openapi_examples=ABSTRACTION_EXAMPLES)],
    caller: AbstractionRecorder,
    registry: RegistryDep,
    store: AbstractionStoreDep,
    clock: ClockDep,
    new_id: IdFactoryDep,
    response: Response,
) -> AbstractionOut:
    created = record_abstraction(body, registry=registry, store=store, caller=caller, now=clock(), new_id=new_id)
    response.headers["Location"] = f"/v1/abstractions/{created.id}"
    return created


@router.get(
    "/v1/abstractions/{abstraction_id}",
    operation_id="get_abstraction",
    response_model=AbstractionOut,
    summary="Read an abstraction",
    description="For the supervisor, planner or auditor: one abstraction record as it stands, pending or authorised.",
    responses={**json_example(ABSTRACTION_RECORD_EXAMPLE), **problems(401, 403, 404, 422, 503)},
)
def get_abstraction(abstraction_id: AbstractionId, caller: AbstractionReader, store: AbstractionStoreDep) -> AbstractionOut:
    return read_abstraction(abstraction_id, store=store, caller=caller)


@router.post(
    "/v1/abstractions/{abstraction_id}/authorisation",
    operation_id="authorise_abstraction",
    response_model=AbstractionOut,
    summary="Authorise an abstraction",
    description="For the supervisor: who authorised the abstraction and why, and how long it lasted if known (WMP 1.3: authorised, justified and recorded). An abstraction is authorised once: a second authorisation, even one sent at the same moment, is a 409 `already_authorised` naming who authorised it.",
    responses=problems(401, 403, 404, 409, 422, 503),
)
def authorise(
    abstraction_id: AbstractionId,
    body: Annotated[AuthorisationIn, Body(openapi_examples=AUTHORISATION_EXAMPLES)],
    caller: AbstractionAuthoriser,
    store: AbstractionStoreDep,
    clock: ClockDep,
    new_id: IdFactoryDep,
) -> AbstractionOut:
    return authorise_abstraction(abstraction_id, body, store=store, caller=caller, now=clock(), new_id=new_id)


@router.get(
    "/v1/reports/abstractions",
    operation_id="abstraction_report",
    response_model=AbstractionReport,
    summary="Monthly abstraction report per LPA",
    description=(
        "For the LPA's monthly abstraction review (WMP 1.3): per home LPA, the number and hours of abstractions, how many are "
        "still unauthorised, and the officers repeatedly or for long abstracted, whom supervisory ranks must review. "
        "Send `Accept: text/csv` for a spreadsheet."
    ),
    responses={200: {"content": {"text/csv": {}}}, **problems(401, 403, 422, 503)},
)
def report(
    request: Request,
    caller: ReportReader,
    store: AbstractionStoreDep,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, examples=["2026-11"], description="YYYY-MM, from 2000-01 to 2099-12.")],
    lpa: Annotated[Identifier | None, Query(max_length=64, description="One home LPA; all when omitted.")] = None,
) -> AbstractionReport | Response:
    result = abstraction_report(store, month=month, lpa=lpa, caller=caller)
    if wants_csv(request):
        return Response(safe_csv(report_csv(result)), media_type="text/csv; charset=utf-8")
    return result


@router.get(
    "/v1/reports/abstractions.csv",
    operation_id="abstraction_report_csv",
    response_class=CSVResponse,
    summary="Monthly abstraction report per LPA, as CSV (this media type only)",
    description=(
        "The same report as GET /v1/reports/abstractions with `Accept: text/csv`, at an address that answers `text/csv` "
        "whatever the `Accept` header says: for generated clients and spreadsheet links."
    ),
    responses={**text_body("text/csv", "The report, one row per home LPA."), **problems(401, 403, 422, 503)},
)
def report_as_csv(
    caller: ReportReader,
    store: AbstractionStoreDep,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, examples=["2026-11"], description="YYYY-MM, from 2000-01 to 2099-12.")],
    lpa: Annotated[Identifier | None, Query(max_length=64, description="One home LPA; all when omitted.")] = None,
) -> CSVResponse:
    return CSVResponse(safe_csv(report_csv(abstraction_report(store, month=month, lpa=lpa, caller=caller))))
