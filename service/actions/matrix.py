"""The deployability matrix: every call type against every task, for one officer profile."""

from __future__ import annotations

import html
from datetime import datetime

from service.api.schemas.common import PolicyRefOut
from service.api.schemas.policies import MatrixCell, MatrixOut, MatrixProfile, MatrixRow
from service.api.schemas.spreadsheet import csv_text
from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.decide import check_request, decide, decide_outcome
from service.engine.policy import TASKS, PolicySet
from service.errors import InvalidRequest, field_path

DECISION_LABELS = {
    "deploy": "Deploy",
    "deploy_with_conditions": "With conditions",
    "refer_to_supervisor": "Refer",
    "do_not_deploy": "Do not deploy",
}


def build_matrix(policy: PolicySet, profile: MatrixProfile, *, now: datetime) -> MatrixOut:
    """Decide every (call type, task) pair for the profile: the decision and its deciding clause."""
    officer = OfficerInput(
        id="matrix-profile",
        designated_powers=tuple(profile.powers),
        training_status=profile.training_status,
        in_uniform=profile.in_uniform,
        authorised_driver=profile.authorised_driver,
        cycle_trained=profile.cycle_trained,
    )
    location = LocationInput(risk_level=profile.risk_level, setting=profile.setting)
    problems = check_request(
        policy, AssessmentInput(force=policy.id, call=CallInput(type="-"), location=location, officer=officer)
    )
    if problems:
        raise InvalidRequest(
            "The profile's powers include codes that are not acceptable.",
            errors=[{"field": field_path(("powers", p.field[-1])), "message": p.message, "code": p.code} for p in problems],
        )
    rows = []
    for call_type in policy.call_types.values():
        cells = {}
        for task in TASKS:
            request = AssessmentInput(
                force=policy.id,
                task=task,
                call=CallInput(type=call_type.code, phase=profile.phase),
                location=location,
                officer=officer,
            )
            decision, deciding = decide_outcome(policy, request)
            cells[task] = MatrixCell(decision=decision, code=deciding.code, clause=deciding.citation.label)
        rows.append(
            MatrixRow(call_type=call_type.code, name=call_type.name, classification=call_type.classification, cells=cells)
        )
    sample = AssessmentInput(
        force=policy.id, call=CallInput(type=next(iter(policy.call_types))), location=location, officer=officer
    )
    return MatrixOut(
        force=policy.id,
        policy=PolicyRefOut.model_validate(decide(policy, sample, now=now).policy, from_attributes=True),
        profile=profile,
        tasks=list(TASKS),
        rows=rows,
    )


def matrix_csv(matrix: MatrixOut) -> str:
    """One row per call type; for each task a decision column and a clause column (no cell a formula)."""
    header = ["call_type", "name", "classification"] + [f"{task}{suffix}" for task in matrix.tasks for suffix in ("", "_clause")]
    rows = (
        [
            row.call_type,
            row.name,
            row.classification,
            *(value for task in matrix.tasks for value in (row.cells[task].decision, row.cells[task].clause)),
        ]
        for row in matrix.rows
    )
    return csv_text([header, *rows])


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #111; }
h1 { font-size: 1.3rem; margin-bottom: 0.2rem; }
p.meta { margin-top: 0; color: #444; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.78rem; }
th, td { border: 1px solid #999; padding: 0.25rem 0.35rem; vertical-align: top; }
th { background: #e8e8e8; position: sticky; top: 0; }
td.deploy { background: #d8f0d8; }
td.deploy_with_conditions { background: #eef6c8; }
td.refer_to_supervisor { background: #fde9c4; }
td.do_not_deploy { background: #f6d2d2; }
td small { color: #333; display: block; }
@media print { body { margin: 0; } th { position: static; } table { font-size: 0.62rem; } @page { size: A3 landscape; } }
"""


def matrix_html(matrix: MatrixOut) -> str:
    """A printable page: call types down, tasks across, each cell the decision and its clause."""
    e = html.escape
    profile = matrix.profile
    described = (
        f"training {profile.training_status}; powers: {', '.join(profile.powers) or 'none'}; "
        f"{'in' if profile.in_uniform else 'not in'} uniform; {'authorised driver' if profile.authorised_driver else 'not a driver'}; "
        f"{'cycle trained' if profile.cycle_trained else 'not cycle trained'}; phase {profile.phase}; risk {profile.risk_level}; {profile.setting}"
    )
    header = "".join(f"<th scope='col'>{e(task.replace('_', ' '))}</th>" for task in matrix.tasks)
    body = []
    for row in matrix.rows:
        cells = "".join(
            f"<td class='{e(row.cells[t].decision)}'>{e(DECISION_LABELS[row.cells[t].decision])}<small>{e(row.cells[t].clause)}</small></td>"
            for t in matrix.tasks
        )
        body.append(f"<tr><th scope='row'>{e(row.name)}<small>{e(row.call_type)}</small></th>{cells}</tr>")
    policy = matrix.policy
    review = " (past its review date)" if policy.past_review_date else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>PCSO deployability matrix: {e(policy.name)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>PCSO deployability matrix: {e(policy.name)}</h1>"
        f"<p class='meta'>{e(policy.document)} version {e(policy.version)}, review due {policy.review_due.isoformat()}{review}. "
        f"Officer profile: {e(described)}. Each cell: the decision and the clause that decides it.</p>"
        f"<table><thead><tr><th scope='col'>Call type</th>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</body></html>"
    )
