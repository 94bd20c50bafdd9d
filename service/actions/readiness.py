"""Readiness: a policy is loaded and the store answers and can take writes."""

from __future__ import annotations

from datetime import date

from service.api.schemas.health import Readiness
from service.engine.policy import PolicyRegistry
from service.errors import NotReady
from service.store.records import AuditStore


def readiness(
    registry: PolicyRegistry | None, store: AuditStore | None, *, today: date, versions_stale_for: float | None = None
) -> Readiness:
    """Ready when a policy is loaded, approved policy versions were read from the store recently, and
    the store answers and can take writes; warnings for policies past review."""
    if registry is None or not registry.sets:
        raise NotReady("No policy is loaded.")
    if versions_stale_for is not None:
        # A worker that cannot read approved versions might decide with one that has been superseded.
        raise NotReady(f"Approved policy versions have not been read from the store for {versions_stale_for:.0f} s.")
    if store is None:
        raise NotReady("The record store is not open.")
    problem = store.unreachable()
    if problem is not None:
        raise NotReady(f"The record store cannot be reached ({problem}).")
    # A store that answers reads but cannot take writes (locked, read-only) cannot record decisions.
    problem = store.cannot_write()
    if problem is not None:
        raise NotReady(f"The record store cannot take writes ({problem}).")
    warnings = [
        f"{policy.id}: {policy.document.title} was due for review on {policy.review_due.isoformat()}"
        for _, policy in sorted(registry.sets.items())
        if policy.past_review(today)
    ]
    return Readiness(
        status="ready", policies={k: v.digest for k, v in sorted(registry.sets.items())}, store="ok", warnings=warnings
    )
