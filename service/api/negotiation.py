"""Content negotiation: the endpoints that also answer CSV, and the full or compact view of a decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import pydantic_core
from fastapi import Query, Request, Response
from typing_extensions import TypeAliasType

from service.actions.documents import to_json


def wants_csv(request: Request) -> bool:
    """True when the Accept header prefers text/csv over JSON."""
    accept = request.headers.get("accept", "")
    ranked = []
    for part in accept.split(","):
        media, *params = [piece.strip() for piece in part.split(";")]
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        ranked.append((quality, media))
    csv_q = max((q for q, m in ranked if m == "text/csv"), default=0.0)
    json_q = max((q for q, m in ranked if m in ("application/json", "*/*", "application/*")), default=0.0)
    return csv_q > 0 and csv_q >= json_q


View = TypeAliasType("View", Literal["full", "compact"])
ViewQuery = Annotated[
    View,
    Query(
        description="`full` (the default): the whole decision document, as recorded. `compact`: the decision, its "
        "summary, the finding codes and clause labels, the ids and the policy version and digest, under 1.5 KB per "
        "decision for a CAD screen. Either view of a request is derived from the one recorded answer, so an "
        "Idempotency-Key retry may ask for either and gets the same answer each time.",
    ),
]


def render_view(response: Response, view: View, compact: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    """``response`` as recorded (full), or its decision document turned into the compact view by ``compact``.

    Only a 200 answer has a view; headers such as Idempotent-Replayed are kept."""
    if view == "full" or response.status_code != 200:
        return response
    document = pydantic_core.from_json(bytes(response.body))
    kept = {name: value for name, value in response.headers.items() if name.lower() not in ("content-length", "content-type")}
    return Response(content=to_json(compact(document)), status_code=200, media_type="application/json", headers=kept)
