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


_DATES = {"datetime_out_of_range": "a date-time outside 2000-01-01 to 2100-01-01 UTC (JSON Schema cannot bound a date-time)"}
_POWERS = {
    "unknown_power": "a power code not in the force's catalogue (the catalogues are policy data: GET /v1/policies/{force}/powers)"
}
_REPLAYED = {"idempotency_key_reused": "an Idempotency-Key already used by this caller on this endpoint with another body"}
# The refusals of input the schema lets through, per operation: each depends on the service's state or on
# policy data, or on other fields, where JSON Schema cannot say it. A 422 for schema-valid input names one of
# these codes in `errors` (published as `x-refusals`, and tested so by the contract fuzz test).
_RECEIVED = {"received_at_out_of_window": "a `call.received_at` more than 24 hours before now or 5 minutes after"}
REFUSALS: dict[str, dict[str, str]] = {
    "create_assessment": {**_POWERS, **_REPLAYED, **_DATES, **_RECEIVED},
    "rank_candidates": {**_POWERS, **_REPLAYED, **_DATES, **_RECEIVED, "duplicate_officer": "the same officer listed twice"},
    "create_escalation": {
        **_REPLAYED,
        "nothing_changed": "a change with no field set",
        "task_not_applicable": "a task the call's force does not offer",
    },
    "list_assessments": {**_DATES, "invalid_cursor": "a cursor this service did not issue", "window_order": "`to` before `from`"},
    "export_audit": {**_DATES, "window_order": "`to` before `from`"},
    "export_audit_ndjson": {**_DATES, "window_order": "`to` before `from`"},
    "record_abstraction": _DATES,
    "verify_audit": {
        "missing": "`from_seq` or `to_seq` without `force`",
        "beyond_head": "a position beyond the newest entry of the force's chain",
        "purged": "a range starting in entries a purge removed",
        "invalid_range": "`to_seq` before `from_seq`",
    },
    "purge_audit": {"missing": "no `older_than_days` while RETENTION_DAYS is not set"},
    "replay_impact": {
        **_DATES,
        "window_order": "`to` before `from`",
        "invalid_path": "a file not named '<policy set>/<file>.json'",
        "invalid_policy": "candidate files that do not load as a policy (schema, references, citations)",
    },
    "upload_policy_version": {
        **_DATES,
        "invalid_path": "a file not named '<policy set>/<file>.json'",
        "invalid_policy": "candidate files that do not load as a policy (schema, references, citations)",
        "not_this_force": "a file of another policy set than the force's own",
        "effective_not_future": "an `effective_from` that is not after now",
        "window_order": "`effective_to` not after `effective_from`",
    },
    "get_matrix": _POWERS,
    "get_matrix_csv": _POWERS,
    "get_matrix_page": _POWERS,
}


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
                {
                    "name": "policy versions",
                    "description": "Versions of a force's policy by effective date: candidates, four-eyes approval, proofs, "
                    "and decisions explained with the version that made them.",
                },
                {"name": "health", "description": "Liveness and readiness, without a key."},
            ],
        )
        _problem_responses_everywhere(app.openapi_schema)
        _declared_refusals(app.openapi_schema)
    return app.openapi_schema


def _declared_refusals(document: dict[str, Any]) -> None:
    """Each operation's refusals of schema-valid input, as `x-refusals` and in its 422 description."""
    for item in document["paths"].values():
        for operation in item.values():
            refusals = REFUSALS.get(operation.get("operationId", ""))
            if not refusals:
                continue
            operation["x-refusals"] = dict(sorted(refusals.items()))
            response = operation.get("responses", {}).get("422")
            if response is not None:
                listed = "; ".join(f"`{code}`: {why}" for code, why in sorted(refusals.items()))
                response["description"] += f" Input the schema allows is also refused for: {listed}."


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
