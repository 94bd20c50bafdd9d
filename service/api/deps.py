"""Typed dependency aliases: a handler's signature states its access rule.

The dependencies are `async def` because they only read app state and hash a key: FastAPI runs a
plain `def` dependency in the thread pool, and a hop per dependency per request costs more than
deciding the call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from pydantic import BaseModel, WithJsonSchema

from service.actions.access import Caller, KeyRing, Permission
from service.actions.decisions import UNCACHED, DecisionCache, Recording
from service.actions.idempotency import KEY_PATTERN, Completion, run_idempotent
from service.actions.identity import OidcVerifier, looks_like_jwt
from service.actions.policies import policy_for
from service.api.schemas.common import Identifier
from service.config import Settings
from service.engine.policy import PolicyRegistry, PolicySet
from service.errors import Forbidden, InvalidRequest, Unauthorized
from service.store.abstractions import AbstractionStore
from service.store.idempotency import IdempotencyStore
from service.store.records import AuditStore

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from API_KEYS, sent as `Authorization: Bearer <key>`.",
)
token_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OidcToken",
    bearerFormat="JWT",
    description="An access token from the force's OpenID Connect identity provider (OIDC_ISSUER), sent as "
    "`Authorization: Bearer <token>`. Its roles claim gives the role, its forces claim the forces it acts for.",
)


async def get_registry(request: Request) -> PolicyRegistry:
    return request.app.state.registry


async def get_store(request: Request) -> AuditStore:
    return request.app.state.store


async def get_abstraction_store(request: Request) -> AbstractionStore:
    return request.app.state.abstractions


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_clock(request: Request) -> Callable[[], datetime]:
    """The service's clock (``app.state.clock``; a test sets its own there)."""
    return request.app.state.clock


async def get_id_factory(request: Request) -> Callable[[], str]:
    return request.app.state.new_id


async def identify(request: Request, credential: str) -> Caller | None:
    """The caller an API key or an OIDC token names; None for an unknown key. A token that
    fails any check is a 401 saying which (or a 503 when the provider's keys cannot be fetched)."""
    verifier: OidcVerifier | None = request.app.state.oidc
    if looks_like_jwt(credential):
        if verifier is None:
            raise Unauthorized("Bearer tokens are not accepted here: no OpenID Connect issuer is configured (OIDC_ISSUER).")
        return await verifier.caller(credential)
    keyring: KeyRing = request.app.state.keyring
    return keyring.identify(credential)


async def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    _token: Annotated[HTTPAuthorizationCredentials | None, Depends(token_bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send an API key or an access token as 'Authorization: Bearer <credential>'.")
    caller = await identify(request, credentials.credentials)
    if caller is None:
        raise Unauthorized("The API key is not known.")
    return caller


browser_basic = HTTPBasic(
    auto_error=False,
    scheme_name="BrowserKey",
    realm="PCSO deployment",
    description="For pages opened in a browser: any user name, the API key as the password.",
)


async def get_browser_caller(
    request: Request,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(browser_basic)],
) -> Caller:
    """A caller from HTTP Basic (the browser's own prompt; the password is the key) or a bearer key."""
    keyring: KeyRing = request.app.state.keyring
    challenge = {"WWW-Authenticate": 'Basic realm="PCSO deployment", charset="UTF-8"'}
    if credentials is not None:
        caller = keyring.identify(credentials.password)
        if caller is None:
            raise Unauthorized("The API key is not known.", headers=challenge)
        return caller
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() == "bearer" and key:
        caller = await identify(request, key.strip())
        if caller is not None:
            return caller
    raise Unauthorized("Sign in with any user name and an API key as the password.", headers=challenge)


def require(
    *permissions: Permission, authenticate: Callable[..., Awaitable[Caller]] = get_caller
) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that admits callers holding any of ``permissions``."""

    async def check(caller: Caller = Depends(authenticate)) -> Caller:  # noqa: B008 - a local name cannot go in Annotated here
        admit(caller, permissions)
        return caller

    return check


def admit(caller: Caller, permissions: tuple[Permission, ...]) -> None:
    """A 403 unless the caller holds one of ``permissions``."""
    if not any(caller.may(p) for p in permissions):
        raise Forbidden(f"The '{caller.role}' role may not do this.")


RegistryDep = Annotated[PolicyRegistry, Depends(get_registry)]
StoreDep = Annotated[AuditStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
IdFactoryDep = Annotated[Callable[[], str], Depends(get_id_factory)]
AnyRole = Annotated[Caller, Depends(require(Permission.READ_CATALOGUE))]
AssessmentReader = Annotated[Caller, Depends(require(Permission.READ_OWN_ASSESSMENTS, Permission.READ_ALL_ASSESSMENTS))]
Verifier = Annotated[Caller, Depends(require(Permission.VERIFY_AUDIT))]
Exporter = Annotated[Caller, Depends(require(Permission.EXPORT_AUDIT))]
Purger = Annotated[Caller, Depends(require(Permission.PURGE_AUDIT))]
MatrixReader = Annotated[Caller, Depends(require(Permission.READ_MATRIX))]
AbstractionRecorder = Annotated[Caller, Depends(require(Permission.RECORD_ABSTRACTION))]
AbstractionAuthoriser = Annotated[Caller, Depends(require(Permission.AUTHORISE_ABSTRACTION))]
AbstractionReader = Annotated[Caller, Depends(require(Permission.READ_ABSTRACTIONS))]
ReportReader = Annotated[Caller, Depends(require(Permission.READ_REPORTS))]
ImpactAnalyst = Annotated[Caller, Depends(require(Permission.POLICY_IMPACT))]
PolicyReloader = Annotated[Caller, Depends(require(Permission.RELOAD_POLICY))]
PolicyProposer = Annotated[Caller, Depends(require(Permission.PROPOSE_POLICY))]
PolicyApprover = Annotated[Caller, Depends(require(Permission.APPROVE_POLICY))]
AbstractionStoreDep = Annotated[AbstractionStore, Depends(get_abstraction_store)]
IdempotencyKeyHeader = Annotated[
    str | None,
    # Declared as a plain optional string with its rules, so a generated client may omit it; the
    # rules are checked by the action, which names the header in its 422.
    WithJsonSchema({"type": "string", "pattern": KEY_PATTERN.pattern, "minLength": 1, "maxLength": 255}),
    Header(
        alias="Idempotency-Key",
        description="1 to 255 visible ASCII characters, scoped to the API key and the endpoint: the same key on another "
        "endpoint is another key. A retry with the same key and body gets the original recorded answer "
        "(Idempotent-Replayed: true); the same key with a different body is a 422; while the first is still being "
        "decided, a 409.",
    ),
]
ForceId = Annotated[
    Identifier, Path(min_length=1, max_length=64, description="Policy set id", examples=["west-midlands", "kent"])
]


async def get_force_policy(force: ForceId, registry: RegistryDep) -> PolicySet:
    """The policy set named in the path, or a 404 naming the known forces."""
    return policy_for(registry, force)


class DecisionPost:
    """A POST that decides and records, and that the CAD may retry: run at most once per
    Idempotency-Key (a retry gets the recorded answer), answered with the recorded JSON."""

    def __init__(
        self,
        *,
        caller: Caller,
        registry: PolicyRegistry,
        store: AuditStore,
        keys: IdempotencyStore,
        key: str | None,
        clock: Callable[[], datetime],
        new_id: Callable[[], str],
        decisions: DecisionCache = UNCACHED,
    ) -> None:
        self.caller = caller
        self.registry = registry
        self.store = store
        self.keys = keys
        self.key = key
        self.clock = clock
        self.new_id = new_id
        self.decisions = decisions

    async def answer(
        self, *, endpoint: str, body: BaseModel, action: Callable[[Recording], Awaitable[tuple[int, str]]]
    ) -> Response:
        """Run ``action`` (or replay its recorded answer) and render what was recorded."""
        now = self.clock()

        def run(completion: Completion | None) -> Awaitable[tuple[int, str]]:
            return action(Recording(self.registry, self.store, self.caller, now, self.new_id, completion, self.decisions))

        status, text, replayed = await run_idempotent(
            store=self.keys, caller=self.caller, key=self.key, endpoint=endpoint, body=body, now=now, run=run
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return Response(content=text, status_code=status, media_type="application/json", headers=headers)


# What a decision post's operation declares instead of the two bearer dependencies (see decision_post).
BEARER_SECURITY: dict[str, Any] = {"security": [{bearer.scheme_name: []}, {token_bearer.scheme_name: []}]}


def decision_post(*permissions: Permission) -> Callable[..., Awaitable[DecisionPost]]:
    """The dependency of a route that decides and records: the caller (holding any of ``permissions``),
    the Idempotency-Key and what the decision is made and recorded with, in one dependency.

    It is the only dependency of the routes every dispatch goes through, because each dependency
    FastAPI resolves costs about as much as the decision itself: it reads the bearer credential as
    ``get_caller`` does (the route declares both bearer schemes with ``BEARER_SECURITY``) and takes
    the store, the clock, the id factory and the decision cache from the app's state."""

    async def post(request: Request, idempotency_key: IdempotencyKeyHeader = None) -> DecisionPost:
        caller = await get_caller(request, await bearer(request), None)
        admit(caller, permissions)
        state = request.app.state
        return DecisionPost(
            caller=caller,
            registry=state.registry,
            store=state.store,
            keys=state.idempotency,
            key=idempotency_key,
            clock=state.clock,
            new_id=state.new_id,
            decisions=state.decisions,
        )

    post.one_pass = True  # type: ignore[attr-defined]  # DecisionRoute may call it directly
    return post


PolicyDep = Annotated[PolicySet, Depends(get_force_policy)]
AssessmentPost = Annotated[DecisionPost, Depends(decision_post(Permission.ASSESS))]
EscalationPost = Annotated[DecisionPost, Depends(decision_post(Permission.ESCALATE))]
BrowserMatrixReader = Annotated[Caller, Depends(require(Permission.READ_MATRIX, authenticate=get_browser_caller))]


def _declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameters a route declares, in its own parameters and its dependencies'."""
    declared: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        for parameter in dependant.query_params:
            model = parameter.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):  # a model of query parameters
                declared |= {field.alias or name for name, field in model.model_fields.items()}
            else:
                declared.add(parameter.alias)
        pending.extend(dependant.dependencies)
    return frozenset(declared)


_DECLARED_QUERY = "_pcso_declared_query_parameters"


async def known_query_parameters(request: Request) -> None:
    """Refuse query parameters the route does not declare (a typo must not be silently ignored)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    query = request.query_params
    if not query:
        return
    declared = getattr(route, _DECLARED_QUERY, None)
    if declared is None:  # worked out once per route
        declared = _declared_query_parameters(route)
        setattr(route, _DECLARED_QUERY, declared)
    unknown = sorted(set(query) - declared)
    if unknown:
        raise InvalidRequest(
            f"Unknown query parameter(s): {', '.join(repr(name) for name in unknown)}.",
            errors=[
                {"field": f"query.{name}", "message": "not a parameter of this route", "code": "extra_forbidden"}
                for name in unknown
            ],
        )


KnownQueryParameters = Depends(known_query_parameters)
