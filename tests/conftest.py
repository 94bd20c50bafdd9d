"""Shared fixtures: the bundled policy, and an app per storage back end. Constants and helpers are in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.engine.loader import load_registry
from service.engine.policy import PolicyRegistry
from service.main import create_app
from tests.helpers import POLICY_DIR, SCHEMA_DIR, Clock, make_settings, postgres_url, reset_postgres


@pytest.fixture(scope="session")
def registry() -> PolicyRegistry:
    return load_registry(POLICY_DIR, SCHEMA_DIR)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store on each back end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url = postgres_url()
    reset_postgres(url)
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """The app on each storage back end."""
    with TestClient(create_app(make_settings(database_url))) as test_client:
        yield test_client


@pytest.fixture
def sqlite_client(sqlite_url: str) -> Iterator[TestClient]:
    """The app on the embedded SQLite default only, for tests that do not exercise storage."""
    with TestClient(create_app(make_settings(sqlite_url))) as test_client:
        yield test_client


@pytest.fixture
def clocked(database_url: str) -> Iterator[tuple[TestClient, Clock]]:
    """The app on each storage back end, with a retention period and a clock starting at 2020-01-01."""
    clock = Clock(datetime(2020, 1, 1, tzinfo=UTC))
    app = create_app(make_settings(database_url, retention_days=365))
    app.state.clock = clock
    with TestClient(app) as test_client:
        yield test_client, clock
