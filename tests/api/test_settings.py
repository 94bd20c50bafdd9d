"""Settings refuse unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.actions.access import KeyGrant
from service.config import Settings, parse_api_keys
from service.store.database import make_engine


def test_parses_keys_and_roles() -> None:
    assert parse_api_keys("k1-aaaaaaaaaaaaaaaa:admin, k2-bbbbbbbbbbbbbbbb:dispatcher") == {
        "k1-aaaaaaaaaaaaaaaa": KeyGrant("admin"),
        "k2-bbbbbbbbbbbbbbbb": KeyGrant("dispatcher"),
    }
    assert parse_api_keys("") == {}


def test_parses_force_scopes() -> None:
    """A scope follows the role: force ids joined by '|', or '*' for every force (as no scope)."""
    assert parse_api_keys("k1-aaaaaaaaaaaaaaaa:planner:kent, k2-bbbbbbbbbbbbbbbb:auditor:kent|west-midlands, k3-c:admin:*") == {
        "k1-aaaaaaaaaaaaaaaa": KeyGrant("planner", frozenset({"kent"})),
        "k2-bbbbbbbbbbbbbbbb": KeyGrant("auditor", frozenset({"kent", "west-midlands"})),
        "k3-c": KeyGrant("admin", None),
    }
    # A key may itself hold a colon: only a known role followed by a scope is read as one.
    assert parse_api_keys("abc:def-000000000000:dispatcher") == {"abc:def-000000000000": KeyGrant("dispatcher")}


@pytest.mark.parametrize(
    "raw",
    [
        "justakey",
        "key:superuser",
        ":admin",
        ":admin:kent",
        "same-key-000000001:admin,same-key-000000001:planner",
        "k-0000000000000001:planner:",
        "k-0000000000000001:planner:kent||wmp",
        "k-0000000000000001:planner:kent force",
    ],
)
def test_malformed_keys_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_api_keys(raw)


def test_development_keys_are_refused_in_production() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="production", api_keys="local-admin-key:admin")
    assert Settings(environment="development", api_keys="local-admin-key:admin").callers == {"local-admin-key": KeyGrant("admin")}


def test_short_keys_are_refused_in_production() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="production", api_keys="short:admin")


def test_database_url_must_be_a_known_backend() -> None:
    with pytest.raises(ValidationError):
        Settings(database_url="mysql://x")
    assert Settings(database_url="postgresql://u:p@h/db").database_url.startswith("postgresql+psycopg://")


def test_keys_are_not_in_the_settings_repr() -> None:
    settings = Settings(environment="production", api_keys="a-very-secret-key-0001:admin")
    assert "a-very-secret-key-0001" not in repr(settings)


def test_the_store_wait_is_read_and_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().store_wait_seconds == 5
    monkeypatch.setenv("STORE_WAIT_SECONDS", "1.5")
    assert Settings().store_wait_seconds == 1.5
    for bad in ("0", "-1", "inf", "soon"):
        monkeypatch.setenv("STORE_WAIT_SECONDS", bad)
        with pytest.raises(ValidationError):
            Settings()


def test_the_store_wait_is_sqlites_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}", wait_seconds=0.25)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 250
    engine.dispose()


def test_oidc_settings_are_checked() -> None:
    """An issuer needs an audience, https in production, and asymmetric algorithms only."""
    with pytest.raises(ValidationError, match="OIDC_AUDIENCE"):
        Settings(environment="development", oidc_issuer="http://localhost:9400")
    with pytest.raises(ValidationError, match="https"):
        Settings(environment="production", oidc_issuer="http://idp.example", oidc_audience="api://pcso")
    for algorithms in ("HS256", "none", "RS256,HS256", ""):
        with pytest.raises(ValidationError, match="asymmetric"):
            Settings(environment="development", oidc_issuer="http://idp", oidc_audience="a", oidc_algorithms=algorithms)
    with pytest.raises(ValidationError, match="OIDC_ROLE_MAP"):
        Settings(oidc_role_map="PCSO.Dispatcher=superuser")
    ok = Settings(
        environment="production",
        oidc_issuer="https://login.microsoftonline.com/tenant/v2.0",
        oidc_audience="api://pcso",
        oidc_algorithms="RS256, PS256",
        oidc_role_map="PCSO.Dispatcher=dispatcher",
    )
    assert ok.algorithms == ["RS256", "PS256"]
