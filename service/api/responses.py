"""Declared error responses, so that the docs page lists what each endpoint can answer."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response, StreamingResponse

from service.api.schemas.common import Problem
from service.errors import PROBLEM_MEDIA_TYPE

_DESCRIPTIONS = {
    401: "Missing or unknown API key.",
    403: "The key's role may not use this endpoint.",
    404: "Unknown force or record.",
    409: "A conflict with the service's state: an Idempotency-Key still in progress, an abstraction already authorised, a policy directory that cannot be loaded, or a reload that would remove a loaded force.",
    413: "The request body is larger than the service accepts.",
    422: "Malformed request: `errors` names each bad field.",
    503: "The decision could not be recorded, or the store is unreachable or cannot take writes; nothing was decided. Retry after `Retry-After` seconds.",
}


_HEADERS: dict[int, dict[str, Any]] = {
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying (with the same Idempotency-Key, if one was sent).",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem+json answers with these statuses."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {}},
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
