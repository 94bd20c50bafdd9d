"""OpenID Connect bearer tokens: who the caller is, from the force's identity provider.

PyJWT does the JOSE work (parsing, signature, claims); this module finds the provider's keys and
keeps them: the issuer's discovery document names its JWKS, which is fetched once and cached. A
token signed by a key not in the cache fetches the JWKS again, at most once per
``OIDC_JWKS_REFRESH_SECONDS`` (so a flood of forged key ids cannot hammer the provider), and
keys already cached keep working while the provider cannot be reached. A token is never stored or
logged; the caller it yields carries the subject, the client id and the forces it acts for.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt

from service.actions.access import Caller
from service.config import FORCE_ID, ROLES, Settings, parse_role_map, parse_scope
from service.errors import Forbidden, ServiceError, Unauthorized

logger = logging.getLogger("service.identity")

DISCOVERY_PATH = "/.well-known/openid-configuration"
CLIENT_ID_CLAIMS = ("azp", "appid", "client_id")  # Entra v2 tokens use azp, v1 appid, RFC 9068 client_id


class InvalidToken(Unauthorized):
    slug = "invalid-token"
    title = "The bearer token is not accepted"

    def __init__(self, detail: str) -> None:
        description = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "'" for ch in detail)
        super().__init__(detail, headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'})


class IdentityProviderUnavailable(ServiceError):
    status_code = 503
    slug = "identity-provider-unavailable"
    title = "The identity provider cannot be reached"
    retry_after = 5


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    roles_claim: str = "roles"
    role_map: tuple[tuple[str, str], ...] = ()
    forces_claim: str = "forces"
    fixed_forces: frozenset[str] | None = frozenset()
    fixed_forces_set: bool = False
    leeway_seconds: int = 30
    refresh_seconds: float = 30.0
    max_age_seconds: float = 3600.0
    http_timeout_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        if settings.oidc_issuer is None or settings.oidc_audience is None:
            return None
        return cls(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            algorithms=tuple(settings.algorithms),
            roles_claim=settings.oidc_roles_claim,
            role_map=tuple(parse_role_map(settings.oidc_role_map).items()),
            forces_claim=settings.oidc_forces_claim,
            fixed_forces=parse_scope(settings.oidc_forces) if settings.oidc_forces else frozenset(),
            fixed_forces_set=bool(settings.oidc_forces),
            leeway_seconds=settings.oidc_leeway_seconds,
            refresh_seconds=settings.oidc_jwks_refresh_seconds,
            max_age_seconds=settings.oidc_jwks_max_age_seconds,
            http_timeout_seconds=settings.oidc_http_timeout_seconds,
        )


def looks_like_jwt(credential: str) -> bool:
    """A compact JWS (three base64url parts, a JSON header): an API key never has this shape."""
    return credential.count(".") == 2 and credential.startswith("eyJ")


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (e.g. realm_access.roles)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _values(value: Any) -> list[str]:
    """A claim's values: a list of strings, or one string of values separated by spaces."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


# Key types that can verify each accepted algorithm (a shared-secret key never can).
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


def _printable(text: str, limit: int = 60) -> str:
    """Untrusted text made safe for a problem detail and a header: printable ASCII, bounded."""
    cleaned = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."


def _usable(jwk: Any, algorithms: tuple[str, ...]) -> bool:
    """A published key this service may verify with: a signing key of an asymmetric type, whose
    kid and alg (when given) are strings and whose alg is one the service accepts."""
    if not isinstance(jwk, dict) or jwk.get("kty") not in ("RSA", "EC", "OKP"):
        return False
    if jwk.get("use", "sig") != "sig" or not isinstance(jwk.get("kid", ""), str):
        return False
    alg = jwk.get("alg")
    return alg is None or (isinstance(alg, str) and alg in algorithms)


class OidcVerifier:
    """Checks bearer tokens against one issuer and turns them into callers."""

    def __init__(self, config: OidcConfig, *, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._client = client or httpx.AsyncClient(timeout=config.http_timeout_seconds, follow_redirects=False)
        self._role_map = dict(config.role_map)
        self._lock = asyncio.Lock()
        self._jwks_uri: str | None = None
        self._jwks: list[dict[str, Any]] = []  # the provider's usable keys, as published
        self._prepared: dict[tuple[int, str], jwt.PyJWK | None] = {}  # (key index, alg) -> key, parsed once
        self._generation = 0  # fetches completed, so a caller that waited on one does not fetch again
        self._fetched_at: float | None = None  # monotonic time of the last successful fetch
        self._attempted_at: float | None = None  # monotonic time the last fetch attempt ended
        self._last_failure: str | None = None
        self._background: asyncio.Task[None] | None = None
        self.fetches = 0  # JWKS fetches attempted, for the log and the tests

    async def aclose(self) -> None:
        if self._background is not None:
            self._background.cancel()
        await self._client.aclose()

    async def warm(self) -> None:
        """Fetch the keys at start-up; a provider that cannot be reached yet is only logged."""
        try:
            await self._refresh(force=True)
        except IdentityProviderUnavailable as exc:
            logger.warning("identity provider not reachable at start-up: %s", exc.detail)

    # Keys

    async def _fetch(self) -> list[dict[str, Any]]:
        if self._jwks_uri is None:
            response = await self._client.get(self.config.issuer.rstrip("/") + DISCOVERY_PATH)
            response.raise_for_status()
            discovery = response.json()
            if not isinstance(discovery, dict) or str(discovery.get("issuer", "")).rstrip("/") != self.config.issuer.rstrip("/"):
                raise ValueError("the discovery document names another issuer")
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                raise ValueError("the discovery document has no jwks_uri")
            self._jwks_uri = jwks_uri
        response = await self._client.get(self._jwks_uri)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("the JWKS is not an object with a list of keys")
        return [jwk for jwk in document["keys"] if _usable(jwk, self.config.algorithms)]

    async def _refresh(self, *, force: bool) -> bool:
        """Fetch the JWKS again unless a fetch ended within the refresh interval (``force`` ignores
        it) or completed while this caller waited for the lock; True when there may be new keys.
        Raises IdentityProviderUnavailable when the provider cannot be reached (now, or at the
        attempt within the interval)."""
        generation = self._generation
        async with self._lock:
            if self._generation != generation:  # another caller fetched while this one waited
                if self._last_failure is not None:
                    raise IdentityProviderUnavailable(self._last_failure)
                return True
            recent = self._attempted_at is not None and time.monotonic() - self._attempted_at < self.config.refresh_seconds
            if recent and not force:
                if self._last_failure is not None:
                    raise IdentityProviderUnavailable(self._last_failure)
                return False
            self.fetches += 1
            try:
                # One deadline for the whole fetch: a provider that trickles its answer cannot hold the lock.
                async with asyncio.timeout(2 * self.config.http_timeout_seconds):
                    keys = await self._fetch()
            except Exception as exc:  # noqa: BLE001 - whatever the provider answers, callers get a 503, not a 500
                self._jwks_uri = None  # the discovery document may have moved the keys: read it again next time
                self._last_failure = f"The identity provider's signing keys could not be fetched ({type(exc).__name__})."
                logger.warning("JWKS fetch from %s failed: %s", self.config.issuer, _printable(str(exc), 200))
                raise IdentityProviderUnavailable(self._last_failure) from exc
            finally:
                self._attempted_at = time.monotonic()
                self._generation += 1
            self._last_failure = None
            changed = keys != self._jwks
            if changed:
                self._jwks = keys
                self._prepared = {}
                logger.info("identity provider keys: %s", ", ".join(str(jwk.get("kid", "(no kid)")) for jwk in keys))
            self._fetched_at = time.monotonic()
            return changed

    def _refresh_in_background(self) -> None:
        """Cached keys past their age: fetch again without making this request wait (one at a time)."""
        if self._background is not None and not self._background.done():
            return

        async def refresh() -> None:
            try:
                await self._refresh(force=False)
            except IdentityProviderUnavailable:
                pass  # keys already cached keep working while the provider is away

        self._background = asyncio.get_running_loop().create_task(refresh())

    def _candidates(self, kid: str | None, algorithm: str) -> list[jwt.PyJWK]:
        """The cached keys that may have signed a token with this kid (any, without one) and alg."""
        found = []
        for index, jwk in enumerate(self._jwks):
            if kid is not None and jwk.get("kid") != kid:
                continue
            if jwk.get("alg", algorithm) != algorithm or _KEY_TYPES.get(algorithm[:2]) != jwk.get("kty"):
                continue
            if (index, algorithm) not in self._prepared:
                try:
                    self._prepared[(index, algorithm)] = jwt.PyJWK(jwk, algorithm=algorithm)
                except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
                    self._prepared[(index, algorithm)] = None  # e.g. an EC key of another curve
            prepared = self._prepared[(index, algorithm)]
            if prepared is not None:
                found.append(prepared)
        return found

    def _known(self, kid: str | None) -> bool:
        return any(jwk.get("kid") == kid for jwk in self._jwks) if kid is not None else bool(self._jwks)

    async def _keys_for(self, kid: str | None, algorithm: str) -> list[jwt.PyJWK]:
        if self._fetched_at is None:
            await self._refresh(force=False)
        elif time.monotonic() - self._fetched_at > self.config.max_age_seconds:
            self._refresh_in_background()
        if not self._known(kid):
            await self._refresh(force=False)  # a new key id: the provider may have rotated its keys
        if not self._known(kid):
            raise InvalidToken("The token is signed by a key the identity provider does not publish.")
        return self._candidates(kid, algorithm)

    # Tokens

    async def caller(self, token: str) -> Caller:
        """The caller a token names, or a 401 (InvalidToken) saying what is wrong with it."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("The bearer token is not a well-formed JWT.") from exc
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.config.algorithms:
            shown = _printable(algorithm) if isinstance(algorithm, str) else "no algorithm"
            raise InvalidToken(f"The token is signed with '{shown}'; this service accepts {', '.join(self.config.algorithms)}.")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("The token's key id (kid) is not a string.")
        claims = self._verified(token, await self._keys_for(kid, algorithm))
        if claims is None and kid is None:
            # Without a key id a rotated key shows only as a signature that no cached key verifies.
            if await self._refresh(force=False):
                claims = self._verified(token, self._candidates(None, algorithm))
        if claims is None:
            raise InvalidToken("The token's signature does not verify with the identity provider's keys.")
        return self._caller(claims)

    def _verified(self, token: str, keys: Iterable[jwt.PyJWK]) -> dict[str, Any] | None:
        """The token's claims if one of ``keys`` verifies its signature; None if none does."""
        for key in keys:
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=list(self.config.algorithms),
                    audience=self.config.audience,
                    issuer=self.config.issuer,
                    leeway=self.config.leeway_seconds,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                )
            except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError, jwt.PyJWKError):
                continue
            except jwt.ExpiredSignatureError as exc:
                raise InvalidToken(f"The token expired (exp {self._when(token, 'exp')}).") from exc
            except jwt.ImmatureSignatureError as exc:
                raise InvalidToken(f"The token is not valid yet (nbf {self._when(token, 'nbf')}).") from exc
            except jwt.InvalidAudienceError as exc:
                raise InvalidToken(f"The token is for another audience; this service is '{self.config.audience}'.") from exc
            except jwt.InvalidIssuerError as exc:
                raise InvalidToken(
                    f"The token was issued by another issuer; this service trusts '{self.config.issuer}'."
                ) from exc
            except jwt.MissingRequiredClaimError as exc:
                raise InvalidToken(f"The token has no '{exc.claim}' claim.") from exc
            except jwt.InvalidTokenError as exc:
                raise InvalidToken(f"The token is not valid: {exc}.") from exc
        return None

    @staticmethod
    def _when(token: str, claim: str) -> str:
        value = jwt.decode(token, options={"verify_signature": False}).get(claim)
        try:
            return datetime.fromtimestamp(float(value), UTC).isoformat().replace("+00:00", "Z")  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError, OSError):
            return "unreadable"

    def _caller(self, claims: dict[str, Any]) -> Caller:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("The token's 'sub' claim is not a string.")
        granted = _values(_claim(claims, self.config.roles_claim))
        roles = {self._role_map.get(value, value if not self._role_map else "") for value in granted} & set(ROLES)
        if not roles:
            raise Forbidden(f"The token carries no role of this service in its '{self.config.roles_claim}' claim.")
        client_id = next((claims[name] for name in CLIENT_ID_CLAIMS if isinstance(claims.get(name), str)), None)
        return Caller(
            role="+".join(role for role in ROLES if role in roles),
            key_id="oidc-" + hashlib.sha256(f"{self.config.issuer}|{subject}".encode()).hexdigest()[:20],
            forces=self._forces(claims),
            subject=subject,
            client_id=client_id,
        )

    def _forces(self, claims: dict[str, Any]) -> frozenset[str] | None:
        raw = _claim(claims, self.config.forces_claim)
        if raw is None:
            return self.config.fixed_forces if self.config.fixed_forces_set else frozenset()
        values = _values(raw)
        if "*" in values:
            return None
        return frozenset(value for value in values if FORCE_ID.fullmatch(value))
