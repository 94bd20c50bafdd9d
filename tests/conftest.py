"""Shared fixtures: the bundled policy, API keys per role, and an app per storage back end."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from service.config import Settings
from service.engine.loader import load_registry
from service.engine.policy import PolicyRegistry
from service.main import create_app

ROOT = Path(__file__).resolve().parents[1]
POLICY_DIR = ROOT / "policy_data"
SCHEMA_DIR = ROOT / "schemas"
CASES_DIR = Path(__file__).resolve().parent / "cases"
FIXED_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

KEYS = {
    "dispatcher": "test-dispatcher-key-0001",
    "dispatcher2": "test-dispatcher-key-0002",
    "planner": "test-planner-key-00001",
    "auditor": "test-auditor-key-00001",
    "admin": "test-admin-key-0000001",
}
ROLE_OF_KEY = {"dispatcher": "dispatcher", "dispatcher2": "dispatcher", "planner": "planner", "auditor": "auditor", "admin": "admin"}


def headers(who: str) -> dict[str, str]:
    """Authorization header for a test key ('dispatcher', 'planner', 'auditor', 'admin', 'dispatcher2')."""
    return {"Authorization": f"Bearer {KEYS[who]}"}


def api_keys() -> str:
    return ",".join(f"{KEYS[name]}:{role}" for name, role in ROLE_OF_KEY.items())


def deep_merge(base: Any, override: Any) -> Any:
    """Dicts merge key by key; anything else (lists included) is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = copy.deepcopy(base)
        for key, value in override.items():
            merged[key] = deep_merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def load_cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(id, request, expectation) for every case in tests/cases/*.json."""
    cases = []
    for path in sorted(CASES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            request = deep_merge(data["base"], case.get("request", {}))
            cases.append((f"{path.stem}:{case['name']}", request, case["expect"]))
    return cases


@pytest.fixture(scope="session")
def registry() -> PolicyRegistry:
    return load_registry(POLICY_DIR, SCHEMA_DIR)


def postgres_url() -> str:
    """The PostgreSQL test database; in CI a missing or unreachable server fails the run."""
    url = os.environ.get("TEST_DATABASE_URL")
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not url:
        message = "TEST_DATABASE_URL is not set; run the tests with `make test`, which starts PostgreSQL"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)
    engine = create_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL at TEST_DATABASE_URL cannot be reached: {exc}")
    finally:
        engine.dispose()
    return url


def reset_postgres(url: str) -> None:
    """Drop everything the service created, so that the next app starts from an empty schema."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


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


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "production",
        "database_url": database_url,
        "api_keys": api_keys(),
        "policy_dir": POLICY_DIR,
        "schema_dir": SCHEMA_DIR,
    }
    values.update(overrides)
    return Settings(**values)


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
