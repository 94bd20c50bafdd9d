"""Typed dependency aliases: a handler's signature states its access rule."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.api.access import Caller, KeyRing, Permission
from service.engine.policy import PolicyRegistry
from service.errors import Forbidden, Unauthorized
from service.config import Settings
from service.store.records import AuditStore

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from API_KEYS, sent as `Authorization: Bearer <key>`.",
)


def get_registry(request: Request) -> PolicyRegistry:
    return request.app.state.registry


def get_store(request: Request) -> AuditStore:
    return request.app.state.store


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_clock() -> Callable[[], datetime]:
    return lambda: datetime.now(UTC)


def get_id_factory() -> Callable[[], str]:
    return lambda: str(uuid.uuid4())


def get_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send an API key as 'Authorization: Bearer <key>'.")
    keyring: KeyRing = request.app.state.keyring
    caller = keyring.identify(credentials.credentials)
    if caller is None:
        raise Unauthorized("The API key is not known.")
    return caller


def require(*permissions: Permission) -> Callable[[Caller], Caller]:
    """A dependency that admits callers holding any of ``permissions``."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if not any(caller.may(p) for p in permissions):
            raise Forbidden(f"The '{caller.role}' role may not do this.")
        return caller

    return check


RegistryDep = Annotated[PolicyRegistry, Depends(get_registry)]
StoreDep = Annotated[AuditStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
IdFactoryDep = Annotated[Callable[[], str], Depends(get_id_factory)]
AnyRole = Annotated[Caller, Depends(require(Permission.READ_CATALOGUE))]
Assessor = Annotated[Caller, Depends(require(Permission.ASSESS))]
AssessmentReader = Annotated[Caller, Depends(require(Permission.READ_OWN_ASSESSMENTS, Permission.READ_ALL_ASSESSMENTS))]
Verifier = Annotated[Caller, Depends(require(Permission.VERIFY_AUDIT))]
Exporter = Annotated[Caller, Depends(require(Permission.EXPORT_AUDIT))]
Purger = Annotated[Caller, Depends(require(Permission.PURGE_AUDIT))]
