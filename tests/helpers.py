"""Constants and helpers shared by the tests: the bundled policy, API keys per role, decision cases,
the PostgreSQL test database and the app's settings. Fixtures live in conftest.py; real uvicorn
processes in servers.py."""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from service.config import Settings

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
ROLE_OF_KEY = {
    "dispatcher": "dispatcher",
    "dispatcher2": "dispatcher",
    "planner": "planner",
    "auditor": "auditor",
    "admin": "admin",
}


class Clock:
    """A clock the test moves by hand, set as the app's clock (``app.state.clock``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


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
    """(id, request, expectation) for every case in tests/cases/*.json.

    Missing or empty case files fail loudly: an empty list would turn every parametrized case test
    into a silent skip.
    """
    paths = sorted(CASES_DIR.glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no decision cases under {CASES_DIR}")
    cases = []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not data["cases"]:
            raise ValueError(f"{path} holds no cases")
        for case in data["cases"]:
            request = deep_merge(data["base"], case.get("request", {}))
            cases.append((f"{path.stem}:{case['name']}", request, case["expect"]))
    return cases


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


# The audit signing key of the tests (base64 of 32 raw Ed25519 bytes) and its public key.
SIGNING_KEY = "n8Qe4dJ2WlCq3xX0aZ1v9kq0f8jv6tBqv1oG0mJ2v5E="


def signing_public_key() -> str:
    from service.store.signing import Signer

    return Signer.from_text(SIGNING_KEY).public_key


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "production",
        "database_url": database_url,
        "api_keys": api_keys(),
        "audit_signing_key": SIGNING_KEY,
        "policy_dir": POLICY_DIR,
        "schema_dir": SCHEMA_DIR,
    }
    values.update(overrides)
    return Settings(**values)
