"""POST and GET /v1/assessments on SQLite and PostgreSQL: recorded before answered, read back whole."""

from __future__ import annotations

import copy
import json

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service.main import create_app
from service.store.database import make_engine
from service.store.records import AuditStore
from tests.helpers import headers, make_settings

ASB = {
    "force": "west-midlands",
    "task": "attend",
    "call": {
        "type": "asb.nuisance",
        "reference": "WMP-20261122-0412",
        "phase": "in_progress",
        "grade": "priority",
        "flags": ["vulnerable_person"],
        "description": "Group of youths drinking and shouting outside the shops",
    },
    "location": {"risk_level": "low", "markers": [], "setting": "urban", "lpa": "birmingham-west", "neighbourhood": "ladywood"},
    "officer": {
        "id": "PCSO 4521",
        "designated_powers": ["require_name_address", "alcohol.confiscate_young_person", "dispersal_direction"],
        "training_status": "independent",
        "in_uniform": True,
        "authorised_driver": False,
        "cycle_trained": True,
        "home_lpa": "birmingham-west",
        "home_neighbourhood": "ladywood",
    },
}


def count_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM audit_record")).scalar_one()
    finally:
        engine.dispose()


def test_asb_call_is_deployable_recorded_and_readable(client: TestClient, database_url: str) -> None:
    response = client.post("/v1/assessments", json=ASB, headers=headers("dispatcher"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decision"] == "deploy_with_conditions" and body["may_assign"] is True
    assert body["reasons"][0]["citation"]["clause"] == "2.7.3"
    assert [c["code"] for c in body["conditions"]] == ["safeguarding_escalation"]
    assert {p["code"] for p in body["limits"]["powers_available"]} == set(ASB["officer"]["designated_powers"])
    assert body["policy"]["id"] == "west-midlands" and body["policy"]["version"] == "2.0"
    assert body["policy"]["past_review_date"] is False
    assert count_rows(database_url) == 1

    record = client.get(f"/v1/assessments/{body['assessment_id']}", headers=headers("auditor"))
    assert record.status_code == 200
    stored = record.json()
    assert stored["response"] == body
    assert stored["request"]["call"]["description"] == ASB["call"]["description"]
    assert stored["caller_role"] == "dispatcher"
    assert stored["sequence"] == 1


def test_knife_crime_is_refused_citing_2_8_3(client: TestClient) -> None:
    request = copy.deepcopy(ASB)
    request["call"].update(type="violence.knife_crime", flags=[], description=None)
    body = client.post("/v1/assessments", json=request, headers=headers("dispatcher")).json()
    assert body["decision"] == "do_not_deploy" and body["may_assign"] is False
    assert body["reasons"][0]["citation"]["label"] == "WMP 2.8.3"
    assert body["reasons"][0]["citation"]["quote"] == "Knife crime incidents"
    assert "scene_guard" in [a["task"] for a in body["alternatives"]]


def test_dispatchers_read_only_their_own_records(client: TestClient) -> None:
    assessment_id = client.post("/v1/assessments", json=ASB, headers=headers("dispatcher")).json()["assessment_id"]
    assert client.get(f"/v1/assessments/{assessment_id}", headers=headers("dispatcher")).status_code == 200
    other = client.get(f"/v1/assessments/{assessment_id}", headers=headers("dispatcher2"))
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    for role in ("planner", "auditor", "admin"):
        assert client.get(f"/v1/assessments/{assessment_id}", headers=headers(role)).status_code == 200


def test_unknown_assessment_is_404(client: TestClient) -> None:
    response = client.get("/v1/assessments/00000000-0000-0000-0000-000000000000", headers=headers("auditor"))
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_unknown_force_is_404_and_nothing_is_recorded(client: TestClient, database_url: str) -> None:
    request = copy.deepcopy(ASB)
    request["force"] = "atlantis"
    response = client.post("/v1/assessments", json=request, headers=headers("dispatcher"))
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "force"
    assert count_rows(database_url) == 0


def test_schedule_3b_power_is_a_422_that_says_why_and_nothing_is_recorded(client: TestClient, database_url: str) -> None:
    request = copy.deepcopy(ASB)
    request["officer"]["designated_powers"] = ["require_name_address", "stop_search", "tasers"]
    response = client.post("/v1/assessments", json=request, headers=headers("dispatcher"))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["officer.designated_powers[1]", "officer.designated_powers[2]"]
    assert "Schedule 3B" in errors[0]["message"] and errors[0]["code"] == "power_not_designatable"
    assert errors[1]["code"] == "unknown_power"
    assert count_rows(database_url) == 0


def test_a_decision_that_cannot_be_recorded_is_not_returned(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    unreachable = make_engine("postgresql+psycopg://nobody:nothing@127.0.0.1:9/none")
    broken_store = AuditStore(unreachable)
    with TestClient(app) as test_client:
        working, app.state.store = app.state.store, broken_store
        response = test_client.post("/v1/assessments", json=ASB, headers=headers("dispatcher"))
        app.state.store = working
    assert response.status_code == 503
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert "decision" not in problem and "not recorded" in problem["detail"]
    assert count_rows(sqlite_url) == 0


def test_record_stores_policy_provenance_and_role_not_key(client: TestClient, database_url: str) -> None:
    body = client.post("/v1/assessments", json=ASB, headers=headers("dispatcher")).json()
    engine = create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM audit_record")).mappings().one()
    engine.dispose()
    assert row["policy_digest"] == body["policy"]["digest"]
    assert row["caller_role"] == "dispatcher"
    assert row["digest"].startswith("sha256:")
    raw = json.dumps({k: str(v) for k, v in row.items()})
    assert headers("dispatcher")["Authorization"].split()[1] not in raw
