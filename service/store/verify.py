"""Chain verification: walk the entries in order, checking each digest and each link.

An entry is *altered* when its content no longer gives its digest, *missing* when the sequence
has a gap not covered by a retention checkpoint, and *reordered* when it links to an entry other
than the one before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from service.store.chain import GENESIS, HEAD_ID, chain_digest, content_digest
from service.store.tables import audit_checkpoints, audit_records, chain_head

VERIFY_BATCH = 2000

_records = audit_records
_head = chain_head
_checkpoints = audit_checkpoints


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    kind: str  # altered | missing | reordered
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    intact: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    head_seq: int
    head_digest: str
    checkpoint_seq: int | None
    broken: ChainBreak | None


class _ChainWalk:
    """Checks entries in order: each digest against its content, each link against the entry before."""

    def __init__(self, connection: Any, checkpoints: dict[int, Any], expected_prev: str, start: int) -> None:
        self.connection = connection
        self.checkpoints = checkpoints
        self.expected_prev = expected_prev
        self.expected_seq = start
        self.checked = 0
        self.first_seq: int | None = None
        self.last_seq: int | None = None

    def run(self, rows: Iterable[Any]) -> ChainBreak | None:
        """Walk the rows; the first break found, or None."""
        for row in rows:
            broken = self._check(row)
            if broken is not None:
                return broken
            self.checked += 1
            self.last_seq = int(row.seq)
            self.expected_prev = row.digest
            self.expected_seq = self.last_seq + 1
        return None

    def _check(self, row: Any) -> ChainBreak | None:
        seq = int(row.seq)
        self.first_seq = seq if self.first_seq is None else self.first_seq
        gap = ChainBreak(self.expected_seq, "missing", f"entries {self.expected_seq} to {seq - 1} are missing")
        if chain_digest(row.prev_digest, content_digest(row)) != row.digest:
            return ChainBreak(seq, "altered", "the entry's content or digest no longer matches its digest")
        if row.prev_digest != self.expected_prev:
            if seq != self.expected_seq:
                return gap
            elsewhere = self.connection.execute(select(_records.c.seq).where(_records.c.digest == row.prev_digest)).scalar()
            if elsewhere is not None:
                return ChainBreak(
                    seq, "reordered", f"entry {seq} follows entry {int(elsewhere)} in the chain, not entry {seq - 1}"
                )
            return ChainBreak(seq, "missing", f"the entry that entry {seq} follows is no longer present")
        if seq != self.expected_seq:
            return gap
        if row.kind == "purge":
            problem = _check_purge_entry(row, self.checkpoints)
            if problem:
                return ChainBreak(seq, "altered", problem)
        return None


def verify_chain(engine: Engine, from_seq: int | None, to_seq: int | None) -> VerifyReport:
    """Walk the chain (or the range from_seq..to_seq) and report the first break, if any."""
    with engine.connect() as connection:
        head = connection.execute(select(_head.c.seq, _head.c.digest).where(_head.c.id == HEAD_ID)).one()
        head_seq = int(head.seq)
        checkpoints = {
            int(row.through_seq): row for row in connection.execute(select(_checkpoints).order_by(_checkpoints.c.through_seq))
        }
        first_present = connection.execute(select(func.min(_records.c.seq))).scalar()
        start = from_seq if from_seq is not None else (first_present if first_present is not None else 1)

        def report(broken: ChainBreak | None, walk: _ChainWalk | None = None) -> VerifyReport:
            return VerifyReport(
                intact=broken is None,
                checked=walk.checked if walk else 0,
                first_seq=walk.first_seq if walk else None,
                last_seq=walk.last_seq if walk else None,
                head_seq=head_seq,
                head_digest=head.digest,
                checkpoint_seq=max(checkpoints) if checkpoints else None,
                broken=broken,
            )

        # What the first entry walked must link to: the genesis, a purge checkpoint, or the entry before.
        if start == 1:
            expected_prev: str = GENESIS
        elif start - 1 in checkpoints and (first_present is None or start <= first_present):
            expected_prev = checkpoints[start - 1].digest
        else:
            before = connection.execute(select(_records.c.digest).where(_records.c.seq == start - 1)).scalar()
            if before is None:
                return report(
                    ChainBreak(start, "missing", f"entry {start - 1} is neither present nor covered by a purge checkpoint")
                )
            expected_prev = before

        conditions = [_records.c.seq >= start] + ([_records.c.seq <= to_seq] if to_seq is not None else [])
        walk = _ChainWalk(connection, checkpoints, expected_prev, start)
        rows = connection.execution_options(stream_results=True, yield_per=VERIFY_BATCH).execute(
            select(_records).where(*conditions).order_by(_records.c.seq)
        )
        try:
            broken = walk.run(rows)
        finally:
            rows.close()
        if broken is not None:
            return report(broken, walk)
        end = min(to_seq, head_seq) if to_seq is not None else head_seq
        if end >= start and (walk.last_seq is None or walk.last_seq < end):
            first_missing = start if walk.last_seq is None else walk.last_seq + 1
            return report(ChainBreak(first_missing, "missing", f"entries {first_missing} to {end} are missing"), walk)
        if walk.last_seq == head_seq and walk.expected_prev != head.digest:
            return report(ChainBreak(head_seq, "altered", "the newest entry does not match the chain head"), walk)
        return report(None, walk)


def _check_purge_entry(row: Any, checkpoints: dict[int, Any]) -> str | None:
    """A purge entry must agree with the checkpoint it left behind."""
    result = json.loads(row.response_json)
    through = result.get("through_seq")
    if through is None:
        return None
    checkpoint = checkpoints.get(int(through))
    if checkpoint is None or checkpoint.digest != result.get("checkpoint_digest"):
        return f"the purge through entry {through} has no matching checkpoint"
    return None
