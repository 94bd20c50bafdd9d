"""Per-request context shared by the service layer, the access log and the metrics."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

# The middleware puts a fresh dict here for each request. Handlers run in worker threads with a
# copy of the context, which still refers to the same dict, so what they note is seen afterwards.
REQUEST_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("request_context", default=None)


def note_decision(*, force: str, decision: str, policy_version: str, officer_id: str) -> None:
    """Record, for the access log and the metrics, a decision this request made."""
    context = REQUEST_CONTEXT.get()
    if context is not None:
        context.setdefault("decisions", []).append(
            {"force": force, "decision": decision, "policy_version": policy_version, "officer_id": officer_id}
        )


def note(**fields: Any) -> None:
    """Add fields to this request's log line."""
    context = REQUEST_CONTEXT.get()
    if context is not None:
        context.update(fields)


def current_request_id() -> str | None:
    context = REQUEST_CONTEXT.get()
    return context.get("request_id") if context else None
