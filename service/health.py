"""Readiness: a policy is loaded and the store answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from service.api.schemas import Readiness
from service.errors import NotReady
from service.store.database import ping


def readiness(state: Any) -> Readiness:
    registry = getattr(state, "registry", None)
    if registry is None or not registry.sets:
        raise NotReady("No policy is loaded.")
    try:
        ping(state.store.engine)
    except SQLAlchemyError as exc:
        raise NotReady(f"The record store cannot be reached ({type(exc).__name__}).") from exc
    today = datetime.now(UTC).date()
    warnings = [
        f"{policy.id}: {policy.document.title} was due for review on {policy.review_due.isoformat()}"
        for _, policy in sorted(registry.sets.items())
        if policy.past_review(today)
    ]
    return Readiness(status="ready", policies={k: v.digest for k, v in sorted(registry.sets.items())}, store="ok", warnings=warnings)
