"""Token handling under hostile or odd input: never a 500, and the provider's quirks followed.

These tests stand in a scripted provider (an httpx mock transport) where the real one cannot be
made to misbehave: a JWKS of the wrong shape, an issuer with a trailing slash, keys without
`alg`, a provider that answers slowly. Headers and claims an attacker controls are sent to the
service as any caller could send them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from service.actions.identity import OidcConfig, OidcVerifier
from service.main import create_app
from tests.helpers import KEYS, api_keys, headers, make_settings

ISSUER = "https://idp.example.test/tenant/"  # with a trailing slash, as Auth0 and Entra v1 issuers have
AUDIENCE = "api://pcso-deployment"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(kid: str = "key-1", **extra: Any) -> dict[str, Any]:
    published = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    return {**published, "kid": kid, "use": "sig", **extra}


class Provider:
    """A scripted provider: its discovery document and JWKS, and how slowly it answers."""

    def __init__(self) -> None:
        self.jwks: Any = {"keys": [jwk()]}
        self.delay = 0.0
        self.requests = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": "https://idp.example.test/keys"})
        return httpx.Response(200, json=self.jwks)


def token(claims: dict[str, Any] | None = None, *, kid: str | None = "key-1", algorithm: str = "RS256") -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "planner-1", "iat": now, "exp": now + 600, "roles": ["planner"]}
    return jwt.encode({**body, **(claims or {})}, KEY, algorithm=algorithm, headers={"kid": kid} if kid else None)


@pytest.fixture
def scripted(sqlite_url: str) -> Iterator[Callable[..., tuple[TestClient, Provider]]]:
    clients: list[TestClient] = []

    def start(**overrides: Any) -> tuple[TestClient, Provider]:
        provider = Provider()
        settings = make_settings(
            sqlite_url, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_http_timeout_seconds=0.5, **overrides
        )
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        verifier = OidcVerifier(
            OidcConfig.from_settings(settings),  # type: ignore[arg-type]
            client=httpx.AsyncClient(transport=httpx.MockTransport(provider.handle), timeout=0.5),
        )
        client.app.state.oidc = verifier  # type: ignore[attr-defined]
        return client, provider

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def raw(header: dict[str, Any] | str, payload: str = "e30", signature: str = "c2ln") -> str:
    text = header if isinstance(header, str) else json.dumps(header, ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=") + f".{payload}.{signature}"


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "RS256", "kid": 5},
        {"alg": "RS256", "crit": "x"},
        {"alg": "RS256", "crit": ["foo"]},
        {"alg": "RS256\u4e2d"},
        {"alg": {"a": "\u4e2d"}},
        {"alg": None},
        {"kid": "key-1"},
        '{"alg": "RS256"',
        "[1, 2]",
    ],
)
def test_hostile_headers_are_a_401_never_a_500(scripted: Callable[..., tuple[TestClient, Provider]], header: Any) -> None:
    client, _ = scripted()
    response = client.get("/v1/policies", headers={"Authorization": f"Bearer {raw(header)}"})
    assert response.status_code == 401, response.text
    # Not shaped as a JWT at all ('[1, 2]' does not start with a JSON object): read as an unknown API key.
    assert response.json()["type"].endswith("/unauthorized" if header == "[1, 2]" else "/invalid-token")
    assert response.headers["www-authenticate"].isascii()


def test_an_issuer_with_a_trailing_slash_is_matched_exactly(scripted: Callable[..., tuple[TestClient, Provider]]) -> None:
    client, _ = scripted()
    assert client.get("/v1/policies", headers={"Authorization": f"Bearer {token()}"}).status_code == 200
    without_slash = token({"iss": ISSUER.rstrip("/")})
    assert client.get("/v1/policies", headers={"Authorization": f"Bearer {without_slash}"}).status_code == 401


def test_keys_without_alg_verify_each_accepted_algorithm(scripted: Callable[..., tuple[TestClient, Provider]]) -> None:
    """Entra publishes RSA keys without alg: a PS256 token verifies when PS256 is accepted, and not otherwise."""
    client, _ = scripted(oidc_algorithms="RS256,PS256")
    for algorithm in ("RS256", "PS256"):
        assert client.get("/v1/policies", headers={"Authorization": f"Bearer {token(algorithm=algorithm)}"}).status_code == 200
    refused = client.get("/v1/policies", headers={"Authorization": f"Bearer {token(algorithm='RS512')}"})
    assert refused.status_code == 401 and "RS512" in refused.json()["detail"]


def test_a_key_published_for_one_algorithm_does_not_verify_another(scripted: Callable[..., tuple[TestClient, Provider]]) -> None:
    client, provider = scripted(oidc_algorithms="RS256,PS256")
    provider.jwks = {"keys": [jwk(alg="RS256")]}
    assert client.get("/v1/policies", headers={"Authorization": f"Bearer {token(algorithm='PS256')}"}).status_code == 401


@pytest.mark.parametrize(
    "jwks",
    [
        [jwk()],
        "keys",
        {"keys": "none"},
        {"keys": [{"kty": "RSA", "kid": ["a"], "n": "x", "e": "AQAB"}]},
        {"keys": [{**jwk(), "alg": ["RS256"]}]},
        {"keys": [{"kty": "oct", "kid": "key-1", "k": "c2VjcmV0"}]},
    ],
)
def test_a_malformed_key_set_is_a_503_and_keys_still_work(
    scripted: Callable[..., tuple[TestClient, Provider]], jwks: Any
) -> None:
    client, provider = scripted(oidc_jwks_refresh_seconds=0)
    provider.jwks = jwks
    response = client.get("/v1/policies", headers={"Authorization": f"Bearer {token()}"})
    assert response.status_code in (401, 503), response.text
    assert response.json()["type"].endswith(("/identity-provider-unavailable", "/invalid-token"))
    assert client.get("/v1/policies", headers=headers("planner")).status_code == 200
    provider.jwks = {"keys": [jwk()]}  # the provider mends its key set: tokens work again
    assert client.get("/v1/policies", headers={"Authorization": f"Bearer {token()}"}).status_code == 200


def test_a_malformed_key_set_at_start_up_does_not_stop_the_service(sqlite_url: str) -> None:
    async def serve_garbage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=["not", "a", "key", "set"])

    settings = make_settings(sqlite_url, oidc_issuer=ISSUER, oidc_audience=AUDIENCE)
    verifier = OidcVerifier(
        OidcConfig.from_settings(settings),  # type: ignore[arg-type]
        client=httpx.AsyncClient(transport=httpx.MockTransport(serve_garbage)),
    )
    asyncio.run(verifier.warm())  # logged, not raised
    assert verifier.fetches == 1


@pytest.mark.parametrize("claims", [{"exp": -(10**13)}, {"nbf": 10**13}, {"exp": -1e300}, {"nbf": 1e300}])
def test_out_of_range_times_are_a_401(scripted: Callable[..., tuple[TestClient, Provider]], claims: dict[str, Any]) -> None:
    client, _ = scripted()
    response = client.get("/v1/policies", headers={"Authorization": f"Bearer {token(claims)}"})
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"roles": {"admin": True}}, 403),
        ({"roles": 5}, 403),
        ({"roles": ["planner"], "forces": 7}, 200),  # a forces claim of the wrong type acts for no force
        ({"sub": 12345}, 401),
        ({"roles": ["planner"], "azp": {"x": 1}}, 200),
    ],
)
def test_claims_of_unexpected_types(
    scripted: Callable[..., tuple[TestClient, Provider]], claims: dict[str, Any], status: int
) -> None:
    client, _ = scripted()
    response = client.get("/v1/assessments", headers={"Authorization": f"Bearer {token(claims)}"})
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["items"] == []


def test_cached_keys_do_not_wait_for_a_slow_provider(scripted: Callable[..., tuple[TestClient, Provider]]) -> None:
    """Past their age the keys are fetched again in the background; requests keep using the cached ones."""
    client, provider = scripted(oidc_jwks_max_age_seconds=0.2, oidc_jwks_refresh_seconds=0)
    assert client.get("/v1/policies", headers={"Authorization": f"Bearer {token()}"}).status_code == 200
    time.sleep(0.3)
    provider.delay = 3.0  # longer than the fetch deadline (2 x 0.5 s): the background fetch gives up
    started = time.monotonic()
    for _ in range(5):
        assert client.get("/v1/policies", headers={"Authorization": f"Bearer {token()}"}).status_code == 200
    assert time.monotonic() - started < 1.0


def test_a_replay_does_not_outlive_a_change_of_scope(sqlite_url: str) -> None:
    """An Idempotency-Key retry by a key re-scoped to another force does not get the first force's answer."""
    key = "re-scoped-dispatcher-01"
    body = {
        "force": "west-midlands",
        "call": {"type": "asb.nuisance", "reference": "WMP-42"},
        "location": {"risk_level": "low"},
        "officer": {"id": "PCSO 42", "training_status": "independent", "in_uniform": True},
    }
    retry = {"Authorization": f"Bearer {key}", "Idempotency-Key": "call-42"}
    with TestClient(create_app(make_settings(sqlite_url, api_keys=api_keys() + f",{key}:dispatcher:west-midlands"))) as client:
        first = client.post("/v1/assessments", json=body, headers=retry)
        assert first.status_code == 200
        escalated = client.post(
            f"/v1/assessments/{first.json()['assessment_id']}/escalations", json={"risk_level": "high"}, headers=retry
        )
        assert escalated.status_code == 200
    with TestClient(create_app(make_settings(sqlite_url, api_keys=api_keys() + f",{key}:dispatcher:kent"))) as client:
        again = client.post("/v1/assessments", json=body, headers=retry)
        assert again.status_code == 403 and again.json()["type"].endswith("/force-out-of-scope")
        escalated_again = client.post(
            f"/v1/assessments/{first.json()['assessment_id']}/escalations", json={"risk_level": "high"}, headers=retry
        )
        assert escalated_again.status_code == 403
    assert KEYS  # the suite's own keys stay valid beside the re-scoped one
