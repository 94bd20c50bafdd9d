"""Wire models of the health checks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    policies: dict[str, str] = Field(description="Force id -> policy digest loaded.")
    store: Literal["ok"]
    warnings: list[str] = Field(default_factory=list, description="E.g. a policy past its review date; the service stays ready.")
