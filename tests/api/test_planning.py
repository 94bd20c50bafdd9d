"""Candidates, the deployability matrix, abstraction monitoring, policy impact and policy currency."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from tests.helpers import KEYS, POLICY_DIR, ROOT, headers

OFFICER = {
    "id": "PCSO 1",
    "training_status": "independent",
    "in_uniform": True,
    "cycle_trained": True,
    "home_lpa": "birmingham-west",
    "home_neighbourhood": "ladywood",
}
CALL = {
    "force": "west-midlands",
    "task": "attend",
    "call": {"type": "asb.street_drinking", "reference": "WMP-9"},
    "location": {"risk_level": "low", "lpa": "birmingham-west", "neighbourhood": "ladywood"},
}


def officer(officer_id: str, **changes: object) -> dict:
    return {**OFFICER, "id": officer_id, **changes}


# --- candidates ---------------------------------------------------------------------------------


def test_candidates_are_ranked_with_reasons_and_each_recorded(client: TestClient) -> None:
    body = {
        **CALL,
        "officers": [
            officer("PCSO far", home_lpa="birmingham-east", home_neighbourhood="stechford"),
            officer("PCSO trainee", training_status="foundation"),
            officer("PCSO best", designated_powers=["alcohol.pspo_surrender", "dispersal_direction"]),
            officer("PCSO coached", training_status="coaching"),
            officer("PCSO plain", designated_powers=[]),
        ],
    }
    response = client.post("/v1/candidates", json=body, headers=headers("dispatcher"))
    assert response.status_code == 200, response.text
    answer = response.json()
    order = [c["officer_id"] for c in answer["candidates"]]
    assert order == ["PCSO best", "PCSO plain", "PCSO coached", "PCSO far", "PCSO trainee"]
    assert [c["rank"] for c in answer["candidates"]] == [1, 2, 3, 4, 5]
    assert answer["deployable"] == 4
    best, far, trainee = answer["candidates"][0], answer["candidates"][3], answer["candidates"][4]
    assert best["decision"] == "deploy" and best["abstraction"] is False
    assert "holds 2 of 5 powers relevant to the call" in best["place_reasons"]
    assert far["abstraction"] is True and "abstraction_out_of_area" in far["conditions"]
    assert trainee["decision"] == "do_not_deploy" and trainee["deciding_reason"]["code"] == "officer_in_foundation_training"
    for candidate in answer["candidates"]:
        record = client.get(f"/v1/assessments/{candidate['assessment_id']}", headers=headers("auditor")).json()
        assert record["response"]["candidates_id"] == answer["candidates_id"]
        assert record["request"]["officer"]["id"] == candidate["officer_id"]
    assert client.get("/v1/audit/verify", headers=headers("auditor")).json()["checked"] == 5


def test_candidates_in_a_rural_area_prefer_drivers(sqlite_client: TestClient) -> None:
    body = {
        **CALL,
        "location": {**CALL["location"], "setting": "rural"},
        "officers": [officer("walker"), officer("driver", authorised_driver=True)],
    }
    answer = sqlite_client.post("/v1/candidates", json=body, headers=headers("dispatcher")).json()
    assert [c["officer_id"] for c in answer["candidates"]] == ["driver", "walker"]
    assert "not an authorised driver for a rural location" in answer["candidates"][1]["place_reasons"]


def test_candidates_validation(sqlite_client: TestClient) -> None:
    duplicate = {**CALL, "officers": [officer("A"), officer("A")]}
    response = sqlite_client.post("/v1/candidates", json=duplicate, headers=headers("dispatcher"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "officers[1].id"
    banned = {**CALL, "officers": [officer("A"), officer("B", designated_powers=["arrest"])]}
    response = sqlite_client.post("/v1/candidates", json=banned, headers=headers("dispatcher"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "officers[1].designated_powers[0]"
    assert sqlite_client.post("/v1/candidates", json={**CALL, "officers": []}, headers=headers("dispatcher")).status_code == 422
    too_many = {**CALL, "officers": [officer(f"P{n}") for n in range(501)]}
    assert sqlite_client.post("/v1/candidates", json=too_many, headers=headers("dispatcher")).status_code == 422


# --- matrix ---------------------------------------------------------------------------------------


def test_matrix_for_a_profile(sqlite_client: TestClient) -> None:
    response = sqlite_client.get(
        "/v1/policies/west-midlands/matrix", params={"powers": ["traffic.direct"]}, headers=headers("planner")
    )
    assert response.status_code == 200
    matrix = response.json()
    rows = {row["call_type"]: row["cells"] for row in matrix["rows"]}
    assert len(rows) == 48 and len(matrix["tasks"]) == 10
    assert rows["violence.knife_crime"]["attend"] == {
        "decision": "do_not_deploy",
        "code": "call_type_outside_remit",
        "clause": "WMP 2.8.3",
    }
    assert rows["asb.nuisance"]["attend"]["decision"] == "deploy"
    assert rows["traffic.damage_only_collision"]["traffic_control"]["decision"] == "deploy"
    assert rows["asb.nuisance"]["custody_conveyance"]["clause"] == "College of Policing APP Custody"
    no_power = sqlite_client.get("/v1/policies/west-midlands/matrix", headers=headers("planner")).json()
    cell = {r["call_type"]: r["cells"] for r in no_power["rows"]}["traffic.damage_only_collision"]["traffic_control"]
    assert cell["decision"] == "do_not_deploy" and cell["clause"] == "WMP 2.7.6"
    coaching = sqlite_client.get(
        "/v1/policies/west-midlands/matrix", params={"training_status": "coaching"}, headers=headers("planner")
    ).json()
    assert {r["call_type"]: r["cells"] for r in coaching["rows"]}["asb.nuisance"]["attend"][
        "decision"
    ] == "deploy_with_conditions"


def test_matrix_as_csv(sqlite_client: TestClient) -> None:
    response = sqlite_client.get(
        "/v1/policies/kent/matrix", params={"in_uniform": "false"}, headers={**headers("planner"), "Accept": "text/csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 48
    by_type = {row["call_type"]: row for row in rows}
    assert by_type["asb.begging"]["attend"] == "refer_to_supervisor"
    assert by_type["asb.begging"]["attend_clause"] == "Kent O38b 4.2.5"


def test_matrix_page_prompts_the_browser_and_accepts_the_key_as_password(sqlite_client: TestClient) -> None:
    anonymous = sqlite_client.get("/v1/policies/west-midlands/matrix.html")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Basic")
    basic = "Basic " + base64.b64encode(f"planner:{KEYS['planner']}".encode()).decode()
    page = sqlite_client.get("/v1/policies/west-midlands/matrix.html", headers={"Authorization": basic})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<table>" in page.text and "Knife crime incident" in page.text and "WMP 2.8.3" in page.text
    assert "@media print" in page.text
    wrong = "Basic " + base64.b64encode(b"planner:nope").decode()
    assert sqlite_client.get("/v1/policies/west-midlands/matrix.html", headers={"Authorization": wrong}).status_code == 401
    dispatcher = "Basic " + base64.b64encode(f"x:{KEYS['dispatcher']}".encode()).decode()
    assert sqlite_client.get("/v1/policies/west-midlands/matrix.html", headers={"Authorization": dispatcher}).status_code == 403


def test_matrix_rejects_a_schedule_3b_power(sqlite_client: TestClient) -> None:
    response = sqlite_client.get(
        "/v1/policies/west-midlands/matrix", params={"powers": ["stop_search"]}, headers=headers("planner")
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "powers[0]"


# --- abstractions ---------------------------------------------------------------------------------


def test_out_of_area_deployment_creates_a_pending_abstraction_that_can_be_authorised(client: TestClient) -> None:
    body = {**CALL, "officer": officer("PCSO 8", home_lpa="birmingham-east", home_neighbourhood="stechford")}
    decision = client.post("/v1/assessments", json=body, headers=headers("dispatcher")).json()
    abstraction_id = decision["abstraction_id"]
    assert abstraction_id and decision["may_assign"]
    month = datetime.now(UTC).strftime("%Y-%m")
    report = client.get("/v1/reports/abstractions", params={"month": month}, headers=headers("planner")).json()
    east = next(row for row in report["lpas"] if row["lpa"] == "birmingham-east")
    assert east["abstractions"] == 1 and east["unauthorised"] == 1 and east["hours_unknown"] == 1
    authorised = client.post(
        f"/v1/abstractions/{abstraction_id}/authorisation",
        json={"authorised_by": "PS 2211 Khan", "justification": "No cover in Ladywood tonight", "hours": 3.5},
        headers=headers("planner"),
    )
    assert authorised.status_code == 200, authorised.text
    assert authorised.json()["status"] == "authorised" and authorised.json()["assessment_id"] == decision["assessment_id"]
    again = client.post(
        f"/v1/abstractions/{abstraction_id}/authorisation",
        json={"authorised_by": "x", "justification": "y"},
        headers=headers("planner"),
    )
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "already_authorised"
    assert "PS 2211 Khan" in again.json()["detail"]
    east = next(
        row
        for row in client.get("/v1/reports/abstractions", params={"month": month}, headers=headers("planner")).json()["lpas"]
        if row["lpa"] == "birmingham-east"
    )
    assert east["unauthorised"] == 0 and east["hours"] == 3.5
    lines = [json.loads(line) for line in client.get("/v1/audit/export", headers=headers("auditor")).text.splitlines()]
    assert [e["kind"] for e in lines if e["type"] == "entry"] == ["assessment", "authorisation"]
    assert client.get("/v1/audit/verify", headers=headers("auditor")).json()["status"] == "intact"


def test_a_recorded_abstraction_is_at_its_location(client: TestClient) -> None:
    body = {
        "force": "west-midlands",
        "officer_id": "PCSO 31",
        "home_lpa": "birmingham-west",
        "reason": "other",
        "description": "Stewarding the Christmas market",
        "started_at": "2026-11-20T09:00:00Z",
    }
    created = client.post("/v1/abstractions", json=body, headers=headers("planner"))
    assert created.status_code == 201
    location = created.headers["location"]
    assert location == f"/v1/abstractions/{created.json()['id']}"
    for role in ("planner", "auditor", "admin"):
        read = client.get(location, headers=headers(role))
        assert read.status_code == 200 and read.json() == created.json()
    assert client.get(location, headers=headers("dispatcher")).status_code == 403
    client.post(
        f"{location}/authorisation",
        json={"authorised_by": "PS 2211 Khan", "justification": "Event cover"},
        headers=headers("planner"),
    )
    authorised = client.get(location, headers=headers("auditor")).json()
    assert authorised["status"] == "authorised" and authorised["authorised_by"] == "PS 2211 Khan"
    missing = client.get("/v1/abstractions/no-such-id", headers=headers("auditor"))
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_home_deployment_creates_no_abstraction(sqlite_client: TestClient) -> None:
    decision = sqlite_client.post("/v1/assessments", json={**CALL, "officer": OFFICER}, headers=headers("dispatcher")).json()
    assert decision["abstraction_id"] is None


def test_monthly_report_flags_repeated_and_prolonged_abstraction(client: TestClient) -> None:
    def record(officer_id: str, day: int, hours: float, lpa: str = "birmingham-west") -> str:
        body = {
            "force": "west-midlands",
            "officer_id": officer_id,
            "home_lpa": lpa,
            "reason": "out_of_area",
            "lpa": "birmingham-central",
            "started_at": f"2026-10-{day:02d}T09:00:00Z",
            "hours": hours,
        }
        response = client.post("/v1/abstractions", json=body, headers=headers("planner"))
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending" and response.json()["source"] == "manual"
        return response.json()["id"]

    for day in (1, 8, 15):
        record("PCSO repeated", day, 2)
    record("PCSO long", 3, 18)
    record("PCSO once", 4, 4)
    record("PCSO elsewhere", 5, 4, lpa="coventry")
    record("PCSO extra", 5, 4)
    client.post(
        "/v1/abstractions",
        json={
            "force": "west-midlands",
            "officer_id": "PCSO nov",
            "home_lpa": "birmingham-west",
            "reason": "other",
            "started_at": "2026-11-01T00:00:00Z",
        },
        headers=headers("planner"),
    )
    report = client.get("/v1/reports/abstractions", params={"month": "2026-10"}, headers=headers("auditor")).json()
    west = next(row for row in report["lpas"] if row["lpa"] == "birmingham-west")
    assert west["abstractions"] == 6 and west["hours"] == 32 and west["unauthorised"] == 6  # November's is not counted
    assert {o["officer_id"] for o in west["officers_for_review"]} == {"PCSO repeated", "PCSO long"}
    only = client.get(
        "/v1/reports/abstractions", params={"month": "2026-10", "lpa": "coventry"}, headers=headers("planner")
    ).json()
    assert [row["lpa"] for row in only["lpas"]] == ["coventry"]
    as_csv = client.get(
        "/v1/reports/abstractions", params={"month": "2026-10"}, headers={**headers("planner"), "Accept": "text/csv"}
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {row["lpa"]: row["abstractions"] for row in rows} == {"birmingham-west": "6", "coventry": "1"}
    assert "PCSO repeated (3, 6 h)" in next(row for row in rows if row["lpa"] == "birmingham-west")["officers_for_review"]


def test_abstraction_validation(sqlite_client: TestClient) -> None:
    assert (
        sqlite_client.get("/v1/reports/abstractions", params={"month": "2026-13"}, headers=headers("planner")).status_code == 422
    )
    assert sqlite_client.get("/v1/reports/abstractions", params={"month": "Oct"}, headers=headers("planner")).status_code == 422
    bad = {"force": "atlantis", "officer_id": "P", "home_lpa": "x", "reason": "other", "started_at": "2026-10-01T00:00:00Z"}
    assert sqlite_client.post("/v1/abstractions", json=bad, headers=headers("planner")).status_code == 404
    assert (
        sqlite_client.post(
            "/v1/abstractions/none/authorisation", json={"authorised_by": "a", "justification": "b"}, headers=headers("planner")
        ).status_code
        == 404
    )


# --- policy impact --------------------------------------------------------------------------------


def _rules_with(change: dict) -> dict:
    rules = json.loads((POLICY_DIR / "west-midlands" / "rules.json").read_text())
    matching = [rule for rule in rules["rules"] if rule["id"] == change["id"]]
    assert len(matching) == 1, f"no rule {change['id']!r} in west-midlands/rules.json to change"
    matching[0].update(change)
    return rules


def test_impact_replays_the_window_through_a_candidate(client: TestClient) -> None:
    medium = {**CALL, "officer": OFFICER, "location": {**CALL["location"], "risk_level": "medium"}}
    low = {**CALL, "officer": OFFICER}
    ids = [
        client.post("/v1/assessments", json=body, headers=headers("dispatcher")).json()["assessment_id"]
        for body in (medium, medium, low)
    ]
    candidate = _rules_with({"id": "risk.dynamic_assessment", "effect": "refer"})
    response = client.post(
        "/v1/policies/west-midlands/impact", json={"files": {"west-midlands/rules.json": candidate}}, headers=headers("planner")
    )
    assert response.status_code == 200, response.text
    impact = response.json()
    assert impact["replayed"] == 3 and impact["changed"] == 2 and impact["not_replayable"] == 0
    assert impact["transitions"] == [
        {"from_decision": "deploy_with_conditions", "to_decision": "refer_to_supervisor", "count": 2, "examples": ids[:2]}
    ]
    assert impact["by_call_type"][0] == {
        "call_type": "asb.street_drinking",
        "replayed": 3,
        "changed": 2,
        "transitions": {"deploy_with_conditions->refer_to_supervisor": 2},
    }
    assert impact["candidate_digest"] != impact["current_digest"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    empty = client.post(
        "/v1/policies/west-midlands/impact",
        json={"files": {"west-midlands/rules.json": candidate}, "from": later},
        headers=headers("planner"),
    ).json()
    assert empty["replayed"] == 0
    assert client.get("/v1/audit/verify", headers=headers("auditor")).json()["checked"] == 3


def test_impact_refuses_an_invalid_candidate(sqlite_client: TestClient) -> None:
    candidate = _rules_with(
        {
            "id": "flag.safeguarding",
            "citation": {"document": "wmp-policy", "clause": "2.7.7", "quote": "Words that are not there."},
        }
    )
    response = sqlite_client.post(
        "/v1/policies/west-midlands/impact", json={"files": {"west-midlands/rules.json": candidate}}, headers=headers("planner")
    )
    assert response.status_code == 422
    assert "west-midlands/rules.json" in response.json()["errors"][0]["message"]
    escape = sqlite_client.post(
        "/v1/policies/west-midlands/impact", json={"files": {"../etc/passwd.json": {}}}, headers=headers("planner")
    )
    assert escape.status_code == 422 and escape.json()["errors"][0]["code"] == "invalid_path"


def test_policy_cli_validate_and_impact(tmp_path: Path, sqlite_url: str, sqlite_client: TestClient) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "service.cli.policy", "validate", str(POLICY_DIR)], cwd=ROOT, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "west-midlands: version 2.0" in ok.stdout
    broken = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, broken)
    (broken / "kent" / "rules.json").write_text("{}")
    bad = subprocess.run(
        [sys.executable, "-m", "service.cli.policy", "validate", str(broken)], cwd=ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "kent/rules.json" in bad.stderr
    (broken / "kent" / "rules.json").write_text((POLICY_DIR / "kent" / "rules.json").read_text())
    (broken / "west-midlands" / "rules.json").write_text(
        json.dumps(_rules_with({"id": "risk.dynamic_assessment", "effect": "refer"}))
    )
    medium = {**CALL, "officer": OFFICER, "location": {**CALL["location"], "risk_level": "medium"}}
    sqlite_client.post("/v1/assessments", json=medium, headers=headers("dispatcher"))
    impact = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli.policy",
            "impact",
            "--candidate",
            str(broken),
            "--force",
            "west-midlands",
            "--database-url",
            sqlite_url,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert impact.returncode == 0, impact.stderr
    report = json.loads(impact.stdout)
    assert report["replayed"] == 1 and report["changed"] == 1


# --- policy currency --------------------------------------------------------------------------------


def test_readyz_stays_ready_and_reports_a_policy_past_review(sqlite_client: TestClient) -> None:
    ready = sqlite_client.get("/readyz")
    assert ready.status_code == 200
    assert any(w.startswith("kent:") and "2024-02-01" in w for w in ready.json()["warnings"])
    policies = {p["id"]: p for p in sqlite_client.get("/v1/policies", headers=headers("planner")).json()}
    assert policies["kent"]["past_review_date"] is True and policies["west-midlands"]["past_review_date"] is False
