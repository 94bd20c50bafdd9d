"""The OpenAPI document: tags, and problem+json declared for every error response."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from service.errors import PROBLEM_MEDIA_TYPE


def operation_id(route: APIRoute) -> str:
    """A route's operationId when it names none itself: its function's name (`healthz`, `list_policies`), what a
    generated client calls the operation."""
    return route.name


def custom_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, built once."""
    if app.openapi_schema is None:
        app.openapi_schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=[
                {"name": "assessments", "description": "Deployment decisions for the control room, and the record of each."},
                {"name": "dispatch", "description": "Choosing among the PCSOs on duty for a call."},
                {"name": "abstractions", "description": "Abstraction records and the monthly report (WMP 1.3)."},
                {"name": "audit", "description": "The tamper-evident audit trail: verification, export and retention."},
                {"name": "policies", "description": "The force policy sets and their catalogues, for integrators and planners."},
                {"name": "health", "description": "Liveness and readiness, without a key."},
            ],
        )
        _problem_responses_everywhere(app.openapi_schema)
    return app.openapi_schema


def _problem_responses_everywhere(document: dict[str, Any]) -> None:
    """Every error the service gives is problem+json: say so for FastAPI's own 422 too."""
    problem = {"$ref": "#/components/schemas/Problem"}
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem}}
                    if status == "422":
                        response["description"] = "Malformed request: `errors` names each bad field."
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
