"""The audit trail: verify the chain, export it, purge by retention period."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from service.actions.audit import export_lines, public_keys, purge_records, verify_chains
from service.api.deps import AnyRole, ClockDep, Exporter, KnownQueryParameters, Purger, SettingsDep, StoreDep, Verifier
from service.api.examples import EXPORT_NDJSON_EXAMPLE, PUBLIC_KEYS_EXAMPLE, PURGE_EXAMPLE, VERIFY_EXAMPLE
from service.api.responses import NDJSONResponse, json_example, problems, text_body
from service.api.schemas.audit import PublicKeysOut, PurgeOut, PurgeRequest, VerifyOut
from service.api.schemas.common import RecordedWindow
from service.api.strict_json import StrictJSONRoute
from service.errors import InvalidRequest

router = APIRouter(prefix="/v1/audit", tags=["audit"], route_class=StrictJSONRoute, dependencies=[KnownQueryParameters])
MAX_SEQ = 2**63 - 1  # sequence numbers are 64-bit integers in the store
CHAIN_PATTERN = r"^~?[a-z0-9][a-z0-9-]{0,62}$"
ForceQuery = Annotated[
    str | None,
    Query(
        pattern=CHAIN_PATTERN,
        max_length=64,
        description="The force whose chain to check or export (e.g. `kent`); `~shared` is the chain every force "
        "shared before one chain per force. Without it, every chain.",
    ),
]


def _range_error(field: str, message: str, code: str) -> dict[str, Any]:
    return {"field": f"query.{field}", "message": message, "code": code}


def _check_range_order(from_seq: int | None, to_seq: int | None) -> None:
    if from_seq is not None and to_seq is not None and to_seq < from_seq:
        raise InvalidRequest(
            "to_seq is before from_seq.", errors=[_range_error("to_seq", "must be >= from_seq", "invalid_range")]
        )


def _check_range_within_chain(result: VerifyOut, *, from_seq: int | None, to_seq: int | None) -> None:
    """A range must lie in the chain as it stands: nothing lies beyond its newest entry, and what a purge removed
    cannot be walked; either would otherwise read as a break in an intact chain."""
    if (from_seq is None and to_seq is None) or len(result.chains) != 1:
        return
    chain = result.chains[0]
    errors = []
    for field, seq in (("from_seq", from_seq), ("to_seq", to_seq)):
        if seq is not None and seq > chain.head_seq:
            errors.append(_range_error(field, f"must be at most {chain.head_seq}, the chain's newest entry", "beyond_head"))
    purged = chain.checkpoint_seq
    if from_seq is not None and purged is not None and from_seq <= purged <= chain.head_seq:
        message = f"entries up to {purged} were removed by a retention purge; start at {purged + 1} or later"
        errors.append(_range_error("from_seq", message, "purged"))
    if errors:
        raise InvalidRequest(
            f"The range is outside the {chain.chain} audit chain, which ends at entry {chain.head_seq}.", errors=errors
        )


@router.get(
    "/verify",
    operation_id="verify_audit",
    response_model=VerifyOut,
    summary="Verify the audit chain",
    description=(
        "For professional standards: each force's records form their own chain. Recomputes every entry's digest "
        "and link, in order, and reports each chain intact or the first entry where it breaks and how (altered, "
        "missing, reordered); a whole chain's check also compares the abstractions, idempotent answers and signed "
        "checkpoints kept beside it with what its entries say. Give `force`, and optionally `from_seq` and `to_seq` "
        "(positions in that force's chain), to check one chain or a range of it; a range beyond the chain's newest "
        "entry, or starting in entries a retention purge removed, is a 422."
    ),
    responses={**json_example(VERIFY_EXAMPLE), **problems(401, 403, 404, 422, 503)},
)
def verify(
    caller: Verifier,
    store: StoreDep,
    force: ForceQuery = None,
    from_seq: Annotated[
        int | None,
        Query(ge=1, le=MAX_SEQ, description="First position in the force's chain to check; at most its newest entry."),
    ] = None,
    to_seq: Annotated[
        int | None,
        Query(ge=1, le=MAX_SEQ, description="Last position in the force's chain to check; from `from_seq` to its newest entry."),
    ] = None,
) -> VerifyOut:
    _check_range_order(from_seq, to_seq)
    result = verify_chains(store, force=force, from_seq=from_seq, to_seq=to_seq, caller=caller)
    _check_range_within_chain(result, from_seq=from_seq, to_seq=to_seq)
    return result


@router.get(
    "/export",
    operation_id="export_audit",
    summary="Export the audit trail as NDJSON",
    description=(
        "For auditors: one JSON object per line, each with a `type`: the chains' purge checkpoints (`checkpoint`) "
        "and signed checkpoints (`signature`), then every entry recorded in the time range (`entry`, with its chain, "
        "position, digests and the exact request and response texts its digest covers), then a signature over each "
        "exported chain's newest entry made at export time. `python -m service.cli.audit verify-export FILE "
        "--public-key KEY` checks a file offline, with neither the service nor the database."
    ),
    responses={
        200: {"content": {"application/x-ndjson": {"example": EXPORT_NDJSON_EXAMPLE}}, "description": "One record per line."},
        **problems(401, 403, 422, 503),
    },
)
def export(
    caller: Exporter,
    store: StoreDep,
    window: Annotated[RecordedWindow, Query()],
    force: ForceQuery = None,
) -> StreamingResponse:
    lines = export_lines(store, recorded_from=window.from_, recorded_to=window.to, force=force, caller=caller)
    return StreamingResponse(lines, media_type="application/x-ndjson")


@router.get(
    "/export.ndjson",
    operation_id="export_audit_ndjson",
    response_class=NDJSONResponse,
    summary="Export the audit trail as NDJSON (this media type only)",
    description=(
        "The same export as GET /v1/audit/export, at an address that answers `application/x-ndjson` whatever the "
        "`Accept` header says: for generated clients, which read it as text, one JSON object per line."
    ),
    responses={
        **text_body("application/x-ndjson", "One record per line.", EXPORT_NDJSON_EXAMPLE),
        **problems(401, 403, 422, 503),
    },
)
def export_ndjson(
    caller: Exporter,
    store: StoreDep,
    window: Annotated[RecordedWindow, Query()],
    force: ForceQuery = None,
) -> NDJSONResponse:
    return NDJSONResponse(export_lines(store, recorded_from=window.from_, recorded_to=window.to, force=force, caller=caller))


@router.get(
    "/public-keys",
    operation_id="get_public_keys",
    response_model=PublicKeysOut,
    summary="The keys that sign audit checkpoints",
    description=(
        "The Ed25519 public keys whose signatures appear in exports (signed checkpoints every AUDIT_SIGN_EVERY entries "
        "of a chain, at each purge, and over each chain's newest entry at export time). Keep a copy outside this "
        "service: the offline verifier checks an export against it."
    ),
    responses={**json_example(PUBLIC_KEYS_EXAMPLE), **problems(401, 503)},
)
def signing_keys(caller: AnyRole, store: StoreDep) -> PublicKeysOut:
    return public_keys(store)


@router.post(
    "/purge",
    operation_id="purge_audit",
    response_model=PurgeOut,
    summary="Purge records past the retention period",
    description=(
        "For an administrator applying the force's records retention schedule: removes the oldest records recorded "
        "before now minus `older_than_days` (default RETENTION_DAYS), keeps a checkpoint of the last removed digest "
        "so that what remains still verifies, and records the purge itself in the chain."
    ),
    responses={**json_example(PURGE_EXAMPLE), **problems(401, 403, 422, 503)},
)
def purge(body: PurgeRequest, caller: Purger, store: StoreDep, settings: SettingsDep, clock: ClockDep) -> PurgeOut:
    return purge_records(store, body, retention_days=settings.retention_days, caller=caller, now=clock())
