"""Audit operations: verify the chain, export it, purge what the retention period allows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

from service.actions.access import Caller
from service.api.schemas.audit import PurgeOut, PurgeRequest, VerifyOut
from service.errors import InvalidRequest
from service.store.records import AuditStore


def verify_chain(store: AuditStore, *, from_seq: int | None, to_seq: int | None) -> VerifyOut:
    """Walk the chain or a range of it."""
    if from_seq is not None and to_seq is not None and to_seq < from_seq:
        raise InvalidRequest(
            "to_seq is before from_seq.", errors=[{"field": "to_seq", "message": "must be >= from_seq", "code": "invalid_range"}]
        )
    report = store.verify(from_seq=from_seq, to_seq=to_seq)
    return VerifyOut.model_validate(
        {
            "status": "intact" if report.intact else "broken",
            "checked": report.checked,
            "first_seq": report.first_seq,
            "last_seq": report.last_seq,
            "head_seq": report.head_seq,
            "head_digest": report.head_digest,
            "checkpoint_seq": report.checkpoint_seq,
            "broken": report.broken,
        },
        from_attributes=True,
    )


def export_lines(store: AuditStore, *, recorded_from: datetime | None, recorded_to: datetime | None) -> Iterator[bytes]:
    """NDJSON lines, one chain entry each, oldest first."""
    for entry in store.export(recorded_from=recorded_from, recorded_to=recorded_to):
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
        cutoff=now - timedelta(days=days), now=now, caller_role=caller.role, caller_key_id=caller.key_id, reason=body.reason
    )
    return PurgeOut.model_validate(report, from_attributes=True)
