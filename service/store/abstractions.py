"""Abstraction records: created with the deployments that abstract, recorded directly, authorised."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError

from service.errors import AlreadyAuthorised, StoreUnavailable
from service.store.chain import NewEntry, append_in
from service.store.digests import CallerFields
from service.store.records import AuditStore
from service.store.tables import abstractions

_abstractions = abstractions


class AbstractionStore:
    """Reads and changes abstraction rows; every change is also an entry in the audit chain."""

    def __init__(self, audit: AuditStore) -> None:
        self.audit = audit
        self.engine: Engine = audit.engine

    def create(self, row: dict[str, Any], *, identity: CallerFields) -> None:
        """Record an abstraction reported directly (not through an assessment)."""
        self.audit.append(
            NewEntry(
                id=row["id"],
                kind="abstraction",
                recorded_at=row["recorded_at"],
                force=row["force"],
                officer_id=row["officer_id"],
                **identity,
                request_json=json.dumps(_jsonable(row), sort_keys=True),
                response_json=json.dumps({"status": row["status"]}),
                side_rows=(("abstraction", row),),
            )
        )

    def get(self, abstraction_id: str) -> dict[str, Any] | None:
        try:
            with self.engine.connect() as connection:
                row = connection.execute(select(_abstractions).where(_abstractions.c.id == abstraction_id)).first()
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The record store cannot be read at the moment.") from exc
        return dict(row._mapping) if row is not None else None

    def authorise(
        self,
        abstraction_id: str,
        *,
        record_id: str,
        authorised_by: str,
        justification: str,
        hours: float | None,
        now: datetime,
        identity: CallerFields,
    ) -> dict[str, Any] | None:
        """Mark it authorised and record who and why, in one transaction with its audit entry.

        The change is one conditional update (only a pending abstraction is authorised), so of
        several authorisations sent at once exactly one succeeds. None when there is no such
        abstraction; AlreadyAuthorised when it was authorised first by someone else."""
        changes: dict[str, Any] = {
            "status": "authorised",
            "authorised_by": authorised_by,
            "justification": justification,
            "authorised_at": now,
        }
        if hours is not None:
            changes["hours"] = hours
        try:
            with self.engine.begin() as connection:
                changed = connection.execute(
                    update(_abstractions)
                    .where(_abstractions.c.id == abstraction_id, _abstractions.c.status == "pending")
                    .values(**changes)
                ).rowcount
                current = connection.execute(select(_abstractions).where(_abstractions.c.id == abstraction_id)).first()
                if current is None:
                    return None
                if not changed:
                    raise AlreadyAuthorised(
                        f"Abstraction '{abstraction_id}' was already authorised by {current.authorised_by}.",
                        errors=[{"field": "abstraction_id", "message": "already authorised", "code": "already_authorised"}],
                    )
                append_in(
                    connection,
                    [
                        NewEntry(
                            id=record_id,
                            kind="authorisation",
                            recorded_at=now,
                            force=current.force,
                            officer_id=current.officer_id,
                            parent_id=abstraction_id,
                            **identity,
                            request_json=json.dumps(_jsonable({"abstraction_id": abstraction_id, **changes}), sort_keys=True),
                            response_json=json.dumps({"status": "authorised"}),
                        )
                    ],
                    now=now,
                    signing=self.audit.signing,
                )
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The authorisation could not be recorded.") from exc
        return dict(current._mapping)

    def in_period(
        self, *, start: datetime, end: datetime, home_lpa: str | None, forces: frozenset[str] | None = None
    ) -> list[dict[str, Any]]:
        """Abstractions that started in [start, end), optionally for one home LPA, of ``forces`` (None: every force)."""
        query = select(_abstractions).where(_abstractions.c.started_at >= start, _abstractions.c.started_at < end)
        if forces is not None:
            query = query.where(_abstractions.c.force.in_(sorted(forces)))
        if home_lpa is not None:
            query = query.where(_abstractions.c.home_lpa == home_lpa)
        try:
            with self.engine.connect() as connection:
                return [dict(row._mapping) for row in connection.execute(query.order_by(_abstractions.c.started_at))]
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The record store cannot be read at the moment.") from exc


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.items()}
