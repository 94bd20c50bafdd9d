"""Policy versions over HTTP: upload a candidate, approve it (four eyes), list them; explain a decision."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response

from service.actions.access import Caller
from service.actions.versions import (
    Governance,
    approve_version,
    explain,
    list_versions,
    state_of,
    upload_version,
    version_out,
    withdraw_version,
)
from service.api.deps import (
    AnyRole,
    AssessmentReader,
    ClockDep,
    IdFactoryDep,
    KnownQueryParameters,
    PolicyApprover,
    PolicyDep,
    PolicyProposer,
    RegistryDep,
    SettingsDep,
    StoreDep,
)
from service.api.responses import json_example, problems
from service.api.schemas.common import Identifier
from service.api.schemas.versions import ExplanationOut, VersionApproval, VersionOut, VersionUpload
from service.api.strict_json import StrictJSONRoute
from service.errors import NotFound

router = APIRouter(tags=["policy versions"], route_class=StrictJSONRoute, dependencies=[KnownQueryParameters])

DigestPath = Annotated[
    str, Path(pattern=r"^sha256:[0-9a-f]{64}$", description="The version's digest", examples=["sha256:" + "5a" * 32])
]
EXPLANATION_EXAMPLE = {
    "assessment_id": "3f6c2a1e-8a4b-4f0e-9d2c-7b1a5e4c9d10",
    "kind": "assessment",
    "recorded_at": "2026-11-25T09:14:03.120000Z",
    "policy_id": "west-midlands",
    "policy_version": "2.0",
    "policy_digest": "sha256:5a25234763e5bb2f353eccdcb05698fdc813089024d0b39a8ea862782fa5f247",
    "version_state": "retired",
    "matches": True,
    "differences": [],
    "recorded_decision": "deploy",
    "redecided_decision": "deploy",
}
UPLOAD_EXAMPLES = {
    "next_version": {
        "summary": "West Midlands 2.1, taking effect on 1 January",
        "description": "Only the changed files; the rest is the policy directory's. Here only the version label changes.",
        "value": {
            "files": {
                "west-midlands/policy.json": {
                    "id": "west-midlands",
                    "kind": "force",
                    "name": "West Midlands Police",
                    "publisher": "West Midlands Police",
                    "inherits": ["national"],
                    "document": "wmp-policy",
                    "version": "2.1",
                    "effective_from": "2027-01-01",
                    "review_due": "2028-04-01",
                    "documents": ["wmp-policy"],
                    "checks_abstraction": True,
                }
            },
            "effective_from": "2027-01-01T00:00:00Z",
            "note": "Version label for the January review; no rule changes.",
            "impact_days": 30,
        },
    }
}
AssessmentId = Annotated[Identifier, Path(min_length=1, max_length=64, description="The recorded decision.")]


def _governance(request: Request, settings: SettingsDep, store: StoreDep, now: ClockDep) -> Governance:
    return Governance(
        versions=request.app.state.versions,
        store=store,
        registry=request.app.state.registry,
        policy_dir=settings.policy_dir,
        schema_dir=settings.schema_dir,
        approval_lead=timedelta(seconds=settings.policy_approval_lead_seconds),
        now=now(),
    )


async def _change_state(
    action: Callable[..., VersionOut],
    force: str,
    digest: str,
    body: VersionApproval | None,
    caller: Caller,
    governance: Governance,
    new_id: Callable[[], str],
    request: Request,
) -> VersionOut:
    """Approve or withdraw (in a worker thread: it reads, proves and writes), then bring this worker's versions
    in step at once; the other workers follow within POLICY_SYNC_SECONDS."""
    changed = await asyncio.to_thread(
        action, force, digest, body or VersionApproval(), caller=caller, governance=governance, new_id=new_id
    )
    await request.app.state.sync_versions()
    return changed


@router.get(
    "/v1/policies/{force}/versions",
    operation_id="list_policy_versions",
    response_model=list[VersionOut],
    summary="List a force's policy versions",
    description=(
        "For policy authors, approvers and auditors: every version of the force's policy the service holds, oldest upload "
        "first, with its state (candidate, approved and waiting for its time, active, retired), its dates, who uploaded "
        "and approved it, the rules it changes, its proofs and its impact replay."
    ),
    responses=problems(401, 403, 404, 422, 503),
)
def versions(request: Request, caller: AnyRole, policy: PolicyDep, registry: RegistryDep, clock: ClockDep) -> list[VersionOut]:
    return list_versions(policy.id, caller=caller, versions=request.app.state.versions, registry=registry, now=clock())


@router.get(
    "/v1/policies/{force}/versions/{digest}",
    operation_id="get_policy_version",
    response_model=VersionOut,
    summary="Read one policy version",
    description="One version of the force's policy by its digest, as in the list.",
    responses=problems(401, 403, 404, 422, 503),
)
def version(
    request: Request, caller: AnyRole, policy: PolicyDep, digest: DigestPath, registry: RegistryDep, clock: ClockDep
) -> VersionOut:
    row = request.app.state.versions.get(digest)
    if row is None or row["force"] != policy.id or not caller.acts_for(policy.id):
        raise NotFound(f"No version {digest} of {policy.id}.")
    return version_out(row, state=state_of(row, registry, clock()))


@router.post(
    "/v1/policies/{force}/versions",
    operation_id="upload_policy_version",
    response_model=VersionOut,
    status_code=201,
    summary="Upload a candidate policy version",
    description=(
        "For a policy author (planner or admin): the force's changed files and when the version takes effect. The files "
        "are validated as start-up validates them (a 422 names each problem), the proofs are run over the candidate's whole "
        "input space (monotonicity, every outside-remit incident type refused as a first response, citations verbatim, "
        "messages fillable: a failure names the rule and gives a counterexample request), and the force's decisions of the "
        "last `impact_days` are replayed through it. The candidate is kept, and recorded in the force's audit chain, for "
        "another administrator to approve."
    ),
    responses=problems(401, 403, 404, 409, 422, 503),
)
def upload(
    caller: PolicyProposer,
    policy: PolicyDep,
    body: Annotated[VersionUpload, Body(openapi_examples=UPLOAD_EXAMPLES)],
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    clock: ClockDep,
    new_id: IdFactoryDep,
    response: Response,
) -> VersionOut:
    created = upload_version(policy, body, caller=caller, governance=_governance(request, settings, store, clock), new_id=new_id)
    response.headers["Location"] = f"/v1/policies/{policy.id}/versions/{created.digest}"
    return created


@router.post(
    "/v1/policies/{force}/versions/{digest}/approval",
    operation_id="approve_policy_version",
    response_model=VersionOut,
    summary="Approve a candidate policy version",
    description=(
        "For an administrator other than the uploader (four eyes: the uploader's own approval is a 403 `self-approval`). "
        "A candidate whose proofs do not hold, that is no longer a candidate, or that takes effect sooner than "
        "POLICY_APPROVAL_LEAD_SECONDS from now is a 409 `approval-refused` saying why. Once approved, the version decides "
        "every call received from its effective time, on every worker, with no restart; approval, activation and the "
        "retirement of the version it replaces are audit-chain entries."
    ),
    responses=problems(401, 403, 404, 409, 422, 503),
)
async def approve(
    caller: PolicyApprover,
    policy: PolicyDep,
    digest: DigestPath,
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    clock: ClockDep,
    new_id: IdFactoryDep,
    body: Annotated[VersionApproval | None, Body()] = None,
) -> VersionOut:
    return await _change_state(
        approve_version, policy.id, digest, body, caller, _governance(request, settings, store, clock), new_id, request
    )


@router.post(
    "/v1/policies/{force}/versions/{digest}/withdrawal",
    operation_id="withdraw_policy_version",
    response_model=VersionOut,
    summary="Withdraw a candidate or a version waiting for its time",
    description=(
        "For an administrator: stops a candidate, or an approved version that has not yet taken effect (at least "
        "POLICY_APPROVAL_LEAD_SECONDS before its time, so that every worker drops it), recorded in the audit chain. "
        "A version in force cannot be withdrawn: approve a replacement instead (409 `approval-refused`)."
    ),
    responses=problems(401, 403, 404, 409, 422, 503),
)
async def withdraw(
    caller: PolicyApprover,
    policy: PolicyDep,
    digest: DigestPath,
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    clock: ClockDep,
    new_id: IdFactoryDep,
    body: Annotated[VersionApproval | None, Body()] = None,
) -> VersionOut:
    return await _change_state(
        withdraw_version, policy.id, digest, body, caller, _governance(request, settings, store, clock), new_id, request
    )


@router.get(
    "/v1/assessments/{assessment_id}/explanation",
    operation_id="explain_assessment",
    response_model=ExplanationOut,
    summary="Decide a recorded assessment again with the version that decided it",
    description=(
        "For auditors and professional standards: the recorded request is decided again, at its recorded time, by the exact "
        "policy version (by digest) that decided it, even after newer versions have taken effect, and the answer is compared "
        "with the recorded one, field by field."
    ),
    responses={**json_example(EXPLANATION_EXAMPLE), **problems(401, 403, 404, 422, 503)},
)
def explanation(
    request: Request,
    assessment_id: AssessmentId,
    caller: AssessmentReader,
    store: StoreDep,
    registry: RegistryDep,
    clock: ClockDep,
) -> ExplanationOut:
    return explain(assessment_id, caller=caller, store=store, book=request.app.state.version_book, registry=registry, now=clock())
