"""Abstraction monitoring (WMP 1.3): record, authorise, and report monthly per LPA."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from service.actions.access import Caller, require_force
from service.actions.policies import policy_for
from service.api.schemas.abstractions import (
    AbstractionIn,
    AbstractionOut,
    AbstractionReport,
    AuthorisationIn,
    LpaMonth,
    OfficerAbstractions,
)
from service.engine.policy import PolicyRegistry
from service.errors import InvalidRequest, NotFound
from service.store.abstractions import AbstractionStore

# WMP 1.3 asks that "repeated or prolonged abstraction" be reviewed without defining either;
# these are the thresholds the monthly report flags, per officer and month.
REPEATED_ABSTRACTIONS = 3
PROLONGED_HOURS = 16.0


def pending(*, now: datetime, role: str) -> dict[str, Any]:
    """The fields of an abstraction row recorded now, awaiting a supervisor's authorisation."""
    return {
        "status": "pending",
        "authorised_by": None,
        "justification": None,
        "authorised_at": None,
        "recorded_at": now,
        "recorded_by_role": role,
    }


def record_abstraction(
    body: AbstractionIn,
    *,
    registry: PolicyRegistry,
    store: AbstractionStore,
    caller: Caller,
    now: datetime,
    new_id: Callable[[], str],
) -> AbstractionOut:
    require_force(caller, body.force)
    policy_for(registry, body.force, field="force")
    row = {
        **body.model_dump(),
        "id": new_id(),
        "source": "manual",
        "assessment_id": None,
        **pending(now=now, role=caller.role),
    }
    store.create(row, identity=caller.audit_fields())
    return AbstractionOut.model_validate(row)


def read_abstraction(abstraction_id: str, *, store: AbstractionStore, caller: Caller) -> AbstractionOut:
    """One abstraction record as it stands, or a 404 (as for one of another force's)."""
    row = store.get(abstraction_id)
    if row is None or not caller.acts_for(row["force"]):
        raise NotFound(f"No abstraction '{abstraction_id}'.")
    return AbstractionOut.model_validate(row)


def authorise_abstraction(
    abstraction_id: str,
    body: AuthorisationIn,
    *,
    store: AbstractionStore,
    caller: Caller,
    now: datetime,
    new_id: Callable[[], str],
) -> AbstractionOut:
    existing = store.get(abstraction_id)
    if existing is None:
        raise NotFound(f"No abstraction '{abstraction_id}'.")
    require_force(caller, existing["force"], field="abstraction_id")
    row = store.authorise(
        abstraction_id,
        record_id=new_id(),
        authorised_by=body.authorised_by,
        justification=body.justification,
        hours=body.hours,
        now=now,
        identity=caller.audit_fields(),
    )
    if row is None:
        raise NotFound(f"No abstraction '{abstraction_id}'.")
    return AbstractionOut.model_validate(row)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidRequest(
            "month must be YYYY-MM.", errors=[{"field": "month", "message": "expected YYYY-MM", "code": "invalid_month"}]
        ) from exc
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def abstraction_report(store: AbstractionStore, *, month: str, lpa: str | None, caller: Caller) -> AbstractionReport:
    """Per home LPA of the caller's forces: how many abstractions, how many hours, how many unauthorised, who to review."""
    start, end = month_bounds(month)
    by_lpa: dict[str, list[dict]] = defaultdict(list)
    for row in store.in_period(start=start, end=end, home_lpa=lpa, forces=caller.forces):
        by_lpa[row["home_lpa"] or "unknown"].append(row)
    lpas = []
    for name in sorted(by_lpa):
        rows = by_lpa[name]
        per_officer: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            per_officer[row["officer_id"]].append(row)
        review = []
        for officer_id in sorted(per_officer):
            officer_rows = per_officer[officer_id]
            hours = sum(r["hours"] or 0.0 for r in officer_rows)
            if len(officer_rows) >= REPEATED_ABSTRACTIONS or hours >= PROLONGED_HOURS:
                review.append(
                    OfficerAbstractions(officer_id=officer_id, abstractions=len(officer_rows), hours=hours, review_required=True)
                )
        lpas.append(
            LpaMonth(
                lpa=name,
                month=month,
                abstractions=len(rows),
                hours=sum(r["hours"] or 0.0 for r in rows),
                hours_unknown=sum(1 for r in rows if r["hours"] is None),
                unauthorised=sum(1 for r in rows if r["status"] != "authorised"),
                officers_for_review=review,
            )
        )
    return AbstractionReport(
        month=month, lpa=lpa, review_threshold={"abstractions": REPEATED_ABSTRACTIONS, "hours": PROLONGED_HOURS}, lpas=lpas
    )


def report_csv(report: AbstractionReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["lpa", "month", "abstractions", "hours", "hours_unknown", "unauthorised", "officers_for_review"])
    for row in report.lpas:
        review = "; ".join(f"{o.officer_id} ({o.abstractions}, {o.hours:g} h)" for o in row.officers_for_review)
        writer.writerow([row.lpa, row.month, row.abstractions, f"{row.hours:g}", row.hours_unknown, row.unauthorised, review])
    return buffer.getvalue()
