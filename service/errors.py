"""One error hierarchy, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://pcso-deployment.local/problems/"


class ServiceError(Exception):
    """An expected failure with an HTTP status; rendered as a problem document."""

    status_code = 500
    slug = "internal-error"
    title = "Internal error"
    # Seconds after which a retry may succeed, sent as Retry-After (every 503 has one).
    retry_after: int | None = None

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        if self.retry_after is not None:
            headers = {"Retry-After": str(self.retry_after), **(headers or {})}
        self.headers = headers

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status_code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class InvalidRequest(ServiceError):
    status_code = 422
    slug = "validation-error"
    title = "The request is not valid"


class Unauthorized(ServiceError):
    status_code = 401
    slug = "unauthorized"
    title = "Missing or unknown API key"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail, headers=headers or {"WWW-Authenticate": "Bearer"})


class Forbidden(ServiceError):
    status_code = 403
    slug = "forbidden"
    title = "This key's role may not do that"


class NotFound(ServiceError):
    status_code = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(ServiceError):
    status_code = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


# A store that timed out or dropped a connection is usually back within moments.
RETRY_AFTER_SECONDS = 1


class StoreUnavailable(ServiceError):
    status_code = 503
    slug = "store-unavailable"
    title = "The decision could not be recorded"
    retry_after = RETRY_AFTER_SECONDS


class NotRecorded(StoreUnavailable):
    """A decision (or other audited change) that could not be committed to the audit trail."""


class NotReady(ServiceError):
    status_code = 503
    slug = "not-ready"
    title = "The service is not ready"
    retry_after = RETRY_AFTER_SECONDS


def field_path(location: tuple[str | int, ...]) -> str:
    """('officer', 'designated_powers', 1) -> 'officer.designated_powers[1]'."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


class Conflict(ServiceError):
    status_code = 409
    slug = "conflict"
    title = "A request with this Idempotency-Key is still in progress"


class PayloadTooLarge(ServiceError):
    status_code = 413
    slug = "payload-too-large"
    title = "The request body is too large"


class PolicyRejected(ServiceError):
    status_code = 409
    slug = "policy-rejected"
    title = "The policy directory is not valid; the loaded policy is unchanged"


class AlreadyAuthorised(ServiceError):
    status_code = 409
    slug = "already-authorised"
    title = "The abstraction is already authorised"


class ReloadWouldRemoveForce(ServiceError):
    """A reload that would stop deciding for a loaded force without being told to."""

    status_code = 409
    slug = "reload-would-remove-force"
    title = "The reload would remove a loaded force; the loaded policy is unchanged"
