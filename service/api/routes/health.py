"""GET /healthz and GET /readyz: no key needed."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from service.actions.readiness import readiness
from service.api.examples import HEALTH_EXAMPLE, METRICS_EXAMPLE, READY_EXAMPLE
from service.api.responses import json_example, problems
from service.api.schemas.health import Health, Readiness
from service.api.strict_json import StrictJSONRoute

router = APIRouter(tags=["health"], route_class=StrictJSONRoute)


@router.get(
    "/healthz",
    response_model=Health,
    summary="Process is up",
    description="Liveness for the container or load balancer: answers while the process runs.",
    responses=json_example(HEALTH_EXAMPLE),
)
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Ready to decide",
    description=(
        "Readiness: the policy is loaded and the record store answers and can take writes (a write could start within "
        "STORE_WAIT_SECONDS). A 503 problem says which is missing; route no calls here until it passes."
    ),
    responses={**json_example(READY_EXAMPLE), **problems(503)},
)
def readyz(request: Request) -> Readiness:
    state = request.app.state
    synced, settings = getattr(state, "versions_synced_at", None), getattr(state, "settings", None)
    stale = None
    if synced is not None and settings is not None and time.monotonic() - synced > 3 * settings.policy_sync_seconds + 5:
        stale = time.monotonic() - synced
    return readiness(
        getattr(state, "registry", None), getattr(state, "store", None), today=datetime.now(UTC).date(), versions_stale_for=stale
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description=(
        "For monitoring: decisions by force and outcome, request latency by route, audit write failures, and the policy "
        "version loaded per force. Prometheus text format; no key needed."
    ),
    response_class=Response,
    responses={200: {"content": {"text/plain": {"example": METRICS_EXAMPLE}}, "description": "Prometheus exposition format."}},
)
def metrics(request: Request) -> Response:
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type)
