"""A Python client generated from openapi/openapi.json (openapi-python-client) drives a running service."""

from __future__ import annotations

import csv
import importlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import KEYS, ROOT
from tests.servers import VENV_BIN, running

pytestmark = pytest.mark.server

PACKAGE = "pcso_client"
# No formatter run after generation (the client is read as generated), and the NDJSON export read as text.
CONFIG = "post_hooks: []\ncontent_type_overrides:\n  application/x-ndjson: text/plain\n"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated client, imported; generation must succeed without a warning."""
    where = tmp_path_factory.mktemp("client")
    config = where / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    generated = subprocess.run(
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "openapi" / "openapi.json"),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(where / PACKAGE),
        ],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert (where / PACKAGE / "api" / "assessments" / "create_assessment.py").is_file()
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path_factory.mktemp('server') / 'client.db'}") as (base, _process):
        yield base


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def _client(client_package: ModuleType, base_url: str, who: str) -> Any:
    return client_package.AuthenticatedClient(base_url=base_url, token=KEYS[who], raise_on_unexpected_status=True)


def _request(m: Any, *, officer_id: str, flags: list[Any]) -> Any:
    return m.AssessmentRequest(
        force="west-midlands",
        task=m.Task.ATTEND,
        call=m.CallIn(type_="asb.nuisance", reference="WMP-20261122-0412", flags=flags),
        location=m.LocationIn(risk_level=m.RiskLevel.LOW, lpa="birmingham-west", neighbourhood="ladywood"),
        officer=m.OfficerIn(
            id=officer_id,
            designated_powers=["require_name_address"],
            training_status=m.TrainingStatus.INDEPENDENT,
            in_uniform=True,
            home_lpa="birmingham-west",
            home_neighbourhood="ladywood",
        ),
    )


def test_generated_client_drives_the_main_flows(client_package: ModuleType, base_url: str) -> None:
    with (
        _client(client_package, base_url, "dispatcher") as dispatcher,
        _client(client_package, base_url, "planner") as planner,
        _client(client_package, base_url, "auditor") as auditor,
    ):
        _main_flows(dispatcher, planner, auditor, unset=_module("types").UNSET)


def _main_flows(dispatcher: Any, planner: Any, auditor: Any, *, unset: Any) -> None:
    m = _module("models")

    # Assess, then escalate: a weapon reported makes the deployment stricter.
    create_assessment = _module("api.assessments.create_assessment")
    first = create_assessment.sync(client=dispatcher, body=_request(m, officer_id="PCSO 4521", flags=[m.Flag.VULNERABLE_PERSON]))
    assert isinstance(first, m.AssessmentResponse)
    assert first.decision == m.DecisionCode.DEPLOY_WITH_CONDITIONS and first.may_assign is True
    assert first.task == m.Task.ATTEND and first.officer_id == "PCSO 4521"
    assert all(isinstance(reason.effect, m.Effect) for reason in first.reasons)
    assert first.reasons[0].citation.label.startswith("WMP ")
    compact = create_assessment.sync(client=dispatcher, body=_request(m, officer_id="PCSO 4522", flags=[]), view=m.View.COMPACT)
    assert isinstance(compact, m.CompactAssessmentResponse) and compact.officer_id == "PCSO 4522"

    escalated = _module("api.assessments.create_escalation").sync(
        first.assessment_id,
        client=dispatcher,
        body=m.EscalationRequest(flags=[m.Flag.WEAPON_REPORTED], risk_level=m.RiskLevel.HIGH),
    )
    assert isinstance(escalated, m.AssessmentResponse)
    assert escalated.decision == m.DecisionCode.DO_NOT_DEPLOY and escalated.may_assign is False
    assert escalated.escalation.parent_id == first.assessment_id
    assert escalated.escalation.direction == m.EscalationDirection.STRICTER

    # The recorded escalation, with its request as decided.
    record = _module("api.assessments.get_assessment").sync(escalated.assessment_id, client=dispatcher)
    assert isinstance(record, m.AssessmentRecordOut) and record.kind == m.RecordKind.ESCALATION
    assert isinstance(record.request, m.AssessmentRequest)
    assert record.request.officer.id == "PCSO 4521" and m.Flag.WEAPON_REPORTED in record.request.call.flags
    assert record.response.decision == m.DecisionCode.DO_NOT_DEPLOY

    # Candidates: two PCSOs for one call, each decided and ranked.
    body = _request(m, officer_id="PCSO 1", flags=[])
    second = _request(m, officer_id="PCSO 2", flags=[]).officer
    second.training_status = m.TrainingStatus.FOUNDATION
    ranked = _module("api.dispatch.rank_candidates").sync(
        client=dispatcher,
        body=m.CandidatesRequest(
            force=body.force, task=body.task, call=body.call, location=body.location, officers=[body.officer, second]
        ),
    )
    assert isinstance(ranked, m.CandidatesResponse)
    assert [candidate.rank for candidate in ranked.candidates] == [1, 2]
    assert {candidate.officer_id for candidate in ranked.candidates} == {"PCSO 1", "PCSO 2"}
    assert all(isinstance(candidate.assessment, m.AssessmentResponse) for candidate in ranked.candidates)

    # List, a page at a time: five decisions recorded (two assessments, an escalation, two candidates).
    list_assessments = _module("api.assessments.list_assessments")
    seen: list[str] = []
    cursor: Any = unset
    while True:
        page = list_assessments.sync(client=planner, force="west-midlands", limit=2, cursor=cursor)
        assert isinstance(page, m.AssessmentPage) and len(page.items) <= 2
        seen += [item.assessment_id for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 5
    assert seen[-1] == first.assessment_id  # newest first
    refused = list_assessments.sync(client=planner, decision=m.DecisionCode.DO_NOT_DEPLOY)
    assert escalated.assessment_id in [item.assessment_id for item in refused.items]
    assert {item.decision for item in refused.items} == {m.DecisionCode.DO_NOT_DEPLOY}

    # The audit chain verifies, and the NDJSON export holds every entry.
    verified = _module("api.audit.verify_audit").sync(client=auditor)
    assert isinstance(verified, m.VerifyOut) and verified.status == m.ChainStatus.INTACT and verified.checked >= 5
    exported = _module("api.audit.export_audit_ndjson").sync(client=auditor, force="west-midlands")
    assert isinstance(exported, str)
    lines = [json.loads(line) for line in exported.splitlines()]
    assert {first.assessment_id, escalated.assessment_id} <= {line.get("id") for line in lines if line["type"] == "entry"}

    # An abstraction recorded by a planner, then authorised, then read back.
    recorded = _module("api.abstractions.record_abstraction").sync(
        client=planner,
        body=m.AbstractionIn(
            force="west-midlands",
            officer_id="PCSO 7",
            home_lpa="birmingham-west",
            reason=m.AbstractionReason.NON_NEIGHBOURHOOD_DUTY,
            description="Event cover",
            started_at=datetime.now(UTC),
            hours=4.0,
        ),
    )
    assert isinstance(recorded, m.AbstractionOut) and recorded.status == m.AbstractionOutStatus.PENDING
    authorised = _module("api.abstractions.authorise_abstraction").sync(
        recorded.id, client=planner, body=m.AuthorisationIn(authorised_by="PS 1234 Smith", justification="Event cover agreed")
    )
    assert isinstance(authorised, m.AbstractionOut) and authorised.status == m.AbstractionOutStatus.AUTHORISED
    assert authorised.authorised_by == "PS 1234 Smith"
    again = _module("api.abstractions.get_abstraction").sync(recorded.id, client=planner)
    assert isinstance(again, m.AbstractionOut) and again.status == m.AbstractionOutStatus.AUTHORISED

    # The monthly report, as JSON and as CSV.
    month = datetime.now(UTC).strftime("%Y-%m")
    report = _module("api.abstractions.abstraction_report").sync(client=planner, month=month)
    assert isinstance(report, m.AbstractionReport)
    assert sum(lpa.abstractions for lpa in report.lpas if lpa.lpa == "birmingham-west") >= 1
    report_csv = _module("api.abstractions.abstraction_report_csv").sync(client=planner, month=month)
    assert isinstance(report_csv, str)
    rows = list(csv.DictReader(io.StringIO(report_csv)))
    assert any(row["lpa"] == "birmingham-west" for row in rows), report_csv

    # The matrix, as JSON and as CSV.
    matrix = _module("api.policies.get_matrix").sync(
        "west-midlands", client=planner, training_status=m.TrainingStatus.COACHING, phase=m.Phase.SCENE_SECURED
    )
    assert isinstance(matrix, m.MatrixOut) and m.Task.ATTEND in matrix.tasks
    knife = next(row for row in matrix.rows if row.call_type == "violence.knife_crime")
    assert knife.classification == m.Classification.OUTSIDE_REMIT
    matrix_csv = _module("api.policies.get_matrix_csv").sync("west-midlands", client=planner)
    assert isinstance(matrix_csv, str)
    header = next(csv.reader(io.StringIO(matrix_csv)))
    assert header[:3] == ["call_type", "name", "classification"] and "attend" in header

    policies = _module("api.policies.list_policies").sync(client=dispatcher)
    assert {policy.id for policy in policies} >= {"west-midlands", "kent"}


def test_generated_client_reads_a_problem(client_package: ModuleType, base_url: str) -> None:
    m = _module("models")
    with client_package.AuthenticatedClient(base_url=base_url, token=KEYS["planner"]) as planner:
        refused = _module("api.assessments.create_assessment").sync(
            client=planner, body=_request(m, officer_id="PCSO 1", flags=[])
        )
        missing = _module("api.assessments.get_assessment").sync("no-such-id", client=planner)
    assert isinstance(refused, m.Problem) and refused.status == 403
    assert isinstance(missing, m.Problem) and missing.status == 404
