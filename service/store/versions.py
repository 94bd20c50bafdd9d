"""Policy versions in the store: each change of state committed with its audit-chain entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from service.errors import Conflict, StoreUnavailable
from service.store.chain import NewEntry, append_in
from service.store.records import AuditStore
from service.store.tables import audit_records, policy_versions

_versions = policy_versions
_SUMMARY = [column for column in _versions.c if column.name != "bundle"]
# An approved version goes live only with its approval in the audit chain: a row marked approved by
# hand, with no policy_approve entry, is never loaded.
_APPROVED = (
    _versions.c.status == "approved",
    # Entries that decide nothing (decision IS NULL) are found through the decision index, so every
    # worker's policy sync reads the few of them, not every decision recorded.
    _versions.c.digest.in_(
        select(audit_records.c.policy_digest).where(audit_records.c.decision.is_(None), audit_records.c.kind == "policy_approve")
    ),
)


class VersionStore:
    """Reads and changes policy versions; uploads, approvals, activations and retirements are chain entries."""

    def __init__(self, audit: AuditStore) -> None:
        self.audit = audit
        self.engine: Engine = audit.engine

    def _read(self, query: Any) -> list[dict[str, Any]]:
        try:
            with self.engine.connect() as connection:
                return [dict(row._mapping) for row in connection.execute(query)]
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The policy versions cannot be read at the moment.") from exc

    def get(self, digest: str, *, with_bundle: bool = False) -> dict[str, Any] | None:
        columns = list(_versions.c) if with_bundle else _SUMMARY
        rows = self._read(select(*columns).where(_versions.c.digest == digest))
        return rows[0] if rows else None

    def for_force(self, force: str) -> list[dict[str, Any]]:
        return self._read(select(*_SUMMARY).where(_versions.c.force == force).order_by(_versions.c.uploaded_at))

    def approved_digests(self) -> set[str]:
        return {row["digest"] for row in self._read(select(_versions.c.digest).where(*_APPROVED))}

    def approved(self) -> list[dict[str, Any]]:
        return self._read(select(_versions).where(*_APPROVED).order_by(_versions.c.effective_from, _versions.c.digest))

    def record_directory(self, row: dict[str, Any]) -> bool:
        """Keep the policy directory's version (once per digest); True when it was new."""
        try:
            with self.engine.begin() as connection:
                if connection.execute(select(_versions.c.digest).where(_versions.c.digest == row["digest"])).first():
                    return False
                connection.execute(insert(_versions).values(**row))
                return True
        except IntegrityError:
            return False  # another worker recorded it first
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The policy version could not be recorded.") from exc

    def add_candidate(self, row: dict[str, Any], entry: NewEntry) -> None:
        """Store an uploaded candidate and its upload entry together."""
        if self.get(row["digest"]) is not None:
            raise Conflict(
                f"Version {row['digest']} is already held (the same files were uploaded before, or are the policy directory's).",
                errors=[{"field": "files", "message": "these files make a version already held", "code": "version_exists"}],
            )
        self.audit.append(replace(entry, side_rows=(("policy_version", row),)))

    def _change(self, *, where: list[Any], values: dict[str, Any], entries: list[NewEntry], now: datetime, failed: str) -> bool:
        """One conditional update and its chain entries in one transaction; False when no row met the conditions."""
        try:
            with self.engine.begin() as connection:
                if not connection.execute(update(_versions).where(*where).values(**values)).rowcount:
                    return False
                append_in(connection, entries, now=now, signing=self.audit.signing)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(failed) from exc
        return True

    def approve(self, digest: str, *, changes: dict[str, Any], entry: NewEntry, now: datetime) -> bool:
        """Mark a candidate approved, with its entry, in one transaction; False when it is no longer a candidate."""
        return self._change(
            where=[_versions.c.digest == digest, _versions.c.status == "candidate"],
            values=changes,
            entries=[entry],
            now=now,
            failed="The approval could not be recorded; the candidate is unchanged.",
        )

    def withdraw(self, digest: str, *, entry: NewEntry, now: datetime) -> bool:
        """Withdraw a candidate or an approved version not yet in force, with its entry; False if it no longer can be."""
        return self._change(
            where=[
                _versions.c.digest == digest,
                _versions.c.status.in_(("candidate", "approved")),
                _versions.c.activated_at.is_(None),
            ],
            values={"status": "withdrawn", "retired_at": now},
            entries=[entry],
            now=now,
            failed="The withdrawal could not be recorded; the version is unchanged.",
        )

    def activate(self, digest: str, *, previous: str | None, entries: list[NewEntry], now: datetime) -> bool:
        """Record that a version took effect (and the one before it was retired), once, with the entries."""
        try:
            with self.engine.begin() as connection:
                changed = connection.execute(
                    update(_versions)
                    .where(_versions.c.digest == digest, _versions.c.activated_at.is_(None))
                    .values(activated_at=now)
                ).rowcount
                if not changed:
                    return False
                if previous is not None:
                    connection.execute(
                        update(_versions)
                        .where(_versions.c.digest == previous, _versions.c.retired_at.is_(None))
                        .values(retired_at=now)
                    )
                append_in(connection, entries, now=now, signing=self.audit.signing)
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The activation could not be recorded.") from exc
        return True
