"""Who may do what: the one role table, and API-key authentication."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    READ_CATALOGUE = "read_catalogue"
    ASSESS = "assess"
    READ_OWN_ASSESSMENTS = "read_own_assessments"
    READ_ALL_ASSESSMENTS = "read_all_assessments"
    VERIFY_AUDIT = "verify_audit"
    EXPORT_AUDIT = "export_audit"
    PURGE_AUDIT = "purge_audit"
    ESCALATE = "escalate"
    READ_MATRIX = "read_matrix"
    RECORD_ABSTRACTION = "record_abstraction"
    AUTHORISE_ABSTRACTION = "authorise_abstraction"
    READ_ABSTRACTIONS = "read_abstractions"
    READ_REPORTS = "read_reports"
    POLICY_IMPACT = "policy_impact"
    RELOAD_POLICY = "reload_policy"


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "dispatcher": frozenset(
        {
            Permission.READ_CATALOGUE,
            Permission.ASSESS,
            Permission.ESCALATE,
            Permission.READ_OWN_ASSESSMENTS,
            Permission.RECORD_ABSTRACTION,
        }
    ),
    "planner": frozenset(
        {
            Permission.READ_CATALOGUE,
            Permission.READ_ALL_ASSESSMENTS,
            Permission.READ_MATRIX,
            Permission.RECORD_ABSTRACTION,
            Permission.AUTHORISE_ABSTRACTION,
            Permission.READ_ABSTRACTIONS,
            Permission.READ_REPORTS,
            Permission.POLICY_IMPACT,
        }
    ),
    "auditor": frozenset(
        {
            Permission.READ_CATALOGUE,
            Permission.READ_ALL_ASSESSMENTS,
            Permission.VERIFY_AUDIT,
            Permission.EXPORT_AUDIT,
            Permission.READ_MATRIX,
            Permission.READ_ABSTRACTIONS,
            Permission.READ_REPORTS,
            Permission.POLICY_IMPACT,
        }
    ),
    "admin": frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: its role and a stable, non-secret id for its key."""

    role: str
    key_id: str

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


def _fingerprint(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    """Known API keys, held only as digests; lookups compare every digest in constant time."""

    def __init__(self, keys: dict[str, str]) -> None:
        self._entries = [(_fingerprint(key), role) for key, role in keys.items()]

    def identify(self, presented: str) -> Caller | None:
        digest = _fingerprint(presented)
        found: Caller | None = None
        for known, role in self._entries:
            if hmac.compare_digest(known, digest):
                found = Caller(role=role, key_id="key-" + known.hex()[:12])
        return found
