"""Declared error responses, so that the docs page lists what each endpoint can answer."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response, StreamingResponse

from service.api.schemas.common import Problem
from service.errors import PROBLEM_MEDIA_TYPE

_DESCRIPTIONS = {
    401: "Missing or unknown API key, or a bearer token that is not accepted (`invalid-token`: the detail says which check failed).",
    403: "The caller's role may not use this endpoint (`forbidden`), or the request is for a force the caller does not act for (`force-out-of-scope`, naming the force).",
    404: "Unknown force or record, or one of a force the caller does not act for.",
    409: "A conflict with the service's state: an Idempotency-Key still in progress, an abstraction already authorised, a policy directory that cannot be loaded, or a reload that would remove a loaded force.",
    413: "The request body is larger than the service accepts.",
    422: "Malformed request: `errors` names each bad field.",
    503: "The decision could not be recorded, or the store is unreachable or cannot take writes; nothing was decided. Or the identity provider cannot be reached to check a token signed by a key not yet seen (`identity-provider-unavailable`). Retry after `Retry-After` seconds.",
}


_HEADERS: dict[int, dict[str, Any]] = {
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying (with the same Idempotency-Key, if one was sent).",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}


_BASE = "https://pcso-deployment.local/problems/"
_EXAMPLES: dict[int, dict[str, Any]] = {
    401: {
        "expired_token": {
            "summary": "A token past its expiry",
            "value": {
                "type": _BASE + "invalid-token",
                "title": "The bearer token is not accepted",
                "status": 401,
                "detail": "The token expired (exp 2026-11-25T09:14:03Z).",
            },
        },
        "unknown_key": {
            "summary": "An API key the service does not know",
            "value": {
                "type": _BASE + "unauthorized",
                "title": "Missing or unknown API key",
                "status": 401,
                "detail": "The API key is not known.",
            },
        },
    },
    403: {
        "force_out_of_scope": {
            "summary": "A Kent dispatcher asking about a West Midlands call",
            "value": {
                "type": _BASE + "force-out-of-scope",
                "title": "The caller does not act for this force",
                "status": 403,
                "detail": "This caller acts for kent, not for 'west-midlands'.",
                "errors": [
                    {"field": "force", "message": "not a force this caller acts for: west-midlands", "code": "force_out_of_scope"}
                ],
            },
        },
        "role": {
            "summary": "A role that may not use the endpoint",
            "value": {
                "type": _BASE + "forbidden",
                "title": "This key's role may not do that",
                "status": 403,
                "detail": "The 'planner' role may not do this.",
            },
        },
    },
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem+json answers with these statuses."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"examples": _EXAMPLES[status]} if status in _EXAMPLES else {}},
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in statuses
    }


# Responses of the routes that answer one media type only, so that a generated client reads them as text.
class CSVResponse(Response):
    media_type = "text/csv"  # answered with "; charset=utf-8", as Starlette adds to text types


class NDJSONResponse(StreamingResponse):
    media_type = "application/x-ndjson"


def text_body(media_type: str, description: str, example: str | None = None) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI 200 entry of a route that answers text of this one media type."""
    content: dict[str, Any] = {"schema": {"type": "string"}}
    if example is not None:
        content["example"] = example
    return {200: {"description": description, "content": {media_type: content}}}


def json_example(example: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry giving a JSON answer's example (the schema comes from the route's response model)."""
    return {status: {"content": {"application/json": {"example": example}}}}
