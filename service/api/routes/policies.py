"""GET /v1/policies and the force catalogues."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import HTMLResponse

from service.actions.access import require_force
from service.actions.impact import policy_impact
from service.actions.matrix import build_matrix, matrix_csv, matrix_html
from service.actions.policies import (
    call_type_entries,
    policy_detail,
    policy_summary,
    power_catalogue,
    reload_policy,
    task_entries,
    within_scope,
)
from service.actions.versions import record_directory_versions
from service.api.deps import (
    AnyRole,
    BrowserMatrixReader,
    ClockDep,
    ImpactAnalyst,
    KnownQueryParameters,
    MatrixReader,
    PolicyDep,
    PolicyReloader,
    RegistryDep,
    SettingsDep,
    StoreDep,
)
from service.api.examples import IMPACT_EXAMPLES, POLICIES_EXAMPLE, RELOAD_EXAMPLES
from service.api.negotiation import wants_csv
from service.api.responses import CSVResponse, json_example, problems, text_body
from service.api.schemas.policies import (
    CallTypeOut,
    ImpactOut,
    ImpactRequest,
    MatrixOut,
    MatrixProfile,
    PolicyDetail,
    PolicyReloadOut,
    PolicyReloadRequest,
    PolicySummary,
    PowerCatalogue,
    TaskOut,
)
from service.api.strict_json import StrictJSONRoute

router = APIRouter(prefix="/v1/policies", tags=["policies"], route_class=StrictJSONRoute, dependencies=[KnownQueryParameters])
reload_router = APIRouter(prefix="/v1/policies", tags=["policies"], route_class=StrictJSONRoute)


@reload_router.post(
    "/reload",
    operation_id="reload_policies",
    response_model=PolicyReloadOut,
    summary="Reload the policy directory",
    description=(
        "For an administrator after a policy change is deployed to POLICY_DIR: validates and compiles the whole directory as "
        "start-up does and swaps it in at once. If anything is invalid nothing changes: the answer is a 409 problem listing "
        "each file and path at fault, and the loaded policy keeps deciding. A force that is loaded now but no longer in "
        "POLICY_DIR is removed only when the body names it in `allow_removal`; otherwise the answer is a 409 "
        "`reload-would-remove-force` naming it, and nothing changes. The answer lists the forces changed, added and "
        "removed. Applies to the worker that serves the request; with several workers, restart them (or send the reload "
        "to each)."
    ),
    responses=problems(401, 403, 409, 422),
)
def reload(
    request: Request,
    caller: PolicyReloader,
    registry: RegistryDep,
    settings: SettingsDep,
    body: Annotated[PolicyReloadRequest | None, Body(openapi_examples=RELOAD_EXAMPLES)] = None,
) -> PolicyReloadOut:
    loaded, answer = reload_policy(
        registry, body or PolicyReloadRequest(), policy_dir=settings.policy_dir, schema_dir=settings.schema_dir
    )
    for force in (*answer.changed, *answer.added, *answer.removed):
        require_force(caller, force)  # a caller of some forces cannot change what another force's calls are decided by
    loaded = loaded.with_versions(registry.versions)  # approved versions stay; only the directory's change
    record_directory_versions(loaded, settings.policy_dir, request.app.state.versions, datetime.now(UTC))
    request.app.state.registry = loaded  # one reference swap: requests in flight keep the set they started with
    request.app.state.metrics.policy_loaded(loaded, today=datetime.now(UTC).date())
    return answer


@router.get(
    "",
    response_model=list[PolicySummary],
    summary="List the force policy sets",
    description="Which forces' policies are loaded, their versions, dates and digests, and whether any is past its review date.",
    responses={**json_example(POLICIES_EXAMPLE), **problems(401, 403)},
)
def list_policies(registry: RegistryDep, caller: AnyRole) -> list[PolicySummary]:
    today = datetime.now(UTC).date()
    return [policy_summary(policy, today=today) for _, policy in sorted(registry.sets.items())]


@router.get(
    "/{force}",
    response_model=PolicyDetail,
    summary="One force's policy set",
    description="The policy set's metadata, the documents it cites, and where its call-type classification comes from.",
    responses=problems(401, 403, 404),
)
def get_policy(caller: AnyRole, policy: PolicyDep, registry: RegistryDep) -> PolicyDetail:
    return policy_detail(policy, registry, today=datetime.now(UTC).date())


@router.get(
    "/{force}/call-types",
    response_model=list[CallTypeOut],
    summary="The force's call-type catalogue",
    description="Every call-type code the CAD may send, whether it is within the PCSO remit as a first response, the clause that says so, and the support tasks allowed for it.",
    responses=problems(401, 403, 404),
)
def list_call_types(caller: AnyRole, policy: PolicyDep) -> list[CallTypeOut]:
    return call_type_entries(policy)


@router.get(
    "/{force}/powers",
    response_model=PowerCatalogue,
    summary="The force's power catalogue",
    description="Power codes a PCSO may be designated with, with their legal basis, and the powers that can never be designated (Police Reform Act 2002 Sch 3B).",
    responses=problems(401, 403, 404),
)
def list_powers(caller: AnyRole, policy: PolicyDep) -> PowerCatalogue:
    return power_catalogue(policy)


@router.get(
    "/{force}/tasks",
    response_model=list[TaskOut],
    summary="The force's task catalogue",
    description="What a PCSO can be asked to do (attend, scene guard, house-to-house ...), each with its kind and the clause behind it.",
    responses=problems(401, 403, 404),
)
def list_tasks(caller: AnyRole, policy: PolicyDep) -> list[TaskOut]:
    return task_entries(policy)


@router.get(
    "/{force}/matrix",
    operation_id="get_matrix",
    response_model=MatrixOut,
    summary="Deployability matrix for an officer profile",
    description=(
        "For duty planners: for an officer profile (training status, designated powers, uniform, driver, cycle), every call type "
        "against every task, with the decision and the clause that decides it. Send `Accept: text/csv` for a spreadsheet; "
        "`/matrix.html` is the same as a printable page."
    ),
    responses={200: {"content": {"text/csv": {}}}, **problems(401, 403, 404, 422)},
)
def matrix(
    request: Request, caller: MatrixReader, policy: PolicyDep, profile: Annotated[MatrixProfile, Query()], clock: ClockDep
) -> MatrixOut | Response:
    result = build_matrix(within_scope(policy, caller), profile, now=clock())
    if wants_csv(request):
        filename = f"{policy.id}-matrix.csv"
        return Response(
            matrix_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return result


@router.get(
    "/{force}/matrix.csv",
    operation_id="get_matrix_csv",
    response_class=CSVResponse,
    summary="Deployability matrix as CSV (this media type only)",
    description=(
        "The same matrix as GET /v1/policies/{force}/matrix with `Accept: text/csv`, at an address that answers `text/csv` "
        "whatever the `Accept` header says: for generated clients and spreadsheet links."
    ),
    responses={**text_body("text/csv", "One row per call type, one column per task."), **problems(401, 403, 404, 422)},
)
def matrix_as_csv(
    caller: MatrixReader, policy: PolicyDep, profile: Annotated[MatrixProfile, Query()], clock: ClockDep
) -> CSVResponse:
    return CSVResponse(
        matrix_csv(build_matrix(within_scope(policy, caller), profile, now=clock())),
        headers={"Content-Disposition": f'attachment; filename="{policy.id}-matrix.csv"'},
    )


@router.get(
    "/{force}/matrix.html",
    operation_id="get_matrix_page",
    response_class=HTMLResponse,
    summary="Deployability matrix as a printable page",
    description=(
        "The matrix as an HTML table a planner can open in a browser and print: each call type and task by name with its code "
        "beneath, a legend of the four decisions in the cells' colours, and a form (a plain GET to this page, no script) to "
        "choose the phase and the officer profile, the current values chosen. The browser asks for a user name and password: "
        "any user name, and an API key as the password (a bearer key works too)."
    ),
    responses=problems(401, 403, 404, 422),
)
def matrix_page(
    caller: BrowserMatrixReader, policy: PolicyDep, profile: Annotated[MatrixProfile, Query()], clock: ClockDep
) -> HTMLResponse:
    return HTMLResponse(matrix_html(build_matrix(within_scope(policy, caller), profile, now=clock()), policy=policy))


@router.post(
    "/{force}/impact",
    operation_id="replay_impact",
    response_model=ImpactOut,
    summary="Replay recorded decisions through a candidate policy",
    description=(
        "For policy authors before a change goes live: give candidate policy files (same format and schemas as policy_data/, "
        "by path such as 'west-midlands/rules.json') and a time window; the recorded decisions of that window are decided again "
        "under the candidate, and the answer says how many would change, from what to what, by call type, with example ids. "
        "Nothing is recorded and the live policy is not touched."
    ),
    responses=problems(401, 403, 404, 422, 503),
)
def impact(
    caller: ImpactAnalyst,
    policy: PolicyDep,
    body: Annotated[ImpactRequest, Body(openapi_examples=IMPACT_EXAMPLES)],
    store: StoreDep,
    settings: SettingsDep,
) -> ImpactOut:
    return policy_impact(
        within_scope(policy, caller), body, store=store, policy_dir=settings.policy_dir, schema_dir=settings.schema_dir
    )
