"""create_app(): the lifespan loads policy once, wires routers and error handlers."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from service.actions.access import KeyRing
from service.actions.decisions import DecisionCache
from service.actions.identity import OidcConfig, OidcVerifier
from service.actions.versions import VersionBook, activate_due, record_directory_versions
from service.api.docs import install_docs
from service.api.middleware import RequestMiddleware
from service.api.openapi import custom_openapi, operation_id
from service.api.problems import install_error_handlers
from service.api.routes import abstractions, assessments, audit, candidates, health, policies, versions
from service.config import Settings, get_settings
from service.engine.loader import PolicyLoadError, load_registry
from service.ops.ids import random_uuid
from service.ops.logs import configure_logging
from service.ops.metrics import Metrics
from service.store import migrate
from service.store.abstractions import AbstractionStore
from service.store.chain import Signing
from service.store.database import make_engine
from service.store.idempotency import IdempotencyStore
from service.store.records import AuditStore
from service.store.signing import Signer, SigningKeyError, previous_public_keys
from service.store.versions import VersionStore

logger = logging.getLogger("service")
WORKER_THREADS = 40
DEVELOPMENT_SIGNING_KEY = Path("var/audit-signing.key")

DESCRIPTION = """\
Decides whether a Police Community Support Officer (PCSO) may be assigned to a call, under which
conditions, with which powers, what is prohibited and when to withdraw, citing the force policy
clause behind every part of the answer. Every decision is recorded before it is answered.

Authorise with an API key (**Authorize**, then the key alone). Each endpoint lists the roles it admits.
"""


def audit_signing(settings: Settings) -> Signing:
    """The key that signs audit checkpoints: from the settings, or (development only, when none is
    set) a key kept in var/audit-signing.key, created on first start."""
    if settings.audit_signing_key is not None:
        signer = Signer.from_text(settings.audit_signing_key.get_secret_value())
    elif settings.audit_signing_key_file is not None:
        signer = Signer.from_file(settings.audit_signing_key_file)
    elif settings.environment == "development":
        signer = Signer.from_file(DEVELOPMENT_SIGNING_KEY, create=True)
    else:
        raise SigningKeyError("AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE must be set in production: it signs audit checkpoints")
    return Signing(signer, every=settings.audit_sign_every)


def _new_id() -> str:
    return str(random_uuid())


def _now() -> datetime:
    return datetime.now(UTC)


def _warn_unknown_scopes(settings: Settings, loaded: Iterable[str]) -> None:
    """A key scoped to a force that is not loaded acts for nothing there: say so at start-up."""
    known = set(loaded)
    for grant in settings.callers.values():
        for force in sorted((grant.forces or frozenset()) - known):
            logger.warning("an API key is scoped to force %r, which is not loaded", force)


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
        engine = make_engine(settings.database_url, wait_seconds=settings.store_wait_seconds)
        if settings.migrate_on_start:
            migrate.upgrade(engine)
        else:
            migrate.check(engine)
        app.state.settings = settings
        metrics.policy_loaded(app.state.registry, today=datetime.now(UTC).date())
        try:
            app.state.signing = audit_signing(settings)
            previous_keys = previous_public_keys(settings.audit_previous_public_keys)
        except SigningKeyError as exc:
            logger.error("refusing to start: %s", exc)
            raise
        app.state.store = AuditStore(
            engine, signing=app.state.signing, previous_keys=previous_keys, wait_seconds=settings.store_wait_seconds
        )
        app.state.abstractions = AbstractionStore(app.state.store)
        app.state.idempotency = IdempotencyStore(engine)
        app.state.keyring = KeyRing(settings.callers)
        app.state.versions = VersionStore(app.state.store)
        app.state.version_book = VersionBook(app.state.versions, settings.schema_dir)
        record_directory_versions(app.state.registry, settings.policy_dir, app.state.versions, datetime.now(UTC))

        async def sync_versions() -> None:
            """Hold every approved version, and record each that has taken effect (once across workers)."""
            async with app.state.registry_lock:  # one swap at a time (a reload swaps too)
                refreshed = await asyncio.to_thread(app.state.version_book.refresh, app.state.registry)
                if refreshed is not None:
                    app.state.registry = app.state.registry.with_versions(refreshed.versions)
                app.state.versions_synced_at = time.monotonic()
            await asyncio.to_thread(activate_due, app.state.registry, app.state.versions, datetime.now(UTC), _new_id)

        async def keep_versions_in_step() -> None:
            while True:
                await asyncio.sleep(settings.policy_sync_seconds)
                try:
                    await sync_versions()
                except Exception:  # noqa: BLE001 - the store may be away: the next round tries again
                    logger.exception("policy version sync failed; retrying in %s s", settings.policy_sync_seconds)

        app.state.sync_versions = sync_versions
        app.state.registry_lock = asyncio.Lock()
        await sync_versions()
        syncing = asyncio.get_running_loop().create_task(keep_versions_in_step())
        oidc = OidcConfig.from_settings(settings)
        app.state.oidc = OidcVerifier(oidc) if oidc is not None else None
        if app.state.oidc is not None:
            await app.state.oidc.warm()
        _warn_unknown_scopes(settings, app.state.registry.sets)
        # Actions hand blocking store calls and long rankings to asyncio.to_thread: give that pool
        # the headroom Starlette's own thread pool has, so a ranking never starves a key claim.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="action")
        )
        if not settings.callers and app.state.oidc is None:
            logger.warning("API_KEYS is empty and OIDC_ISSUER unset: every endpoint except the health checks will answer 401")
        # The compiled policy lives as long as the process: keep the collector from rescanning it.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        try:
            yield
        finally:
            syncing.cancel()
            if app.state.oidc is not None:
                await app.state.oidc.aclose()
            app.state.store.close()
            engine.dispose()

    app = FastAPI(
        title="PCSO Deployment Decision Service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.metrics = metrics
    app.state.clock = _now
    app.state.new_id = _new_id
    app.state.decisions = DecisionCache(settings.decision_cache_size)
    app.add_middleware(RequestMiddleware, metrics=metrics, max_body_bytes=settings.max_body_bytes)
    install_docs(app)
    app.include_router(assessments.decisions)
    app.include_router(assessments.router)
    app.include_router(candidates.router)
    app.include_router(abstractions.router)
    app.include_router(audit.router)
    app.include_router(versions.router)
    app.include_router(policies.reload_router)
    app.include_router(policies.router)
    app.include_router(health.router)
    install_error_handlers(app)
    app.openapi = lambda: custom_openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
