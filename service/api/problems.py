"""Every error the service gives, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from service.api.schemas.common import text_problem
from service.errors import PROBLEM_MEDIA_TYPE, InvalidRequest, MethodNotAllowed, NotFound, NotRecorded, ServiceError, field_path
from service.ops.context import note

logger = logging.getLogger("service")


def _problem(error: ServiceError, request: Request) -> JSONResponse:
    return JSONResponse(
        error.problem(instance=request.url.path),
        status_code=error.status_code,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=error.headers,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        location = tuple(error.get("loc", ()))
        where = location[1:] if location and location[0] == "body" else location
        message = error.get("msg", "invalid")
        if error.get("type") == "extra_forbidden":
            message = "Unknown field; the contract does not allow it."
        elif error.get("type") == "json_invalid":
            message = f"The body is not valid JSON: {error.get('ctx', {}).get('error', 'parse error')}."
        code = error.get("type", "invalid")
        if code == "string_pattern_mismatch":
            # Identifiers and free text are checked by pattern; name the character, not the pattern.
            explained = text_problem(error.get("ctx", {}).get("pattern", ""), error.get("input"))
            if explained is not None:
                code, message = explained
        errors.append({"field": field_path(where), "message": message, "code": code})
    return errors


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """One handler per kind of failure; each answers problem+json."""

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        if isinstance(exc, NotRecorded):
            note(audit_write_failed=True)
        return _problem(exc, request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        named = ", ".join(e["field"] for e in errors[:5])
        return _problem(InvalidRequest(f"The request has {len(errors)} invalid field(s): {named}.", errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            error: ServiceError = NotFound(f"There is no endpoint at {request.url.path}.")
        elif exc.status_code == 400:
            # FastAPI's "error parsing the body" (bytes that are not JSON text): a malformed payload.
            error = InvalidRequest(
                "The body could not be read as JSON.",
                errors=[{"field": "body", "message": str(exc.detail), "code": "body_unreadable"}],
            )
        elif exc.status_code == 405:
            allowed = _allowed_methods(request)
            error = MethodNotAllowed(
                f"{request.method} is not allowed on {request.url.path}; allowed: {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
        else:
            error = ServiceError(str(exc.detail))
            error.status_code = exc.status_code
            error.slug = "http-error"
            error.title = "Request failed"
        return _problem(error, request)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return _problem(ServiceError("An unexpected error occurred; nothing was decided."), request)
