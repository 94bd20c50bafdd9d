"""One settings class, read from the environment when the app is created."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.actions.access import ALL_FORCES, KeyGrant

ROLES = ("dispatcher", "planner", "auditor", "admin")
# Keys printed by the local run command; never accepted outside development.
DEVELOPMENT_KEYS = {
    "local-admin-key": "admin",
    "local-dispatcher-key": "dispatcher",
    "local-planner-key": "planner",
    "local-auditor-key": "auditor",
}
MIN_KEY_LENGTH = 16
FORCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Token signature algorithms the service accepts: asymmetric only (never "none" or a shared secret).
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


def parse_scope(raw: str) -> frozenset[str] | None:
    """``*`` (every force, None) or force ids joined by '|'; raise ValueError when malformed."""
    if raw.strip() == ALL_FORCES:
        return None
    forces = frozenset(part.strip() for part in raw.split("|"))
    for force in forces:
        if not FORCE_ID.fullmatch(force):
            raise ValueError(f"force scope {force!r} is not a force id (letters, digits, '-', '_', '.'; or '*' for all)")
    return forces


def parse_api_keys(raw: str) -> dict[str, KeyGrant]:
    """Parse ``key:role[:force|force...][,...]`` into key -> grant; raise ValueError when malformed.

    A key without a force scope acts for every force, as does the scope ``*``."""
    keys: dict[str, KeyGrant] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        parts = item.rsplit(":", 2)
        if len(parts) == 3 and parts[1] in ROLES:
            key, role, scope = parts
            forces = parse_scope(scope)
        else:
            key, separator, role = item.rpartition(":")
            if not separator:
                raise ValueError(f"API_KEYS entry {item[:4]}... is not key:role[:forces]")
            forces = None
        if not key:
            raise ValueError(f"API_KEYS entry {item[:4]}... is not key:role[:forces]")
        if role not in ROLES:
            raise ValueError(f"API_KEYS role {role!r} is not one of {', '.join(ROLES)}")
        if key in keys:
            raise ValueError("API_KEYS lists the same key twice")
        keys[key] = KeyGrant(role, forces)
    return keys


def parse_role_map(raw: str) -> dict[str, str]:
    """``claim-value=role[,...]`` into a mapping; raise ValueError when a role is not one of ours."""
    mapping: dict[str, str] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        value, separator, role = item.rpartition("=")
        if not separator or not value.strip() or role.strip() not in ROLES:
            raise ValueError(f"OIDC_ROLE_MAP entry {item!r} is not claim-value=role with a role of {', '.join(ROLES)}")
        mapping[value.strip()] = role.strip()
    return mapping


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
    # Decisions kept by fact signature (README "Performance"); 0 decides every request afresh.
    decision_cache_size: int = Field(default=4096, ge=0, le=1_000_000)
    # Policy versions (README "Changing a force's policy"): how often each worker reads newly approved
    # versions from the store, and how far ahead of its effective time a version must be approved.
    policy_sync_seconds: float = Field(default=5.0, gt=0, le=3600, allow_inf_nan=False)
    policy_approval_lead_seconds: float = Field(default=60.0, ge=0, le=86_400 * 30, allow_inf_nan=False)
    # OpenID Connect bearer tokens, beside the keys (README "Identity"): off while OIDC_ISSUER is unset.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_roles_claim: str = "roles"
    oidc_role_map: str = ""
    oidc_forces_claim: str = "forces"
    oidc_forces: str = ""
    oidc_algorithms: str = "RS256"
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300)
    oidc_jwks_refresh_seconds: float = Field(default=30.0, ge=0, le=3600, allow_inf_nan=False)
    oidc_jwks_max_age_seconds: float = Field(default=3600.0, gt=0, le=86_400, allow_inf_nan=False)
    oidc_http_timeout_seconds: float = Field(default=5.0, gt=0, le=60, allow_inf_nan=False)

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
        self._check_oidc()
        if 0 < self.policy_approval_lead_seconds < 2 * self.policy_sync_seconds:
            raise ValueError(
                "POLICY_APPROVAL_LEAD_SECONDS must be at least twice POLICY_SYNC_SECONDS, so that every worker holds an "
                "approved version before it takes effect (0 only where one worker serves)"
            )
        return self

    def _check_oidc(self) -> None:
        parse_role_map(self.oidc_role_map)
        if self.oidc_forces:
            parse_scope(self.oidc_forces)
        if self.oidc_issuer is None:
            return
        if not self.oidc_audience:
            raise ValueError("OIDC_AUDIENCE is required with OIDC_ISSUER (the service's application id URI or client id)")
        if self.environment == "production" and not self.oidc_issuer.startswith("https://"):
            raise ValueError("OIDC_ISSUER must be an https:// URL in production")
        unknown = [alg for alg in self.algorithms if alg not in ASYMMETRIC_ALGORITHMS]
        if unknown or not self.algorithms:
            raise ValueError(f"OIDC_ALGORITHMS must name asymmetric algorithms only: {', '.join(ASYMMETRIC_ALGORITHMS)}")

    @property
    def algorithms(self) -> list[str]:
        return [alg.strip() for alg in self.oidc_algorithms.split(",") if alg.strip()]

    @property
    def callers(self) -> dict[str, KeyGrant]:
        return parse_api_keys(self.api_keys)


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once."""
    return Settings()
