"""OpenID Connect bearer tokens, against a real provider process (tests/oidc.py).

Each failure a control room's identity set-up can meet, and the answer it gets: a valid token for
each role; the wrong audience or issuer; expired or not yet valid (and the leeway); a signature
that does not verify; an algorithm the service refuses; a key id the provider does not publish,
then a real key rotation; the provider unreachable (cached keys keep working, a new key is a 503);
and that the subject and client id are recorded, covered by the chain, and the token never is.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service.main import create_app
from tests.api.test_access import BODIES, EXPECTED, QUERIES, _call
from tests.helpers import headers, make_settings
from tests.oidc import CLIENT_ID, IdentityProvider

ROLES = ("dispatcher", "planner", "auditor", "admin")
ASSESSMENT = {
    "force": "west-midlands",
    "task": "attend",
    "call": {"type": "asb.nuisance", "reference": "WMP-20261125-0101"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 4411", "training_status": "independent", "in_uniform": True},
}


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    """One provider for the tests that do not stop or rotate it."""
    started = IdentityProvider().start()
    yield started
    started.stop()


@pytest.fixture
def own_provider() -> Iterator[IdentityProvider]:
    """A provider of the test's own, to stop, restart (rotate its key) or leave down."""
    started = IdentityProvider().start()
    yield started
    started.stop()


def oidc_client(database_url: str, provider: IdentityProvider, **overrides: Any) -> TestClient:
    settings = make_settings(
        database_url,
        environment="development",  # the provider runs on http://127.0.0.1; production requires https
        oidc_issuer=provider.issuer,
        oidc_audience=CLIENT_ID,
        **overrides,
    )
    return TestClient(create_app(settings))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_invalid_token(response: Any, *words: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/invalid-token")
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    for word in words:
        assert word in problem["detail"], problem["detail"]


def foreign_token(claims: dict[str, Any], *, kid: str | None) -> str:
    """A token with the right issuer and audience, signed by a key the provider never had."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid} if kid else None)


def provider_jwks(provider: IdentityProvider) -> dict[str, Any]:
    return httpx.get(provider.issuer + "/jwks", timeout=5).json()


def base_claims(provider: IdentityProvider, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": provider.issuer, "aud": CLIENT_ID, "sub": "intruder", "iat": now, "exp": now + 600, **extra}


# --- each role ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), sorted(key for key, value in EXPECTED.items() if None not in value))
def test_the_role_table_holds_for_tokens(sqlite_url: str, provider: IdentityProvider, method: str, path: str) -> None:
    """A token's role claim grants exactly what the same role's key does, route by route."""
    with oidc_client(sqlite_url, provider) as client:
        for role in ROLES:
            token = provider.token(f"{role}-user", {"roles": [role], "forces": ["*"]})
            by_token = _call(client, method, path, bearer(token))
            assert by_token.status_code == EXPECTED[(method, path)][role], (role, by_token.text)
    assert BODIES and QUERIES  # the calls use the role table's own bodies and queries


def test_roles_come_from_a_configured_claim_and_map(sqlite_url: str, provider: IdentityProvider) -> None:
    """Entra app roles: values such as PCSO.Dispatcher mapped onto the service's roles; several roles add up."""
    with oidc_client(
        sqlite_url, provider, oidc_roles_claim="app_roles", oidc_role_map="PCSO.Dispatcher=dispatcher,PCSO.Planner=planner"
    ) as client:
        mapped = provider.token("mapped", {"app_roles": ["PCSO.Dispatcher"], "forces": ["west-midlands"]})
        assert client.post("/v1/assessments", json=ASSESSMENT, headers=bearer(mapped)).status_code == 200
        unmapped = provider.token("unmapped", {"app_roles": ["dispatcher"], "forces": ["west-midlands"]})
        refused = client.post("/v1/assessments", json=ASSESSMENT, headers=bearer(unmapped))
        assert refused.status_code == 403 and "app_roles" in refused.json()["detail"]
        both = provider.token("both", {"app_roles": ["PCSO.Dispatcher", "PCSO.Planner"], "forces": ["west-midlands"]})
        assert client.post("/v1/assessments", json=ASSESSMENT, headers=bearer(both)).status_code == 200
        matrix = client.get("/v1/policies/west-midlands/matrix", headers=bearer(both))
        assert matrix.status_code == 200
        listed = client.get("/v1/assessments", headers=bearer(both)).json()["items"]
        assert {item["caller_role"] for item in listed} == {"dispatcher", "dispatcher+planner"}


def test_a_token_without_a_role_is_forbidden(sqlite_url: str, provider: IdentityProvider) -> None:
    with oidc_client(sqlite_url, provider) as client:
        for claims in ({}, {"roles": []}, {"roles": ["superuser"]}, {"roles": "admin-ish"}):
            response = client.get("/v1/policies", headers=bearer(provider.token("no-role", claims)))
            assert response.status_code == 403, claims
            assert "roles" in response.json()["detail"]


# --- claims ------------------------------------------------------------------------------------


def test_the_wrong_audience_is_refused(sqlite_url: str, provider: IdentityProvider) -> None:
    with oidc_client(sqlite_url, provider) as client:
        token = provider.token("alice", {"roles": ["planner"], "forces": ["*"]}, client_id="another-application")
        assert_invalid_token(client.get("/v1/policies", headers=bearer(token)), "audience", CLIENT_ID)


def test_another_issuer_is_refused(sqlite_url: str, provider: IdentityProvider) -> None:
    """Signed by the provider's own key, but naming another issuer."""
    with oidc_client(sqlite_url, provider) as client:
        token = provider.token("alice", {"roles": ["planner"], "iss": "https://login.example.invalid/other"})
        assert_invalid_token(client.get("/v1/policies", headers=bearer(token)), "issuer")


def test_expired_and_not_yet_valid_tokens_are_refused_within_the_leeway(sqlite_url: str, provider: IdentityProvider) -> None:
    now = int(time.time())
    expired_long_ago = provider.token("late", {"roles": ["planner"], "exp": now - 120})
    expired_just_now = provider.token("late", {"roles": ["planner"], "exp": now - 5})
    not_yet = provider.token("early", {"roles": ["planner"], "nbf": now + 120})
    almost = provider.token("early", {"roles": ["planner"], "nbf": now + 5})
    with oidc_client(sqlite_url, provider, oidc_leeway_seconds=30) as client:
        assert_invalid_token(client.get("/v1/policies", headers=bearer(expired_long_ago)), "expired")
        assert_invalid_token(client.get("/v1/policies", headers=bearer(not_yet)), "not valid yet")
        # Clocks a few seconds apart are forgiven by the leeway.
        assert client.get("/v1/policies", headers=bearer(expired_just_now)).status_code == 200
        assert client.get("/v1/policies", headers=bearer(almost)).status_code == 200
    with oidc_client(sqlite_url, provider, oidc_leeway_seconds=0) as client:
        assert_invalid_token(client.get("/v1/policies", headers=bearer(expired_just_now)), "expired")
        assert_invalid_token(client.get("/v1/policies", headers=bearer(almost)), "not valid yet")


# --- signatures and algorithms -------------------------------------------------------------------


def test_a_signature_that_does_not_verify_is_refused(sqlite_url: str, provider: IdentityProvider) -> None:
    """A real token whose payload was changed (a planner made admin) no longer verifies."""
    with oidc_client(sqlite_url, provider) as client:
        token = provider.token("mallory", {"roles": ["planner"], "forces": ["kent"]})
        assert client.get("/v1/policies", headers=bearer(token)).status_code == 200
        header, payload, signature = token.split(".")
        claims = json.loads(jwt.utils.base64url_decode(payload))
        claims.update(roles=["admin"], forces=["*"])
        forged = ".".join((header, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), signature))
        assert_invalid_token(client.post("/v1/policies/reload", headers=bearer(forged)), "signature")


def test_algorithms_the_service_does_not_accept_are_refused(sqlite_url: str, provider: IdentityProvider) -> None:
    with oidc_client(sqlite_url, provider) as client:
        claims = base_claims(provider, roles=["admin"], forces=["*"])
        # A shared-secret token (keyed, say, with the provider's public key) and an unsigned one.
        public_key = provider_jwks(provider)["keys"][0]["n"]
        for token in (
            jwt.encode(claims, public_key, algorithm="HS256"),
            jwt.encode(claims, None, algorithm="none"),
        ):
            assert_invalid_token(client.get("/v1/policies", headers=bearer(token)), "accepts RS256")
        assert_invalid_token(client.get("/v1/policies", headers=bearer("eyJhbGciOi.not-a.token")), "well-formed")


def test_a_token_signed_by_a_key_the_provider_never_had_is_refused(sqlite_url: str, provider: IdentityProvider) -> None:
    with oidc_client(sqlite_url, provider) as client:
        claims = base_claims(provider, roles=["admin"], forces=["*"])
        assert_invalid_token(
            client.get("/v1/policies", headers=bearer(foreign_token(claims, kid="forged-key"))), "does not publish"
        )
        assert_invalid_token(client.get("/v1/policies", headers=bearer(foreign_token(claims, kid=None))), "signature")
        assert_invalid_token(
            client.get("/v1/policies", headers=bearer(foreign_token(claims, kid=provider.key_ids()[0]))), "signature"
        )


def test_tokens_are_refused_when_no_issuer_is_configured(sqlite_client: TestClient, provider: IdentityProvider) -> None:
    token = provider.token("alice", {"roles": ["admin"], "forces": ["*"]})
    response = sqlite_client.get("/v1/policies", headers=bearer(token))
    assert response.status_code == 401 and "OIDC_ISSUER" in response.json()["detail"]


# --- key rotation and an unreachable provider ---------------------------------------------------


def test_an_unknown_kid_fetches_the_keys_again_once_and_follows_a_rotation(
    sqlite_url: str, own_provider: IdentityProvider
) -> None:
    with oidc_client(sqlite_url, own_provider, oidc_jwks_refresh_seconds=0) as client:
        verifier = client.app.state.oidc  # type: ignore[attr-defined]
        old = own_provider.token("alice", {"roles": ["planner"], "forces": ["*"]})
        assert client.get("/v1/policies", headers=bearer(old)).status_code == 200
        fetched = verifier.fetches
        old_kid = jwt.get_unverified_header(old)["kid"]
        own_provider.restart()  # a new signing key at the same issuer
        new = own_provider.token("alice", {"roles": ["planner"], "forces": ["*"]})
        assert jwt.get_unverified_header(new)["kid"] != old_kid
        assert client.get("/v1/policies", headers=bearer(new)).status_code == 200
        assert verifier.fetches == fetched + 1
        for _ in range(3):  # the new key is cached now: no more fetches
            assert client.get("/v1/policies", headers=bearer(new)).status_code == 200
        assert verifier.fetches == fetched + 1
        # The retired key is no longer published: a token it signed is refused.
        assert_invalid_token(client.get("/v1/policies", headers=bearer(old)), "does not publish")


def test_unknown_kids_refetch_at_most_once_per_interval(sqlite_url: str, own_provider: IdentityProvider) -> None:
    """A flood of forged key ids cannot make the service hammer the provider."""
    with oidc_client(sqlite_url, own_provider, oidc_jwks_refresh_seconds=300) as client:
        verifier = client.app.state.oidc  # type: ignore[attr-defined]
        fetched = verifier.fetches
        for n in range(25):
            token = foreign_token(base_claims(own_provider, roles=["admin"]), kid=f"forged-{n}-{uuid.uuid4()}")
            assert_invalid_token(client.get("/v1/policies", headers=bearer(token)), "does not publish")
        assert verifier.fetches <= fetched + 1


def test_tokens_without_a_kid_follow_a_rotation_too(sqlite_url: str) -> None:
    """The mock as published leaves kid out: a signature no cached key verifies fetches the keys again."""
    plain = IdentityProvider(kid=False).start()
    try:
        with oidc_client(sqlite_url, plain, oidc_jwks_refresh_seconds=0) as client:
            token = plain.token("bob", {"roles": ["auditor"], "forces": ["*"]})
            assert "kid" not in jwt.get_unverified_header(token)
            assert client.get("/v1/audit/verify", headers=bearer(token)).status_code == 200
            plain.restart()
            rotated = plain.token("bob", {"roles": ["auditor"], "forces": ["*"]})
            assert client.get("/v1/audit/verify", headers=bearer(rotated)).status_code == 200
            assert_invalid_token(client.get("/v1/audit/verify", headers=bearer(token)), "signature")
    finally:
        plain.stop()


def test_an_unreachable_provider_keeps_cached_keys_working_and_a_new_key_is_a_503(
    sqlite_url: str, own_provider: IdentityProvider
) -> None:
    with oidc_client(sqlite_url, own_provider, oidc_jwks_refresh_seconds=0) as client:
        cached = own_provider.token("carol", {"roles": ["dispatcher"], "forces": ["west-midlands"]})
        assert client.post("/v1/assessments", json=ASSESSMENT, headers=bearer(cached)).status_code == 200
        own_provider.restart()  # mint a token with a key the service has not seen...
        unseen = own_provider.token("carol", {"roles": ["dispatcher"], "forces": ["west-midlands"]})
        own_provider.stop()  # ...and take the provider away
        assert client.post("/v1/assessments", json=ASSESSMENT, headers=bearer(cached)).status_code == 200
        response = client.post("/v1/assessments", json=ASSESSMENT, headers=bearer(unseen))
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/identity-provider-unavailable")
        assert int(response.headers["retry-after"]) > 0
        # API keys do not depend on the provider.
        assert client.get("/v1/policies", headers=headers("planner")).status_code == 200


def test_a_provider_down_at_start_up_does_not_stop_the_service(sqlite_url: str) -> None:
    absent = IdentityProvider()  # never started
    with oidc_client(sqlite_url, absent) as client:
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/policies", headers=headers("planner")).status_code == 200
        token = foreign_token(base_claims(absent, roles=["planner"]), kid="any")
        response = client.get("/v1/policies", headers=bearer(token))
        assert response.status_code == 503 and response.json()["type"].endswith("/identity-provider-unavailable")


# --- what is recorded -------------------------------------------------------------------------------


def test_the_subject_and_client_id_are_recorded_and_covered_by_the_chain(database_url: str, provider: IdentityProvider) -> None:
    token = provider.token("cad-wmp-01", {"roles": ["dispatcher"], "forces": ["west-midlands"], "azp": "wmp-cad-client"})
    with oidc_client(database_url, provider) as client:
        decided = client.post("/v1/assessments", json=ASSESSMENT, headers=bearer(token))
        assert decided.status_code == 200, decided.text
        export = client.get("/v1/audit/export", headers=headers("auditor"))
        entries = [json.loads(line) for line in export.text.splitlines() if json.loads(line)["type"] == "entry"]
        assert len(entries) == 1
        entry = entries[0]
        assert entry["caller_subject"] == "cad-wmp-01"
        assert entry["caller_client_id"] == "wmp-cad-client"
        assert entry["caller_scope"] == "west-midlands"
        assert entry["caller_role"] == "dispatcher" and entry["digest_version"] == 3
        assert token not in export.text and token.split(".")[2] not in export.text
        assert client.get("/v1/audit/verify", headers=headers("auditor")).json()["status"] == "intact"
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            dump = " ".join(str(row) for row in connection.execute(text("SELECT * FROM audit_record")))
            assert token.split(".")[2] not in dump  # the token itself is never stored
            connection.execute(text("UPDATE audit_record SET caller_subject = 'someone-else'"))
    finally:
        engine.dispose()
    with oidc_client(database_url, provider) as client:
        report = client.get("/v1/audit/verify", headers=headers("auditor")).json()
        assert report["status"] == "broken" and report["broken"]["kind"] == "altered"


def test_the_docs_page_offers_both_schemes(sqlite_client: TestClient) -> None:
    document = sqlite_client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "http", "scheme": "bearer"}
    assert schemes["OidcToken"]["type"] == "http" and schemes["OidcToken"]["bearerFormat"] == "JWT"
    secured = [op for item in document["paths"].values() for op in item.values() if op.get("security")]
    offered = {op["operationId"]: {name for requirement in op["security"] for name in requirement} for op in secured}
    assert len(offered) > 20
    for operation, names in offered.items():
        # Either scheme on every operation; the printable matrix page asks the browser for a key instead.
        assert names == ({"BrowserKey"} if operation == "get_matrix_page" else {"ApiKey", "OidcToken"}), operation
