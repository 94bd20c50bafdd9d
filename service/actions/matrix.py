"""The deployability matrix: every call type against every task, for one officer profile."""

from __future__ import annotations

import html
from datetime import datetime

from service.api.schemas.common import PolicyRefOut
from service.api.schemas.policies import MatrixCell, MatrixOut, MatrixProfile, MatrixRow
from service.api.schemas.spreadsheet import csv_text
from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.decide import check_request, decide, decide_outcome
from service.engine.policy import DECISIONS, PHASES, RISK_LEVELS, SETTINGS, TASKS, TRAINING_STATUSES, PolicySet
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
h2 { font-size: 1rem; margin: 1rem 0 0.3rem; }
p.meta { margin-top: 0; color: #444; font-size: 0.9rem; }
form { border: 1px solid #bbb; padding: 0.5rem 0.75rem; max-width: 70rem; font-size: 0.85rem; }
form .fields { display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; align-items: end; }
form label { display: flex; flex-direction: column; gap: 0.1rem; }
form fieldset { margin: 0.6rem 0; border: 1px solid #ccc; display: grid; grid-template-columns: repeat(auto-fill, minmax(19rem, 1fr));
  gap: 0.3rem 1rem; }
form fieldset label { flex-direction: row; gap: 0.3rem; align-items: baseline; }
form fieldset code { display: block; color: #555; font-size: 0.72rem; }
section { font-size: 0.9rem; max-width: 70rem; }
form button { margin-top: 0.3rem; font-size: 0.9rem; padding: 0.2rem 1rem; }
ul.legend { list-style: none; padding: 0; margin: 0.2rem 0; }
ul.legend li { margin: 0.15rem 0; }
span.swatch { display: inline-block; min-width: 8.5rem; padding: 0.1rem 0.35rem; border: 1px solid #999; }
table { border-collapse: collapse; font-size: 0.78rem; }
th, td { border: 1px solid #999; padding: 0.25rem 0.35rem; vertical-align: top; }
th { background: #e8e8e8; position: sticky; top: 0; text-align: left; }
th code, td small { color: #555; display: block; font-size: 0.7rem; font-weight: normal; }
.deploy { background: #d8f0d8; }
.deploy_with_conditions { background: #eef6c8; }
.refer_to_supervisor { background: #fde9c4; }
.do_not_deploy { background: #f6d2d2; }
@media print {
  body { margin: 0; } form { display: none; } th { position: static; } table { font-size: 0.62rem; }
  @page { size: A3 landscape; }
}
"""


# What each cell value means, in the words and colours the page uses (the class is the decision code).
DECISION_MEANINGS = {
    "deploy": "May be sent to this call for this task; nothing to pass on.",
    "deploy_with_conditions": "May be sent, with conditions to pass on to the officer (an assessment of the call lists them).",
    "refer_to_supervisor": "A supervisor decides whether the officer is sent.",
    "do_not_deploy": "Must not be sent to this call for this task.",
}
_TRAINING_LABELS = {"foundation": "Foundation", "coaching": "Coaching (with a tutor)", "independent": "Independent"}
_PHASE_LABELS = {"in_progress": "In progress", "recent": "Recent", "scene_secured": "Scene secured by officers"}
_RISK_LABELS = {"low": "Low", "medium": "Medium", "high": "High"}
_SETTING_LABELS = {"urban": "Urban", "rural": "Rural"}


def _label(labels: dict[str, str], code: str) -> str:
    return labels.get(code, code.replace("_", " "))


def _named(name: str, code: str) -> str:
    """A catalogue entry's name, then its code in its own element: copied text and screen readers keep them apart."""
    return f"<span class='name'>{html.escape(name)}</span> <code>{html.escape(code)}</code>"


def _select(name: str, caption: str, choices: list[tuple[str, str]], current: str) -> str:
    options = "".join(
        f"<option value='{html.escape(value)}'{' selected' if value == current else ''}>{html.escape(text)}</option>"
        for value, text in choices
    )
    return (
        f"<label>{html.escape(caption)} <select name='{html.escape(name)}' id='f-{html.escape(name)}'>{options}</select></label>"
    )


def _yes_no(name: str, caption: str, current: bool) -> str:
    # A select, not a checkbox: an unticked checkbox sends nothing, which would leave a default of true in place.
    return _select(name, caption, [("true", "Yes"), ("false", "No")], "true" if current else "false")


def _profile_form(matrix: MatrixOut, policy: PolicySet) -> str:
    """A plain GET form back to this page with every field of the profile, the current values chosen."""
    profile = matrix.profile
    fields = [
        _select("phase", "Phase of the call", [(p, _label(_PHASE_LABELS, p)) for p in PHASES], profile.phase),
        _select(
            "training_status",
            "Training status",
            [(t, _label(_TRAINING_LABELS, t)) for t in TRAINING_STATUSES],
            profile.training_status,
        ),
        _yes_no("in_uniform", "In uniform", profile.in_uniform),
        _yes_no("authorised_driver", "Authorised driver", profile.authorised_driver),
        _yes_no("cycle_trained", "Cycle trained", profile.cycle_trained),
        _select("risk_level", "Location risk", [(r, _label(_RISK_LABELS, r)) for r in RISK_LEVELS], profile.risk_level),
        _select("setting", "Setting", [(s, _label(_SETTING_LABELS, s)) for s in SETTINGS], profile.setting),
    ]
    held = set(profile.powers)
    powers = "".join(
        f"<label><input type='checkbox' name='powers' value='{html.escape(code)}'{' checked' if code in held else ''}>"
        f" <span>{_named(power.name, code)}</span></label>"
        for code, power in policy.powers.items()
    )
    return (
        "<form method='get' action='matrix.html' aria-labelledby='profile-heading'>"
        f"<div class='fields'>{''.join(fields)}</div>"
        f"<fieldset><legend>Designated powers</legend>{powers}</fieldset>"
        "<button type='submit'>Show the matrix</button> <a href='matrix.html'>Back to the default profile</a>"
        "</form>"
    )


def _profile_words(matrix: MatrixOut, policy: PolicySet) -> str:
    profile = matrix.profile
    powers = ", ".join(policy.powers[code].name if code in policy.powers else code for code in profile.powers)
    return (
        f"training status {_label(_TRAINING_LABELS, profile.training_status).lower()}; {'in' if profile.in_uniform else 'not in'} uniform; "
        f"{'an authorised driver' if profile.authorised_driver else 'not an authorised driver'}; "
        f"{'cycle trained' if profile.cycle_trained else 'not cycle trained'}; designated powers: {powers or 'none'}. "
        f"Call phase: {_label(_PHASE_LABELS, profile.phase).lower()}; location risk {profile.risk_level}, {profile.setting}."
    )


def _legend(matrix: MatrixOut, policy: PolicySet) -> str:
    items = "".join(
        f"<li><span class='swatch {html.escape(code)}'>{html.escape(DECISION_LABELS[code])}</span> "
        f"<code>{html.escape(code)}</code>: {html.escape(DECISION_MEANINGS[code])}</li>"
        for code in DECISIONS
    )
    return (
        "<section aria-labelledby='legend-heading'><h2 id='legend-heading'>How to read the matrix</h2>"
        f"<p id='profile-shown'>Every cell is the decision for one PCSO with this profile: {html.escape(_profile_words(matrix, policy))} "
        "The matrix assumes a call with no grade, flags, location markers or description; on a real call "
        "these may make the decision more restrictive.</p>"
        f"<ul class='legend'>{items}</ul>"
        "<p>Under each decision, the clause that decides it. Rows are call types and columns tasks, each with its name "
        "and then its code.</p></section>"
    )


def matrix_html(matrix: MatrixOut, *, policy: PolicySet) -> str:
    """A printable page: a form to choose the profile, a legend, then call types down, tasks across, each cell the
    decision and its clause."""
    e = html.escape
    header = "".join(
        f"<th scope='col'>{_named(policy.tasks[t].name if t in policy.tasks else t.replace('_', ' '), t)}</th>"
        for t in matrix.tasks
    )
    body = []
    for row in matrix.rows:
        cells = "".join(
            f"<td class='{e(row.cells[t].decision)}'><span>{e(DECISION_LABELS[row.cells[t].decision])}</span> "
            f"<small>{e(row.cells[t].clause)}</small></td>"
            for t in matrix.tasks
        )
        body.append(f"<tr><th scope='row'>{_named(row.name, row.call_type)}</th>{cells}</tr>")
    ref = matrix.policy
    review = " (past its review date)" if ref.past_review_date else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>PCSO deployability matrix: {e(ref.name)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>PCSO deployability matrix: {e(ref.name)}</h1>"
        f"<p class='meta'>{e(ref.document)} version {e(ref.version)}, review due {ref.review_due.isoformat()}{review}.</p>"
        f"<h2 id='profile-heading'>Officer profile and phase</h2>{_profile_form(matrix, policy)}"
        f"{_legend(matrix, policy)}"
        f"<table><thead><tr><th scope='col'>Call type</th>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</body></html>"
    )
