"""One settings class, read from the environment when the app is created."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROLES = ("dispatcher", "planner", "auditor", "admin")
# Keys printed by the local run command; never accepted outside development.
DEVELOPMENT_KEYS = {
    "local-admin-key": "admin",
    "local-dispatcher-key": "dispatcher",
    "local-planner-key": "planner",
    "local-auditor-key": "auditor",
}
MIN_KEY_LENGTH = 16


def parse_api_keys(raw: str) -> dict[str, str]:
    """Parse ``key:role[,key:role...]`` into a key -> role mapping; raise ValueError when malformed."""
    keys: dict[str, str] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key, separator, role = item.rpartition(":")
        if not separator or not key:
            raise ValueError(f"API_KEYS entry {item[:4]}... is not key:role")
        if role not in ROLES:
            raise ValueError(f"API_KEYS role {role!r} is not one of {', '.join(ROLES)}")
        if key in keys:
            raise ValueError("API_KEYS lists the same key twice")
        keys[key] = role
    return keys


class Settings(BaseSettings):
    """Service configuration; see the README's Configuration section."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    environment: Literal["production", "development"] = "production"
    database_url: str = "sqlite:///./var/pcso-deployment.db"
    api_keys: str = Field(default="", repr=False)
    policy_dir: Path = Path("policy_data")
    schema_dir: Path = Path("schemas")
    log_level: str = "INFO"
    migrate_on_start: bool = True
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    retention_days: int | None = Field(default=None, ge=1)
    # Ed25519 key that signs audit checkpoints, kept outside the database: base64 of its 32 raw bytes
    # (or PEM) in AUDIT_SIGNING_KEY, or in the file AUDIT_SIGNING_KEY_FILE. Required in production;
    # in development a key is created in var/audit-signing.key when neither is set.
    audit_signing_key: SecretStr | None = Field(default=None, repr=False)
    audit_signing_key_file: Path | None = None
    audit_sign_every: int = Field(default=100, ge=1, le=1_000_000)
    # Public keys of retired signing keys (base64, comma-separated), still published for old exports.
    audit_previous_public_keys: str = ""
    # Connection deadlines applied by the server (service/ops/timeouts.py): a complete request head,
    # each gap in a request body, and an idle keep-alive connection.
    header_timeout_seconds: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    body_timeout_seconds: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1)
    # How long a request waits on the store (another writer's lock, a connection) before it gives
    # up with a 503 problem: SQLite's busy timeout; PostgreSQL's connect and lock timeouts.
    store_wait_seconds: float = Field(default=5.0, gt=0, le=300, allow_inf_nan=False)

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql+psycopg://", "postgresql://")):
            raise ValueError("DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @model_validator(mode="after")
    def _safe_keys(self) -> Settings:
        keys = parse_api_keys(self.api_keys)
        if self.environment == "production":
            for key in keys:
                if key in DEVELOPMENT_KEYS:
                    raise ValueError("API_KEYS holds a local development key; these are refused in production")
                if len(key) < MIN_KEY_LENGTH:
                    raise ValueError(f"API_KEYS keys must be at least {MIN_KEY_LENGTH} characters in production")
        return self

    @property
    def callers(self) -> dict[str, str]:
        return parse_api_keys(self.api_keys)


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once."""
    return Settings()
