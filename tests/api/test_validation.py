"""Malformed payloads: a 422 problem naming each bad field, and nothing recorded."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import headers

VALID: dict[str, Any] = {
    "force": "west-midlands",
    "task": "attend",
    "call": {"type": "asb.nuisance", "phase": "in_progress", "flags": [], "description": "Youths shouting"},
    "location": {"risk_level": "low", "markers": [], "setting": "urban"},
    "officer": {"id": "PCSO 4521", "designated_powers": [], "training_status": "independent", "in_uniform": True},
}


def changed(path: str, value: Any) -> dict[str, Any]:
    """VALID with the dotted path set to value (or removed when value is ...)."""
    body = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return body


MALFORMED = [
    ("force", ..., "force", "missing"),
    ("force", 7, "force", "string_type"),
    ("task", "interrogate", "task", "literal_error"),
    ("call", ..., "call", "missing"),
    ("call.type", ..., "call.type", "missing"),
    ("call.type", "", "call.type", "string_too_short"),
    ("call.phase", "finished", "call.phase", "literal_error"),
    ("call.grade", "urgent", "call.grade", "literal_error"),
    ("call.flags", ["weapon_reported", "knife"], "call.flags[1]", "literal_error"),
    ("call.flags", "weapon_reported", "call.flags", "list_type"),
    ("call.description", "x" * 4001, "call.description", "string_too_long"),
    ("call.reference", "R" * 65, "call.reference", "string_too_long"),
    ("call.colour", "blue", "call.colour", "extra_forbidden"),
    ("location.risk_level", "extreme", "location.risk_level", "literal_error"),
    ("location.risk_level", ..., "location.risk_level", "missing"),
    ("location.markers", ["moat"], "location.markers[0]", "literal_error"),
    ("location.setting", "suburban", "location.setting", "literal_error"),
    ("officer.id", "", "officer.id", "string_too_short"),
    ("officer.training_status", "veteran", "officer.training_status", "literal_error"),
    ("officer.in_uniform", "sometimes", "officer.in_uniform", "bool_parsing"),
    ("officer.in_uniform", ..., "officer.in_uniform", "missing"),
    ("officer.designated_powers", [1], "officer.designated_powers[0]", "string_type"),
    ("officer.rank", "sergeant", "officer.rank", "extra_forbidden"),
    ("extra_top_level", True, "extra_top_level", "extra_forbidden"),
]


@pytest.mark.parametrize(("path", "value", "field", "code"), MALFORMED, ids=[f"{m[0]}={str(m[1])[:12]}" for m in MALFORMED])
def test_malformed_field_is_named(sqlite_client: TestClient, path: str, value: Any, field: str, code: str) -> None:
    response = sqlite_client.post("/v1/assessments", json=changed(path, value), headers=headers("dispatcher"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["type"].endswith("/validation-error")
    assert {"field": field, "code": code} in [{"field": e["field"], "code": e["code"]} for e in problem["errors"]], problem


def test_invalid_json_is_a_422_problem(sqlite_client: TestClient) -> None:
    response = sqlite_client.post(
        "/v1/assessments", content=b'{"force": "kent",', headers={**headers("dispatcher"), "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "json_invalid"


def test_description_at_the_limit_is_accepted(sqlite_client: TestClient) -> None:
    response = sqlite_client.post("/v1/assessments", json=changed("call.description", "y" * 4000), headers=headers("dispatcher"))
    assert response.status_code == 200


def test_nothing_is_recorded_for_a_malformed_request(sqlite_client: TestClient) -> None:
    bad = sqlite_client.post("/v1/assessments", json=changed("call.phase", "finished"), headers=headers("dispatcher"))
    assert bad.status_code == 422
    good = sqlite_client.post("/v1/assessments", json=VALID, headers=headers("dispatcher")).json()
    record = sqlite_client.get(f"/v1/assessments/{good['assessment_id']}", headers=headers("auditor")).json()
    assert record["sequence"] == 1


def test_unknown_route_and_method_are_problems(sqlite_client: TestClient) -> None:
    missing = sqlite_client.get("/v1/nowhere")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    wrong_method = sqlite_client.delete("/v1/policies", headers=headers("admin"))
    assert wrong_method.status_code == 405 and wrong_method.json()["status"] == 405


HOSTILE = [
    ("wrong content type", json.dumps(VALID).encode(), "text/plain"),
    ("deeply nested array", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (
        "deeply nested field",
        json.dumps(VALID)[:-1].encode() + b',"extra":' + b"[" * 5000 + b"]" * 5000 + b"}",
        "application/json",
    ),
    (
        "lone surrogate in the description",
        json.dumps(VALID).replace('"Youths shouting"', '"\\ud800 lone"').encode(),
        "application/json",
    ),
    ("not UTF-8", b"\xff\xfe garbage", "application/json"),
    ("a JSON array", b"[]", "application/json"),
    ("a JSON string", b'"assess me"', "application/json"),
    ("empty body", b"", "application/json"),
]


@pytest.mark.parametrize(("label", "content", "content_type"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_get_a_problem_and_record_nothing(
    sqlite_client: TestClient, label: str, content: bytes, content_type: str
) -> None:
    response = sqlite_client.post(
        "/v1/assessments", content=content, headers={**headers("dispatcher"), "Content-Type": content_type}
    )
    assert response.status_code in (413, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert sqlite_client.get("/v1/audit/verify", headers=headers("auditor")).json()["checked"] == 0


def test_unicode_oddities_in_a_description_are_decided_and_recorded_as_sent(sqlite_client: TestClient) -> None:
    odd = "\u202eright-to-left\u202c \u200bzero-width \u0000nul \U0001f52a knife emoji, Ω≈ç√"
    response = sqlite_client.post("/v1/assessments", json=changed("call.description", odd), headers=headers("dispatcher"))
    assert response.status_code == 200
    record = sqlite_client.get(f"/v1/assessments/{response.json()['assessment_id']}", headers=headers("auditor")).json()
    assert record["request"]["call"]["description"] == odd
    assert any('"knife"' in reason["message"] for reason in response.json()["reasons"])
