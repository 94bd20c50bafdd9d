"""Policy versions by effective date, four-eyes approval, proofs before approval, and explanations.

A planner uploads West Midlands v2.1 (a dynamic risk assessment for every risk level, so that a
low-risk nuisance call is deployed with conditions where v2.0 deploys it outright), an
administrator who did not upload it approves it, and calls received before and after its
effective time are decided by v2.0 and v2.1 respectively, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.helpers import POLICY_DIR, Clock, api_keys, headers, make_settings

SECOND_ADMIN = "second-admin-key-000001"
CALL = {
    "force": "west-midlands",
    "task": "attend",
    "call": {"type": "asb.nuisance", "reference": "WMP-20261125-0300"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 3001", "training_status": "independent", "in_uniform": True},
}


def second_admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {SECOND_ADMIN}"}


def files(change: str = "v2.1") -> dict[str, Any]:
    rules = json.loads((POLICY_DIR / "west-midlands" / "rules.json").read_text(encoding="utf-8"))
    policy = json.loads((POLICY_DIR / "west-midlands" / "policy.json").read_text(encoding="utf-8"))
    policy["version"] = "2.1"
    for rule in rules["rules"]:
        if change == "v2.1" and rule["id"] == "risk.dynamic_assessment":
            rule["when"]["risk_levels"] = ["low", "medium", "high"]
        if change == "not-monotone" and rule["id"] == "risk.high.first_response":
            rule["when"]["risk_levels"] = ["medium"]
    return {"west-midlands/rules.json": rules, "west-midlands/policy.json": policy}


@pytest.fixture
def governed(database_url: str) -> Iterator[tuple[TestClient, Clock]]:
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    settings = make_settings(database_url, api_keys=api_keys() + f",{SECOND_ADMIN}:admin")
    app = create_app(settings)
    app.state.clock = clock
    with TestClient(app) as client:
        yield client, clock


def upload(client: TestClient, who: dict[str, str], body_files: dict[str, Any], effective_from: datetime, **extra: Any) -> Any:
    body = {
        "files": body_files,
        "effective_from": effective_from.isoformat(),
        "note": "Dynamic risk assessment for every call",
        **extra,
    }
    return client.post("/v1/policies/west-midlands/versions", json=body, headers=who)


def decide_at(client: TestClient, received_at: datetime | None) -> dict[str, Any]:
    body = json.loads(json.dumps(CALL))
    if received_at is not None:
        body["call"]["received_at"] = received_at.isoformat()
    response = client.post("/v1/assessments", json=body, headers=headers("dispatcher"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_scheduled_version_decides_calls_received_from_its_effective_time(governed: tuple[TestClient, Clock]) -> None:
    client, clock = governed
    start = clock.now
    current = client.get("/v1/policies/west-midlands", headers=headers("planner")).json()
    before = decide_at(client, None)
    assert before["decision"] == "deploy" and before["policy"]["digest"] == current["digest"]

    uploaded = upload(client, headers("planner"), files(), start + timedelta(hours=2))
    assert uploaded.status_code == 201, uploaded.text
    candidate = uploaded.json()
    assert candidate["state"] == "candidate" and candidate["version"] == "2.1"
    assert candidate["changed_rules"] == ["risk.dynamic_assessment", "west-midlands/policy.json"]
    assert candidate["proof"]["holds"] and [p["name"] for p in candidate["proof"]["properties"]][:2] == [
        "monotonicity",
        "first_response_refused",
    ]
    assert candidate["impact"]["replayed"] == 1 and candidate["impact"]["changed"] == 1  # the call decided above
    assert uploaded.headers["location"] == f"/v1/policies/west-midlands/versions/{candidate['digest']}"
    digest = candidate["digest"]

    # Until it is approved, nothing changes.
    assert decide_at(client, None)["policy"]["digest"] == current["digest"]
    # A planner may not approve; an administrator may, unless they uploaded it.
    assert client.post(f"/v1/policies/west-midlands/versions/{digest}/approval", headers=headers("planner")).status_code == 403
    approved = client.post(
        f"/v1/policies/west-midlands/versions/{digest}/approval", json={"note": "Checked"}, headers=headers("admin")
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved" and approved.json()["approved_by"] != candidate["uploaded_by"]

    # Three hours on: calls received before 2 h are decided by 2.0, from 2 h by 2.1.
    clock.now = start + timedelta(hours=3)
    early = decide_at(client, start + timedelta(hours=1, minutes=59))
    late = decide_at(client, start + timedelta(hours=2))
    now = decide_at(client, None)
    assert (early["policy"]["version"], early["policy"]["digest"], early["decision"]) == ("2.0", current["digest"], "deploy")
    assert (late["policy"]["version"], late["policy"]["digest"], late["decision"]) == ("2.1", digest, "deploy_with_conditions")
    assert now["policy"]["digest"] == digest

    listed = {v["digest"]: v for v in client.get("/v1/policies/west-midlands/versions", headers=headers("auditor")).json()}
    assert listed[digest]["state"] == "active" and listed[current["digest"]]["state"] == "retired"
    assert listed[current["digest"]]["source"] == "directory"

    # The old decision is explained with its own version, after the newer one has taken effect.
    explained = client.get(f"/v1/assessments/{early['assessment_id']}/explanation", headers=headers("auditor")).json()
    assert explained["matches"] and explained["differences"] == []
    assert (explained["policy_digest"], explained["version_state"], explained["redecided_decision"]) == (
        current["digest"],
        "retired",
        "deploy",
    )
    explained_late = client.get(f"/v1/assessments/{late['assessment_id']}/explanation", headers=headers("auditor")).json()
    assert explained_late["matches"] and explained_late["policy_digest"] == digest

    export = client.get("/v1/audit/export", params={"force": "west-midlands"}, headers=headers("auditor")).text
    kinds = [json.loads(line).get("kind") for line in export.splitlines()]
    assert "policy_upload" in kinds and "policy_approve" in kinds
    assert client.get("/v1/audit/verify", headers=headers("auditor")).json()["status"] == "intact"


def test_the_uploader_cannot_approve_their_own_candidate(governed: tuple[TestClient, Clock]) -> None:
    client, clock = governed
    digest = upload(client, headers("admin"), files(), clock.now + timedelta(hours=2)).json()["digest"]
    refused = client.post(f"/v1/policies/west-midlands/versions/{digest}/approval", headers=headers("admin"))
    assert refused.status_code == 403 and refused.json()["type"].endswith("/self-approval")
    assert client.post(f"/v1/policies/west-midlands/versions/{digest}/approval", headers=second_admin()).status_code == 200
    again = client.post(f"/v1/policies/west-midlands/versions/{digest}/approval", headers=headers("admin"))
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "not_a_candidate"


def test_a_candidate_that_breaks_monotonicity_cannot_be_approved(governed: tuple[TestClient, Clock]) -> None:
    client, clock = governed
    uploaded = upload(client, headers("planner"), files("not-monotone"), clock.now + timedelta(hours=2))
    assert uploaded.status_code == 201
    proof = uploaded.json()["proof"]
    assert not proof["holds"]
    monotonicity = proof["properties"][0]
    assert not monotonicity["holds"] and monotonicity["counterexamples"]
    example = next(e for e in monotonicity["counterexamples"] if e["rule_ids"] == ["risk.high.first_response"])
    assert (example["request"]["location"]["risk_level"], example["riskier_request"]["location"]["risk_level"]) == (
        "medium",
        "high",
    )
    refused = client.post(f"/v1/policies/west-midlands/versions/{uploaded.json()['digest']}/approval", headers=headers("admin"))
    assert refused.status_code == 409 and refused.json()["type"].endswith("/approval-refused")
    error = refused.json()["errors"][0]
    assert error["code"] == "proof_failed" and error["field"] == "proof.monotonicity"
    assert "risk.high.first_response" in error["message"] and "counterexample request" in error["message"]
    # The counterexample, sent as it is, shows the loosening the proof found... under the candidate's rules, which decide nothing yet.
    assert decide_at(client, None)["policy"]["version"] == "2.0"


@pytest.mark.parametrize(
    ("body_files", "when", "code"),
    [
        ({"west-midlands/rules.json": {"rules": "not a list"}}, timedelta(hours=2), "invalid_policy"),
        ({"kent/rules.json": {"rules": []}}, timedelta(hours=2), "not_this_force"),
        (None, -timedelta(minutes=1), "effective_not_future"),
    ],
)
def test_an_invalid_upload_is_a_422(governed: tuple[TestClient, Clock], body_files: Any, when: timedelta, code: str) -> None:
    client, clock = governed
    response = upload(client, headers("planner"), body_files or files(), clock.now + when)
    assert response.status_code == 422, response.text
    assert code in {error["code"] for error in response.json()["errors"]}
    assert client.get("/v1/policies/west-midlands/versions", headers=headers("planner")).json()[0]["source"] == "directory"


def test_an_approval_too_close_to_the_effective_time_is_refused(governed: tuple[TestClient, Clock]) -> None:
    client, clock = governed
    digest = upload(client, headers("planner"), files(), clock.now + timedelta(seconds=30)).json()["digest"]
    refused = client.post(f"/v1/policies/west-midlands/versions/{digest}/approval", headers=headers("admin"))
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "effective_too_soon"


def test_received_at_far_from_now_is_a_422(governed: tuple[TestClient, Clock]) -> None:
    client, clock = governed
    for offset in (timedelta(days=8), -timedelta(minutes=6)):
        body = json.loads(json.dumps(CALL))
        body["call"]["received_at"] = (clock.now - offset).isoformat()
        response = client.post("/v1/assessments", json=body, headers=headers("dispatcher"))
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "call.received_at"


def test_a_version_takes_effect_on_every_worker_and_is_recorded_once(database_url: str) -> None:
    """Two workers on one store: both decide with the approved version from its time; one activation entry."""
    settings = make_settings(
        database_url, api_keys=api_keys() + f",{SECOND_ADMIN}:admin", policy_sync_seconds=0.2, policy_approval_lead_seconds=0
    )
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        # Far enough ahead for the upload (validation, proofs, impact replay: over 3 s on a busy 2-core machine)
        # to finish before the version is due, so that the approval is not too late.
        effective = datetime.now(UTC) + timedelta(seconds=12)
        digest = upload(first, headers("planner"), files(), effective).json()["digest"]
        assert first.post(f"/v1/policies/west-midlands/versions/{digest}/approval", headers=headers("admin")).status_code == 200
        time.sleep(max(0.0, (effective - datetime.now(UTC)).total_seconds()) + 1.0)
        for worker in (first, second):
            assert decide_at(worker, None)["policy"]["digest"] == digest
        export = first.get("/v1/audit/export", params={"force": "west-midlands"}, headers=headers("auditor")).text
        kinds = [json.loads(line).get("kind") for line in export.splitlines()]
        assert kinds.count("policy_activate") == 1 and kinds.count("policy_retire") == 1
        listed = {v["digest"]: v for v in second.get("/v1/policies/west-midlands/versions", headers=headers("auditor")).json()}
        assert listed[digest]["state"] == "active" and listed[digest]["activated_at"] is not None


def test_two_versions_cannot_take_effect_at_the_same_moment(governed: tuple[TestClient, Clock]) -> None:
    client, clock = governed
    when = clock.now + timedelta(hours=2)
    first = upload(client, headers("planner"), files(), when).json()["digest"]
    second_files = files()
    second_files["west-midlands/policy.json"]["version"] = "2.1b"
    second = upload(client, headers("planner"), second_files, when).json()["digest"]
    assert client.post(f"/v1/policies/west-midlands/versions/{first}/approval", headers=headers("admin")).status_code == 200
    refused = client.post(f"/v1/policies/west-midlands/versions/{second}/approval", headers=headers("admin"))
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "effective_time_taken"


def test_a_version_marked_approved_outside_the_service_never_decides(
    governed: tuple[TestClient, Clock], database_url: str
) -> None:
    """Only an approval recorded in the audit chain puts a version live: a row changed by hand does not."""
    from sqlalchemy import create_engine, text

    client, clock = governed
    digest = upload(client, headers("planner"), files(), clock.now + timedelta(minutes=10)).json()["digest"]
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE policy_version SET status = 'approved' WHERE digest = :d"), {"d": digest})
    finally:
        engine.dispose()
    client.portal.call(client.app.state.sync_versions)  # type: ignore[union-attr,attr-defined]
    clock.now = clock.now + timedelta(hours=1)
    assert decide_at(client, None)["policy"]["version"] == "2.0"


def test_an_escalation_is_explained_with_its_parent_and_version(governed: tuple[TestClient, Clock]) -> None:
    client, _ = governed
    first = decide_at(client, None)
    escalated = client.post(
        f"/v1/assessments/{first['assessment_id']}/escalations",
        json={"flags": ["weapon_reported"]},
        headers=headers("dispatcher"),
    )
    assert escalated.status_code == 200, escalated.text
    explained = client.get(f"/v1/assessments/{escalated.json()['assessment_id']}/explanation", headers=headers("auditor")).json()
    assert explained["kind"] == "escalation" and explained["matches"], explained["differences"]


def test_a_layer_or_an_unloadable_citation_is_a_422(governed: tuple[TestClient, Clock]) -> None:
    client, clock = governed
    layer = files()
    layer["west-midlands/policy.json"]["kind"] = "layer"
    assert upload(client, headers("planner"), layer, clock.now + timedelta(hours=2)).status_code == 422
    described = files()
    rule = next(r for r in described["west-midlands/rules.json"]["rules"] if r["id"] == "risk.dynamic_assessment")
    described["west-midlands/rules.json"]["rules"].append(
        {
            "id": "x.described",
            "code": rule["code"],
            "effect": "condition",
            "when": {"phases": ["in_progress"]},
            "citation_from": "described_call_type",
            "message": "x",
        }
    )
    response = upload(client, headers("planner"), described, clock.now + timedelta(hours=2))
    assert response.status_code == 422 and "described_classes" in response.text


def test_a_candidate_or_a_version_waiting_for_its_time_can_be_withdrawn(governed: tuple[TestClient, Clock]) -> None:
    client, clock = governed
    start = clock.now
    candidate = upload(client, headers("planner"), files(), start + timedelta(hours=2)).json()["digest"]
    withdrawn = client.post(
        f"/v1/policies/west-midlands/versions/{candidate}/withdrawal", json={"note": "wrong file"}, headers=headers("admin")
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    refused = client.post(f"/v1/policies/west-midlands/versions/{candidate}/approval", headers=second_admin())
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "not_a_candidate"

    second_files = files()
    second_files["west-midlands/policy.json"]["version"] = "2.1b"
    approved = upload(client, headers("planner"), second_files, start + timedelta(hours=2)).json()["digest"]
    assert client.post(f"/v1/policies/west-midlands/versions/{approved}/approval", headers=headers("admin")).status_code == 200
    assert client.post(f"/v1/policies/west-midlands/versions/{approved}/withdrawal", headers=second_admin()).status_code == 200
    clock.now = start + timedelta(hours=3)
    assert decide_at(client, None)["policy"]["version"] == "2.0"  # the withdrawn version never decides

    in_force = client.get("/v1/policies/west-midlands", headers=headers("admin")).json()["digest"]
    refused = client.post(f"/v1/policies/west-midlands/versions/{in_force}/withdrawal", headers=headers("admin"))
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "not_withdrawable"
    export = client.get("/v1/audit/export", headers=headers("auditor")).text
    assert [json.loads(line).get("kind") for line in export.splitlines()].count("policy_withdraw") == 2
