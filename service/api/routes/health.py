"""GET /healthz and GET /readyz: no key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.api.responses import problems
from service.api.schemas import Health, Readiness
from service.health import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Process is up", description="Liveness for the container or load balancer: answers while the process runs.")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Ready to decide",
    description="Readiness: the policy is loaded and the record store answers. A 503 problem says which is missing; route no calls here until it passes.",
    responses=problems(503),
)
def readyz(request: Request) -> Readiness:
    return readiness(request.app.state)
