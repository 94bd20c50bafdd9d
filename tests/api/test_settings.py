"""Settings refuse unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.config import Settings, parse_api_keys
from service.store.database import make_engine


def test_parses_keys_and_roles() -> None:
    assert parse_api_keys("k1-aaaaaaaaaaaaaaaa:admin, k2-bbbbbbbbbbbbbbbb:dispatcher") == {
        "k1-aaaaaaaaaaaaaaaa": "admin",
        "k2-bbbbbbbbbbbbbbbb": "dispatcher",
    }
    assert parse_api_keys("") == {}


@pytest.mark.parametrize("raw", ["justakey", "key:superuser", ":admin", "same-key-000000001:admin,same-key-000000001:planner"])
def test_malformed_keys_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_api_keys(raw)


def test_development_keys_are_refused_in_production() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="production", api_keys="local-admin-key:admin")
    assert Settings(environment="development", api_keys="local-admin-key:admin").callers == {"local-admin-key": "admin"}


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
