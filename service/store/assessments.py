"""Recording and reading assessments: the only code that queries the assessment table."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from service.errors import StoreUnavailable
from service.store.tables import AssessmentRecord


@dataclass(frozen=True, slots=True)
class NewAssessment:
    """What the service records for one decision."""

    id: str
    recorded_at: datetime
    force: str
    task: str
    call_type: str
    call_reference: str | None
    officer_id: str
    decision: str
    policy_id: str
    policy_version: str
    policy_digest: str
    caller_role: str
    caller_key_id: str
    request_json: str
    response_json: str


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    id: str
    seq: int
    recorded_at: datetime
    caller_role: str
    caller_key_id: str
    request: dict
    response: dict


def content_digest(record: NewAssessment) -> str:
    """sha256 over the canonical content of a record (request, decision, policy, time)."""
    canonical = json.dumps(
        {
            "id": record.id,
            "recorded_at": record.recorded_at.isoformat(),
            "policy": [record.policy_id, record.policy_version, record.policy_digest],
            "caller_role": record.caller_role,
            "request": json.loads(record.request_json),
            "response": json.loads(record.response_json),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AssessmentStore:
    """Writes each decision in its own committed transaction before it is answered."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, record: NewAssessment) -> None:
        """Commit the record, or raise StoreUnavailable so that no unrecorded decision is returned."""
        row = AssessmentRecord(
            id=record.id,
            recorded_at=record.recorded_at,
            force=record.force,
            task=record.task,
            call_type=record.call_type,
            call_reference=record.call_reference,
            officer_id=record.officer_id,
            decision=record.decision,
            policy_id=record.policy_id,
            policy_version=record.policy_version,
            policy_digest=record.policy_digest,
            caller_role=record.caller_role,
            caller_key_id=record.caller_key_id,
            request_json=record.request_json,
            response_json=record.response_json,
            digest=content_digest(record),
        )
        try:
            with Session(self.engine) as session:
                session.add(row)
                session.commit()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(
                "The decision was not recorded, so it is not returned; retry, or resource the call without it."
            ) from exc

    def get(self, assessment_id: str) -> StoredAssessment | None:
        """The recorded assessment with this id, or None."""
        try:
            with Session(self.engine) as session:
                row = session.exec(select(AssessmentRecord).where(AssessmentRecord.id == assessment_id)).first()
        except SQLAlchemyError as exc:
            raise StoreUnavailable("The record store cannot be read at the moment.") from exc
        if row is None:
            return None
        return StoredAssessment(
            id=row.id,
            seq=row.seq or 0,
            recorded_at=row.recorded_at,
            caller_role=row.caller_role,
            caller_key_id=row.caller_key_id,
            request=json.loads(row.request_json),
            response=json.loads(row.response_json),
        )
