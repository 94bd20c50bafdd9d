"""The audit trail: verify the chain, export it, purge by retention period."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from service.actions.audit import export_lines, purge_records, verify_chain
from service.api.deps import ClockDep, Exporter, Purger, SettingsDep, StoreDep, Verifier
from service.api.responses import problems
from service.api.schemas.audit import PurgeOut, PurgeRequest, VerifyOut

router = APIRouter(prefix="/v1/audit", tags=["audit"])
MAX_SEQ = 2**63 - 1  # sequence numbers are 64-bit integers in the store


@router.get(
    "/verify",
    response_model=VerifyOut,
    summary="Verify the audit chain",
    description=(
        "For professional standards: recomputes every record's digest and link, in order, and reports the chain "
        "intact or the first record where it breaks and how (altered, missing, reordered). Give `from_seq` and "
        "`to_seq` to check a range."
    ),
    responses=problems(401, 403, 422, 503),
)
def verify(
    caller: Verifier,
    store: StoreDep,
    from_seq: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="First sequence number to check.")] = None,
    to_seq: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="Last sequence number to check.")] = None,
) -> VerifyOut:
    return verify_chain(store, from_seq=from_seq, to_seq=to_seq)


@router.get(
    "/export",
    summary="Export the audit trail as NDJSON",
    description=(
        "For auditors: every record recorded in the time range, oldest first, one JSON object per line with its "
        "sequence number, digests, request and response, so the chain can be checked offline."
    ),
    responses={
        200: {"content": {"application/x-ndjson": {}}, "description": "One record per line."},
        **problems(401, 403, 422, 503),
    },
)
def export(
    caller: Exporter,
    store: StoreDep,
    from_: Annotated[datetime | None, Query(alias="from", description="Recorded at or after (ISO 8601).")] = None,
    to: Annotated[datetime | None, Query(description="Recorded before (ISO 8601).")] = None,
) -> StreamingResponse:
    return StreamingResponse(export_lines(store, recorded_from=from_, recorded_to=to), media_type="application/x-ndjson")


@router.post(
    "/purge",
    response_model=PurgeOut,
    summary="Purge records past the retention period",
    description=(
        "For an administrator applying the force's records retention schedule: removes the oldest records recorded "
        "before now minus `older_than_days` (default RETENTION_DAYS), keeps a checkpoint of the last removed digest "
        "so that what remains still verifies, and records the purge itself in the chain."
    ),
    responses=problems(401, 403, 422, 503),
)
def purge(body: PurgeRequest, caller: Purger, store: StoreDep, settings: SettingsDep, clock: ClockDep) -> PurgeOut:
    return purge_records(store, body, retention_days=settings.retention_days, caller=caller, now=clock())
