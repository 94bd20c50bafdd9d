"""Decision cases from tests/cases/*.json, through the engine and through HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.actions.documents import decision_document, to_json
from service.api.schemas.assessments import AssessmentRequest, AssessmentResponse
from service.engine.decide import decide
from service.engine.policy import PolicyRegistry
from tests.helpers import FIXED_NOW, headers, load_cases

CASES = load_cases()
IDS = [case[0] for case in CASES]


def all_codes(answer: dict[str, Any]) -> set[str]:
    """Every finding code anywhere in an answer (those a refusal supersedes included)."""
    limits = answer["limits"]
    groups = [answer["reasons"], answer["conditions"], answer["superseded"], limits["prohibited"], limits["withdrawal"]]
    groups.append(limits["transport_basis"])
    return {finding["code"] for group in groups for finding in group}


def all_labels(answer: dict[str, Any]) -> dict[str, str]:
    """Every finding code anywhere in an answer, with its citation's label."""
    limits = answer["limits"]
    groups = [answer["reasons"], answer["conditions"], answer["superseded"], limits["prohibited"], limits["withdrawal"]]
    groups.append(limits["transport_basis"])
    return {finding["code"]: finding["citation"]["label"] for group in groups for finding in group}


def check(answer: dict[str, Any], expect: dict[str, Any]) -> None:
    """Compare an answer with a case's expectation; only the keys the case gives are checked."""
    assert answer["decision"] == expect["decision"], answer["reasons"]
    assert answer["may_assign"] is (expect["decision"] in ("deploy", "deploy_with_conditions"))
    if "deciding" in expect:
        first = answer["reasons"][0]
        assert first["code"] == expect["deciding"]["code"], answer["reasons"]
        assert first["citation"]["label"] == expect["deciding"]["clause"], first
    if "clause" in expect:
        labels = [r["citation"]["label"] for r in answer["reasons"] + answer["conditions"]]
        assert expect["clause"] in labels, labels
    codes = all_codes(answer)
    # "cited": {finding code: clause label} for findings anywhere (conditions, prohibitions, transport ...).
    for code, clause in expect.get("cited", {}).items():
        assert all_labels(answer).get(code) == clause, (code, all_labels(answer))
    for code in expect.get("includes", []):
        assert code in codes, (code, sorted(codes))
    for code in expect.get("excludes", []):
        assert code not in codes, (code, sorted(codes))
    if "conditions" in expect:
        assert sorted(c["code"] for c in answer["conditions"]) == sorted(expect["conditions"])
    for key in ("powers_available", "powers_not_held", "powers_suspended"):
        if key in expect:
            assert sorted(p["code"] for p in answer["limits"][key]) == sorted(expect[key]), key
    if "permitted_tasks" in expect:
        assert sorted(answer["limits"]["permitted_tasks"]) == sorted(expect["permitted_tasks"])
    for task in expect.get("alternatives", []):
        assert task in [a["task"] for a in answer["alternatives"]], answer["alternatives"]
    for code in expect.get("warnings", []):
        assert code in [w["code"] for w in answer["warnings"]], answer["warnings"]
    for word in expect.get("quotes_words", []):
        assert any(f'"{word}"' in r["message"] for r in answer["reasons"] + answer["conditions"]), answer["reasons"]


@pytest.mark.parametrize(("name", "request_body", "expect"), CASES, ids=IDS)
def test_case_through_engine(registry: PolicyRegistry, name: str, request_body: dict, expect: dict) -> None:
    body = AssessmentRequest.model_validate(request_body)
    decision = decide(registry.sets[body.force], body.to_engine(), now=FIXED_NOW)
    answer = json.loads(
        to_json(decision_document(decision, assessment_id="case", officer_id=body.officer.id, call_reference=None))
    )
    check(answer, expect)


@pytest.mark.parametrize(("name", "request_body", "expect"), CASES, ids=IDS)
def test_case_through_http(sqlite_client: TestClient, name: str, request_body: dict, expect: dict) -> None:
    response = sqlite_client.post("/v1/assessments", json=request_body, headers=headers("dispatcher"))
    assert response.status_code == 200, response.text
    check(response.json(), expect)


def test_every_rule_code_and_call_type_has_a_case(registry: PolicyRegistry) -> None:
    """At least one case per rule (by its code) and per catalogue entry, for each force."""
    seen: dict[str, set[str]] = {}
    call_types: dict[str, set[str]] = {}
    tasks: dict[str, set[str]] = {}
    for _name, request_body, _expect in CASES:
        body = AssessmentRequest.model_validate(request_body)
        decision = decide(registry.sets[body.force], body.to_engine(), now=FIXED_NOW)
        answer = json.loads(
            to_json(decision_document(decision, assessment_id="case", officer_id=body.officer.id, call_reference=None))
        )
        seen.setdefault(body.force, set()).update(all_codes(answer))
        call_types.setdefault(body.force, set()).add(body.call.type)
        tasks.setdefault(body.force, set()).add(body.task)
    for force, policy in registry.sets.items():
        # The fallback is unreachable with the bundled data by design; test_engine.py exercises it.
        rules = policy.static_rules + policy.task_rules
        missing_rules = sorted({rule.code for rule in rules} - seen.get(force, set()))
        assert not missing_rules, f"{force}: no case exercises {missing_rules}"
        missing_types = sorted(set(policy.call_types) - call_types.get(force, set()))
        assert not missing_types, f"{force}: no case for call types {missing_types}"
        missing_tasks = sorted(set(policy.tasks) - tasks.get(force, set()))
        assert not missing_tasks, f"{force}: no case for tasks {missing_tasks}"


@pytest.mark.parametrize(("name", "request_body", "expect"), CASES[::7], ids=IDS[::7])
def test_fast_wire_form_equals_the_documented_model(
    registry: PolicyRegistry, name: str, request_body: dict, expect: dict
) -> None:
    body = AssessmentRequest.model_validate(request_body)
    decision = decide(registry.sets[body.force], body.to_engine(), now=FIXED_NOW)
    fast = to_json(
        decision_document(decision, assessment_id="a", officer_id=body.officer.id, call_reference="r", abstraction_id="b")
    )
    # The documented model accepts the fast document and writes it back byte for byte: nothing dropped, renamed or retyped.
    assert AssessmentResponse.model_validate_json(fast).model_dump_json() == fast
