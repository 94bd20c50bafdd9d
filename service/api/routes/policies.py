"""GET /v1/policies and the force catalogues."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path

from service.api.deps import AnyRole, RegistryDep
from service.api.responses import problems
from service.api.schemas import CallTypeOut, PolicyDetail, PolicySummary, PowerCatalogue, TaskOut
from service.assessing import policy_for
from service.catalogue import call_type_entries, policy_detail, policy_summary, power_catalogue, task_entries

router = APIRouter(prefix="/v1/policies", tags=["policies"])
ForceId = Annotated[str, Path(min_length=1, max_length=64, description="Policy set id", examples=["west-midlands", "kent"])]


@router.get(
    "",
    response_model=list[PolicySummary],
    summary="List the force policy sets",
    description="Which forces' policies are loaded, their versions, dates and digests, and whether any is past its review date.",
    responses=problems(401, 403),
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
def get_policy(force: ForceId, registry: RegistryDep, caller: AnyRole) -> PolicyDetail:
    policy = policy_for(registry, force)
    return policy_detail(policy, registry, today=datetime.now(UTC).date())


@router.get(
    "/{force}/call-types",
    response_model=list[CallTypeOut],
    summary="The force's call-type catalogue",
    description="Every call-type code the CAD may send, whether it is within the PCSO remit as a first response, the clause that says so, and the support tasks allowed for it.",
    responses=problems(401, 403, 404),
)
def list_call_types(force: ForceId, registry: RegistryDep, caller: AnyRole) -> list[CallTypeOut]:
    return call_type_entries(policy_for(registry, force))


@router.get(
    "/{force}/powers",
    response_model=PowerCatalogue,
    summary="The force's power catalogue",
    description="Power codes a PCSO may be designated with, with their legal basis, and the powers that can never be designated (Police Reform Act 2002 Sch 3B).",
    responses=problems(401, 403, 404),
)
def list_powers(force: ForceId, registry: RegistryDep, caller: AnyRole) -> PowerCatalogue:
    return power_catalogue(policy_for(registry, force))


@router.get(
    "/{force}/tasks",
    response_model=list[TaskOut],
    summary="The force's task catalogue",
    description="What a PCSO can be asked to do (attend, scene guard, house-to-house ...), each with its kind and the clause behind it.",
    responses=problems(401, 403, 404),
)
def list_tasks(force: ForceId, registry: RegistryDep, caller: AnyRole) -> list[TaskOut]:
    return task_entries(policy_for(registry, force))
