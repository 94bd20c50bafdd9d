"""Who may do what: the one role table, and API-key authentication."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from service.errors import Forbidden
from service.store.digests import CallerFields


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
    PROPOSE_POLICY = "propose_policy"
    APPROVE_POLICY = "approve_policy"


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
            Permission.PROPOSE_POLICY,
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


ALL_FORCES = "*"


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: its role, a stable non-secret id, and the forces it acts for.

    ``role`` is one role, or several joined by '+' (a token may carry more than one), and the
    caller holds the permissions of each. ``forces`` is None for a caller of every force.
    ``subject`` and ``client_id`` say who signed in when the caller came with a token."""

    role: str
    key_id: str
    forces: frozenset[str] | None = None
    subject: str | None = None
    client_id: str | None = None

    def may(self, permission: Permission) -> bool:
        return any(permission in ROLE_PERMISSIONS[role] for role in self.role.split("+"))

    def acts_for(self, force: str | None) -> bool:
        """Whether this caller acts for ``force`` (a record without a force belongs to every force's callers only)."""
        if self.forces is None:
            return True
        return force is not None and force in self.forces

    @property
    def scope(self) -> str:
        """The forces as recorded with each audit entry: '*' or the ids joined by '|'."""
        return ALL_FORCES if self.forces is None else "|".join(sorted(self.forces))

    def audit_fields(self) -> CallerFields:
        """Who made the request, as every audit entry records it (and its digest covers)."""
        return {
            "caller_role": self.role,
            "caller_key_id": self.key_id,
            "caller_subject": self.subject,
            "caller_client_id": self.client_id,
            "caller_scope": self.scope,
        }


class OutOfScope(Forbidden):
    slug = "force-out-of-scope"
    title = "The caller does not act for this force"


def require_force(caller: Caller, force: str | None, *, field: str = "force") -> None:
    """A write for ``force`` by a caller that does not act for it is a 403 naming the force."""
    if not caller.acts_for(force):
        raise OutOfScope(
            f"This caller acts for {caller.scope or 'no force'}, not for '{force}'.",
            errors=[{"field": field, "message": f"not a force this caller acts for: {force}", "code": "force_out_of_scope"}],
        )


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """What an API key may do: one role, for some forces (None: every force)."""

    role: str
    forces: frozenset[str] | None = None


def _fingerprint(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    """Known API keys, held only as digests; lookups compare every digest in constant time."""

    def __init__(self, keys: Mapping[str, KeyGrant | str]) -> None:
        self._entries = [
            (_fingerprint(key), grant if isinstance(grant, KeyGrant) else KeyGrant(grant)) for key, grant in keys.items()
        ]

    def __len__(self) -> int:
        return len(self._entries)

    def identify(self, presented: str) -> Caller | None:
        digest = _fingerprint(presented)
        found: Caller | None = None
        for known, grant in self._entries:
            if hmac.compare_digest(known, digest):
                found = Caller(role=grant.role, key_id="key-" + known.hex()[:12], forces=grant.forces)
        return found
