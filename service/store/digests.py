"""The audit chain's digests and signed statements, with no database: the store computes them
when it appends, verification recomputes them, and the offline verifier of an export uses them
alone.

An entry's digest is sha256(prev_digest | content_digest). The content digest is sha256 over a
canonical serialisation of the entry:

- version 1 (entries written before one chain per force): kind, id, time, force, task, call,
  officer, decision, parent, policy id, version and digest, caller role, and the exact request and
  response JSON;
- version 2 (every entry written since): the same, plus the caller's key fingerprint (who may read
  the record), the chain it belongs to, and the digest of the answer an Idempotency-Key replays
  (when there is one). Its position in the chain is fixed by the link itself;
- version 3 (every entry written since callers sign in with tokens and act for some forces): the
  same, plus the caller's subject and client id (when it signed in with a token) and the forces it
  acted for (its scope: '*' or force ids joined by '|').

Each force has its own chain; the first entry of a chain links to that chain's genesis digest.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, TypedDict

LEGACY_GENESIS = "sha256:" + "0" * 64
LEGACY_CHAIN = "~shared"  # the single chain every force shared before one chain per force
CURRENT_VERSION = 3
SIGNED_STATEMENT = "pcso-audit-checkpoint/1"

_FIELDS_V1 = (
    "kind",
    "id",
    "force",
    "task",
    "call_type",
    "call_reference",
    "officer_id",
    "decision",
    "parent_id",
    "policy_id",
    "policy_version",
    "policy_digest",
    "caller_role",
)
_FIELDS_V2 = _FIELDS_V1 + ("caller_key_id", "chain", "answer_digest")
_FIELDS_V3 = _FIELDS_V2 + ("caller_subject", "caller_client_id", "caller_scope")
_FIELDS = {1: _FIELDS_V1, 2: _FIELDS_V2, 3: _FIELDS_V3}
CONTENT_FIELDS = _FIELDS_V3  # every field a content digest of any version reads, besides the time and the JSON texts


class CallerFields(TypedDict):
    """Who made an audited request, as every entry records it."""

    caller_role: str
    caller_key_id: str
    caller_subject: str | None
    caller_client_id: str | None
    caller_scope: str | None


def iso_utc(moment: datetime) -> str:
    """A timestamp as stored and hashed: UTC, microseconds, 'Z' (naive values are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def genesis(chain: str) -> str:
    """What the first entry of a chain links to."""
    return LEGACY_GENESIS if chain == LEGACY_CHAIN else sha256(f"pcso-audit-genesis|{chain}")


def content_digest(entry: Any, version: int = CURRENT_VERSION) -> str:
    """sha256 over the canonical content of an entry (any object with the entry's attributes)."""
    fields = _FIELDS.get(version)
    if fields is None:  # no entry is written with such a version: it can only be an altered one
        return "sha256:unknown-digest-version"
    meta = {name: getattr(entry, name) for name in fields}
    recorded_at = entry.recorded_at
    meta["recorded_at"] = iso_utc(recorded_at) if isinstance(recorded_at, datetime) else recorded_at
    # sha256 of the three texts joined by newlines, fed in turn rather than joined into one copy.
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    for text in (entry.request_json, entry.response_json):
        digest.update(b"\n")
        digest.update(text.encode("utf-8"))
    return "sha256:" + digest.hexdigest()


def chain_digest(prev_digest: str, content: str) -> str:
    """The digest that links an entry to the one before it."""
    return "sha256:" + hashlib.sha256(f"{prev_digest}|{content}".encode("ascii")).hexdigest()


def statement(*, chain: str, chain_seq: int, digest: str, signed_at: str, key_id: str) -> bytes:
    """The bytes a checkpoint signature covers: this chain, up to this entry, had this digest."""
    return "\n".join((SIGNED_STATEMENT, chain, str(chain_seq), digest, signed_at, key_id)).encode("utf-8")
