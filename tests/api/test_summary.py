"""The decision at a glance: the summary on every decision document, the compact view (assessments, escalations,
candidates), refusals without deployment conditions, and candidates in the same shapes as assessments."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.actions.documents import DECISION_WORDS, compact_document, decision_document, to_json
from service.api.schemas.assessments import AssessmentRequest, AssessmentResponse, CompactAssessmentResponse
from service.api.schemas.candidates import CandidatesResponse, CompactCandidatesResponse
from service.engine.decide import decide
from service.engine.policy import PolicyRegistry
from tests.helpers import FIXED_NOW, headers, load_cases

CASES = load_cases()
IDS = [case[0] for case in CASES]
COMPACT_LIMIT = 1500  # bytes
REFUSED = ("do_not_deploy", "refer_to_supervisor")


def case_document(registry: PolicyRegistry, request_body: dict[str, Any]) -> dict[str, Any]:
    """The full document for a decision case, with ids as long as the service's."""
    body = AssessmentRequest.model_validate(request_body)
    decision = decide(registry.sets[body.force], body.to_engine(), now=FIXED_NOW)
    document = decision_document(
        decision,
        assessment_id=str(uuid.uuid4()),
        officer_id=body.officer.id,
        call_reference="WMP-20261122-0412",
        abstraction_id=str(uuid.uuid4()) if decision.may_assign else None,
    )
    return json.loads(to_json(document))


@pytest.mark.parametrize(("name", "request_body", "expect"), CASES, ids=IDS)
def test_every_decision_has_a_short_summary(registry: PolicyRegistry, name: str, request_body: dict, expect: dict) -> None:
    document = case_document(registry, request_body)
    summary = document["summary"]
    headline = summary["headline"]
    assert 0 < len(headline) < 100, headline
    assert headline.startswith(DECISION_WORDS[document["decision"]] + ": "), headline
    assert headline.endswith(")"), headline  # the deciding clause closes the headline
    limits = document["limits"]
    assert len(summary["lines"]) == len(document["conditions"]) + len(limits["prohibited"]) + len(limits["withdrawal"])
    assert all(0 < len(line) < 100 for line in summary["lines"]), summary["lines"]
    for line, finding in zip(summary["lines"], document["conditions"], strict=False):
        assert finding["code"].split("_")[0] in line.lower(), (line, finding["code"])


@pytest.mark.parametrize(("name", "request_body", "expect"), CASES, ids=IDS)
def test_compact_view_of_every_decision_is_under_the_bound(
    registry: PolicyRegistry, name: str, request_body: dict, expect: dict
) -> None:
    document = case_document(registry, request_body)
    compact = compact_document(document)
    assert len(to_json(compact).encode("utf-8")) < COMPACT_LIMIT
    assert CompactAssessmentResponse.model_validate(compact).model_dump(mode="json") == compact
    assert compact["decision"] == document["decision"] and compact["may_assign"] is document["may_assign"]
    assert compact["codes"] == [f["code"] for f in document["reasons"] + document["conditions"]]
    assert len(compact["clauses"]) == len(compact["codes"])
    assert compact["summary"]["headline"] == document["summary"]["headline"]
    assert compact["policy"]["digest"] == document["policy"]["digest"]


@pytest.mark.parametrize(("name", "request_body", "expect"), CASES, ids=IDS)
def test_a_refusal_carries_no_conditions_and_no_permit_reasons(
    registry: PolicyRegistry, name: str, request_body: dict, expect: dict
) -> None:
    document = case_document(registry, request_body)
    if document["decision"] not in REFUSED:
        assert document["superseded"] == []
        return
    assert document["conditions"] == []
    assert document["reasons"] and all(r["effect"] in ("refuse", "refer") for r in document["reasons"])
    assert not document["summary"]["headline"].startswith("Deploy")


def test_refusal_through_http_is_recorded_as_answered(sqlite_client: TestClient) -> None:
    body = next(request for name, request, _ in CASES if name == "kent:weapon reported on an ASB call")
    answer = sqlite_client.post("/v1/assessments", json=body, headers=headers("dispatcher"))
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["decision"] == "do_not_deploy"
    assert document["conditions"] == []
    assert [r["code"] for r in document["reasons"]] == ["weapon_reported"]
    superseded = {f["code"] for f in document["superseded"]}
    assert {"call_type_within_remit", "weapon_reported_briefing", "body_armour"} <= superseded
    recorded = sqlite_client.get(f"/v1/assessments/{document['assessment_id']}", headers=headers("dispatcher"))
    assert recorded.json()["response"] == document


def _officers(count: int) -> list[dict[str, Any]]:
    officer = next(request for _, request, _ in CASES if request["force"] == "kent")["officer"]
    officers = []
    for index in range(count):
        one = copy.deepcopy(officer)
        one["id"] = f"PCSO {61000 + index}"
        one["training_status"] = ("independent", "coaching", "foundation")[index % 3]
        one["in_uniform"] = index % 4 != 3
        officers.append(one)
    return officers


def _candidates_body(count: int) -> dict[str, Any]:
    base = next(
        request for name, request, _ in CASES if name == "kent:violence reported: house to house after the scene is secured"
    )
    return {k: v for k, v in base.items() if k != "officer"} | {"officers": _officers(count)}


def test_candidates_use_the_shapes_of_assessments(sqlite_client: TestClient) -> None:
    body = _candidates_body(10)
    full = sqlite_client.post("/v1/candidates", json=body, headers=headers("dispatcher"))
    assert full.status_code == 200, full.text
    assert CandidatesResponse.model_validate_json(full.content).model_dump_json() == full.text
    single = {k: v for k, v in body.items() if k != "officers"} | {"officer": body["officers"][0]}
    assessment = sqlite_client.post("/v1/assessments", json=single, headers=headers("dispatcher")).json()
    compact_one = sqlite_client.post("/v1/assessments?view=compact", json=single, headers=headers("dispatcher")).json()
    candidates = full.json()["candidates"]
    assert len(candidates) == 10
    for candidate in candidates:
        document = candidate["assessment"]
        assert list(document) == list(assessment)
        assert document["summary"]["headline"]
        assert candidate["conditions"] == [c["code"] for c in document["conditions"]]
        assert candidate["deciding_reason"] == document["reasons"][0]
        recorded = sqlite_client.get(f"/v1/assessments/{candidate['assessment_id']}", headers=headers("dispatcher"))
        assert recorded.json()["response"] == document
    # Every refused candidate is as bare as a refused assessment.
    assert any(not c["may_assign"] for c in candidates)
    assert all(c["conditions"] == [] for c in candidates if not c["may_assign"])

    compact = sqlite_client.post("/v1/candidates?view=compact", json=body, headers=headers("dispatcher"))
    assert compact.status_code == 200, compact.text
    assert CompactCandidatesResponse.model_validate_json(compact.content).model_dump_json() == compact.text
    for place in compact.json()["candidates"]:
        assert list(place["assessment"]) == list(compact_one)
        assert len(to_json(place["assessment"]).encode("utf-8")) < COMPACT_LIMIT


def test_compact_views_from_the_service_are_under_the_bound(sqlite_client: TestClient) -> None:
    largest = 0
    for _name, request, _ in CASES[::5]:
        answer = sqlite_client.post("/v1/assessments?view=compact", json=request, headers=headers("dispatcher"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["view"] == "compact"
        largest = max(largest, len(answer.content))
    assert 0 < largest < COMPACT_LIMIT


def test_idempotent_replay_of_the_compact_view_gives_the_same_bytes(client: TestClient) -> None:
    body = _candidates_body(1)
    single = {k: v for k, v in body.items() if k != "officers"} | {"officer": body["officers"][0]}
    key = {**headers("dispatcher"), "Idempotency-Key": "KENT-20261123-0099"}
    first = client.post("/v1/assessments?view=compact", json=single, headers=key)
    again = client.post("/v1/assessments?view=compact", json=single, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    # The full view of the same key is the recorded document the compact view was derived from.
    full = client.post("/v1/assessments", json=single, headers=key)
    assert full.headers["Idempotent-Replayed"] == "true"
    assert to_json(compact_document(full.json())).encode("utf-8") == first.content
    recorded = client.get(f"/v1/assessments/{first.json()['assessment_id']}", headers=headers("dispatcher")).json()
    assert AssessmentResponse.model_validate(recorded["response"]).model_dump(mode="json") == full.json()

    candidates_key = {**headers("dispatcher"), "Idempotency-Key": "KENT-20261123-0100"}
    ranked = client.post("/v1/candidates?view=compact", json=_candidates_body(3), headers=candidates_key)
    ranked_again = client.post("/v1/candidates?view=compact", json=_candidates_body(3), headers=candidates_key)
    assert ranked_again.headers["Idempotent-Replayed"] == "true"
    assert ranked_again.content == ranked.content


def test_escalation_answers_in_the_compact_view(sqlite_client: TestClient) -> None:
    body = next(request for name, request, _ in CASES if name == "kent:attend asb.nuisance is within remit")
    first = sqlite_client.post("/v1/assessments", json=body, headers=headers("dispatcher")).json()
    escalated = sqlite_client.post(
        f"/v1/assessments/{first['assessment_id']}/escalations?view=compact",
        json={"flags": ["weapon_reported"]},
        headers=headers("dispatcher"),
    )
    assert escalated.status_code == 200, escalated.text
    compact = escalated.json()
    assert compact["decision"] == "do_not_deploy"
    assert compact["escalation"] == {
        "parent_id": first["assessment_id"],
        "previous_decision": first["decision"],
        "direction": "stricter",
    }
    assert compact["summary"]["headline"].startswith("Do not deploy: ")
    assert len(escalated.content) < COMPACT_LIMIT


def test_view_is_declared_in_openapi(sqlite_client: TestClient) -> None:
    spec = sqlite_client.get("/openapi.json").json()
    for path in ("/v1/assessments", "/v1/candidates", "/v1/assessments/{assessment_id}/escalations"):
        operation = spec["paths"][path]["post"]
        view = next(p for p in operation["parameters"] if p["name"] == "view")
        assert view["in"] == "query" and view["schema"]["$ref"] == "#/components/schemas/View"
        assert view["schema"]["default"] == "full"
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        refs = {option["$ref"].rsplit("/", 1)[1] for option in schema["anyOf"]}
        assert any(name.startswith("Compact") for name in refs), refs
    assert spec["components"]["schemas"]["View"]["enum"] == ["full", "compact"]
    examples = spec["paths"]["/v1/assessments"]["post"]["responses"]["200"]["content"]["application/json"]["examples"]
    assert examples["compact"]["value"]["view"] == "compact"
    assert len(to_json(examples["compact"]["value"]).encode("utf-8")) < COMPACT_LIMIT
