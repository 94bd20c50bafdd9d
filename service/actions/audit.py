"""Audit operations: verify the chain, export it, purge what the retention period allows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

from service.actions.access import Caller
from service.api.schemas.audit import PublicKeysOut, PurgeOut, PurgeRequest, VerifyOut
from service.errors import InvalidRequest, NotFound
from service.store.chain import chain_of
from service.store.records import AuditStore
from service.store.signing import ALGORITHM, public_text
from service.store.verify import VerifyReport


def verify_chains(store: AuditStore, *, force: str | None, from_seq: int | None, to_seq: int | None, caller: Caller) -> VerifyOut:
    """Walk one force's chain (or a range of it), or every chain of the caller's forces."""
    if from_seq is not None and to_seq is not None and to_seq < from_seq:
        raise InvalidRequest(
            "to_seq is before from_seq.", errors=[{"field": "to_seq", "message": "must be >= from_seq", "code": "invalid_range"}]
        )
    chains = [chain for chain in store.chains() if caller.acts_for(chain)]  # '~' chains: callers of every force
    if force is None:
        if from_seq is not None or to_seq is not None:
            raise InvalidRequest(
                "A range is a range of one force's chain: give force with from_seq or to_seq.",
                errors=[{"field": "force", "message": "required with from_seq or to_seq", "code": "missing"}],
            )
        selected = list(chains)
    else:
        selected = [chain_of(force)]
        if selected[0] not in chains:
            raise NotFound(f"No audit chain for '{force}': nothing has been recorded for it.")
    reports = [store.verify(chain=chain, from_seq=from_seq, to_seq=to_seq) for chain in selected]
    broken = next((report for report in reports if not report.intact), None)
    return VerifyOut.model_validate(
        {
            "status": "intact" if broken is None else "broken",
            "checked": sum(report.checked for report in reports),
            "broken": _break(broken) if broken is not None else None,
            "chains": [
                {
                    "chain": report.chain,
                    "status": "intact" if report.intact else "broken",
                    "checked": report.checked,
                    "first_seq": report.first_seq,
                    "last_seq": report.last_seq,
                    "head_seq": report.head_seq,
                    "head_digest": report.head_digest,
                    "checkpoint_seq": report.checkpoint_seq,
                    "broken": _break(report),
                }
                for report in reports
            ],
        }
    )


def _break(report: VerifyReport) -> dict[str, object] | None:
    if report.broken is None:
        return None
    return {"chain": report.chain, "seq": report.broken.seq, "kind": report.broken.kind, "detail": report.broken.detail}


def public_keys(store: AuditStore) -> PublicKeysOut:
    """The key that signs checkpoints now, and retired keys still accepted for older signatures."""
    current = store.signing.signer.key_id if store.signing is not None else None
    return PublicKeysOut.model_validate(
        {
            "keys": sorted(
                (
                    {"key_id": name, "algorithm": ALGORITHM, "public_key": public_text(key), "current": name == current}
                    for name, key in store.public_keys.items()
                ),
                key=lambda key: not key["current"],
            )
        }
    )


def export_lines(
    store: AuditStore, *, recorded_from: datetime | None, recorded_to: datetime | None, caller: Caller, force: str | None = None
) -> Iterator[bytes]:
    """NDJSON lines: checkpoints and signed checkpoints, then chain entries oldest first, then a
    signature over each exported chain's newest entry (see README "The audit trail"); only the
    chains of the caller's forces (another force's is exported as if it held nothing)."""
    chains = None if caller.forces is None else sorted(caller.forces)
    for entry in store.export(recorded_from=recorded_from, recorded_to=recorded_to, force=force, chains=chains):
        yield (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def purge_records(
    store: AuditStore, body: PurgeRequest, *, retention_days: int | None, caller: Caller, now: datetime
) -> PurgeOut:
    """Remove entries older than the retention period, keeping a checkpoint; the purge is itself recorded."""
    days = body.older_than_days or retention_days
    if days is None:
        raise InvalidRequest(
            "No retention period: give older_than_days or set RETENTION_DAYS.",
            errors=[{"field": "older_than_days", "message": "required when RETENTION_DAYS is not set", "code": "missing"}],
        )
    report = store.purge(
        cutoff=now - timedelta(days=days),
        now=now,
        identity=caller.audit_fields(),
        reason=body.reason,
        chains=lambda chain: caller.acts_for(chain),  # a service chain ('~...') belongs to callers of every force
    )
    return PurgeOut.model_validate(report, from_attributes=True)
