"""Escalations: a fresh decision for the same deployment, linked, recorded, never looser without a reason."""

from __future__ import annotations

import copy

from fastapi.testclient import TestClient

from tests.helpers import headers

ASB = {
    "force": "west-midlands",
    "call": {"type": "asb.nuisance", "reference": "WMP-77", "description": "Youths shouting outside the shops"},
    "location": {"risk_level": "low", "lpa": "birmingham-west", "neighbourhood": "ladywood"},
    "officer": {
        "id": "PCSO 4521",
        "training_status": "independent",
        "in_uniform": True,
        "home_lpa": "birmingham-west",
        "home_neighbourhood": "ladywood",
    },
}


def assess(client: TestClient, body: dict, who: str = "dispatcher") -> dict:
    response = client.post("/v1/assessments", json=body, headers=headers(who))
    assert response.status_code == 200, response.text
    return response.json()


def escalate(client: TestClient, parent: str, change: dict, who: str = "dispatcher"):
    return client.post(f"/v1/assessments/{parent}/escalations", json=change, headers=headers(who))


def test_weapon_seen_turns_into_withdrawal_instructions(client: TestClient) -> None:
    original = assess(client, ASB)
    assert original["decision"] == "deploy"
    response = escalate(
        client, original["assessment_id"], {"flags": ["weapon_reported"], "description": "One of them has pulled a knife"}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["decision"] == "do_not_deploy" and answer["may_assign"] is False
    escalation = answer["escalation"]
    assert escalation["parent_id"] == original["assessment_id"]
    assert escalation["previous_decision"] == "deploy" and escalation["direction"] == "stricter"
    codes = [i["code"] for i in escalation["instructions"]]
    assert {
        "withdraw_when_risk_escalates",
        "withdraw_outside_principles",
        "request_officer_support",
        "no_positive_duty_to_intervene",
    } <= set(codes)
    labels = {i["citation"]["label"] for i in escalation["instructions"]}
    assert {"WMP 2.7.6", "WMP 2.7.16", "WMP 2.7.18"} <= labels
    record = client.get(f"/v1/assessments/{answer['assessment_id']}", headers=headers("auditor")).json()
    assert record["kind"] == "escalation" and record["parent_id"] == original["assessment_id"]
    assert record["request"]["call"]["flags"] == ["weapon_reported"]
    assert client.get("/v1/audit/verify", headers=headers("auditor")).json()["checked"] == 2


def test_kent_instructions_cite_the_kent_clauses(client: TestClient) -> None:
    body = copy.deepcopy(ASB)
    body["force"] = "kent"
    original = assess(client, body)
    answer = escalate(client, original["assessment_id"], {"risk_level": "high"}).json()
    assert answer["decision"] == "do_not_deploy"
    labels = {i["citation"]["label"] for i in answer["escalation"]["instructions"]}
    assert {"Kent O38b 5.6.4", "Kent O38b 5.8.2", "Kent O38b 5.8.3"} <= labels


def test_scene_secured_may_loosen_and_says_why(client: TestClient) -> None:
    body = copy.deepcopy(ASB)
    body["task"] = "house_to_house"
    body["call"] = {"type": "serious.burglary_in_progress", "phase": "in_progress"}
    original = assess(client, body)
    assert original["decision"] == "do_not_deploy"
    answer = escalate(client, original["assessment_id"], {"phase": "scene_secured"}).json()
    assert answer["may_assign"] is True
    assert answer["escalation"]["direction"] == "looser"
    assert answer["escalation"]["risk_lowered_by"] == ["phase in_progress -> scene_secured"]
    assert answer["escalation"]["instructions"] == []


def test_a_new_description_cannot_drop_risk_read_earlier(client: TestClient) -> None:
    body = copy.deepcopy(ASB)
    body["call"]["description"] = "Man with a knife near the shops"
    original = assess(client, body)
    assert original["decision"] == "do_not_deploy"
    answer = escalate(client, original["assessment_id"], {"description": "Caller now says the group has moved on"}).json()
    assert answer["decision"] == "do_not_deploy"
    assert answer["escalation"]["direction"] == "unchanged" and answer["escalation"]["risk_lowered_by"] == []
    cleared = escalate(
        client, original["assessment_id"], {"clear_flags": ["weapon_reported"], "description": "Officers searched: no knife"}
    ).json()
    assert cleared["escalation"]["risk_lowered_by"] == ["flag weapon_reported cleared"]


def test_escalations_chain_on_escalations(client: TestClient) -> None:
    original = assess(client, ASB)
    first = escalate(client, original["assessment_id"], {"risk_level": "medium"}).json()
    assert first["decision"] == "deploy_with_conditions"
    second = escalate(client, first["assessment_id"], {"markers": ["violent_person"]}).json()
    assert second["decision"] == "do_not_deploy" and second["escalation"]["parent_id"] == first["assessment_id"]
    assert second["escalation"]["previous_decision"] == "deploy_with_conditions"


def test_escalation_rules(client: TestClient) -> None:
    original = assess(client, ASB)
    assert escalate(client, original["assessment_id"], {}).status_code == 422
    assert escalate(client, original["assessment_id"], {"risk_level": "extreme"}).status_code == 422
    assert escalate(client, "no-such-assessment", {"risk_level": "high"}).status_code == 404
    assert escalate(client, original["assessment_id"], {"risk_level": "high"}, who="dispatcher2").status_code == 404
    assert escalate(client, original["assessment_id"], {"risk_level": "high"}, who="planner").status_code == 403
    assert escalate(client, original["assessment_id"], {"risk_level": "high"}, who="admin").status_code == 200
