"""create_app(): the lifespan loads policy once, wires routers and error handlers."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from service.api.access import KeyRing
from service.api.docs import install_docs
from service.api.middleware import RequestMiddleware
from service.api.routes import abstractions, assessments, audit, candidates, health, policies
from service.config import Settings, get_settings
from service.engine.loader import PolicyLoadError, load_registry
from service.logging_setup import configure_logging
from service.metrics import Metrics
from service.errors import PROBLEM_MEDIA_TYPE, InvalidRequest, MethodNotAllowed, NotFound, ServiceError, field_path
from service.store import migrate
from service.store.database import make_engine
from service.store.abstractions import AbstractionStore
from service.store.idempotency import IdempotencyStore
from service.store.records import AuditStore

logger = logging.getLogger("service")

DESCRIPTION = """\
Decides whether a Police Community Support Officer (PCSO) may be assigned to a call, under which
conditions, with which powers, what is prohibited and when to withdraw, citing the force policy
clause behind every part of the answer. Every decision is recorded before it is answered.

Authorise with an API key (**Authorize**, then the key alone). Each endpoint lists the roles it admits.
"""


def _problem(error: ServiceError, request: Request) -> JSONResponse:
    return JSONResponse(
        error.problem(instance=request.url.path), status_code=error.status_code, media_type=PROBLEM_MEDIA_TYPE, headers=error.headers
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
        errors.append({"field": field_path(where), "message": message, "code": error.get("type", "invalid")})
    return errors


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
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
                "The body could not be read as JSON.", errors=[{"field": "body", "message": str(exc.detail), "code": "body_unreadable"}]
            )
        elif exc.status_code == 405:
            allowed = _allowed_methods(request)
            error = MethodNotAllowed(
                f"{request.method} is not allowed on {request.url.path}; allowed: {', '.join(allowed)}.", headers={"Allow": ", ".join(allowed)}
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


def _custom_openapi(app: FastAPI) -> dict[str, Any]:
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


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; policy and store are set up when it starts."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            app.state.registry = load_registry(settings.policy_dir, settings.schema_dir)
        except PolicyLoadError as exc:
            logger.error("refusing to start: %s", exc)
            raise
        engine = make_engine(settings.database_url)
        if settings.migrate_on_start:
            migrate.upgrade(engine)
        else:
            migrate.check(engine)
        app.state.settings = settings
        metrics.policy_loaded(app.state.registry, today=datetime.now(UTC).date())
        app.state.store = AuditStore(engine)
        app.state.abstractions = AbstractionStore(app.state.store)
        app.state.idempotency = IdempotencyStore(engine)
        app.state.keyring = KeyRing(settings.callers)
        if not settings.callers:
            logger.warning("API_KEYS is empty: every endpoint except the health checks will answer 401")
        # The compiled policy lives as long as the process: keep the collector from rescanning it.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        try:
            yield
        finally:
            app.state.store.close()
            engine.dispose()

    app = FastAPI(
        title="PCSO Deployment Decision Service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.metrics = metrics
    app.add_middleware(RequestMiddleware, metrics=metrics, max_body_bytes=settings.max_body_bytes)
    install_docs(app)
    app.include_router(assessments.router)
    app.include_router(candidates.router)
    app.include_router(abstractions.router)
    app.include_router(audit.router)
    app.include_router(policies.reload_router)
    app.include_router(policies.router)
    app.include_router(health.router)
    _install_error_handlers(app)
    app.openapi = lambda: _custom_openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
