"""Malformed payloads: a 422 problem naming each bad field, and nothing recorded."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import POLICY_DIR, headers

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
    ("officer.in_uniform", "sometimes", "officer.in_uniform", "bool_type"),
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
    # NUL and bidi overrides are refused (tests/api/test_input_bounds.py); everything else is kept as sent.
    odd = "\u200fright-to-left mark\u200f \u200bzero-width\ttab\r\nnew line \U0001f52a knife emoji, Ω≈ç√"
    response = sqlite_client.post("/v1/assessments", json=changed("call.description", odd), headers=headers("dispatcher"))
    assert response.status_code == 200
    record = sqlite_client.get(f"/v1/assessments/{response.json()['assessment_id']}", headers=headers("auditor")).json()
    assert record["request"]["call"]["description"] == odd
    assert any('"knife"' in reason["message"] for reason in response.json()["reasons"])


# --- strict wire types: JSON booleans, numbers and enum members exactly as documented, never coerced ------------

STRICT = [
    ("officer.in_uniform", "yes", "officer.in_uniform", "bool_type"),
    ("officer.in_uniform", "true", "officer.in_uniform", "bool_type"),
    ("officer.in_uniform", 1, "officer.in_uniform", "bool_type"),
    ("officer.in_uniform", 0, "officer.in_uniform", "bool_type"),
    ("officer.authorised_driver", "true", "officer.authorised_driver", "bool_type"),
    ("officer.authorised_driver", 1, "officer.authorised_driver", "bool_type"),
    ("officer.cycle_trained", "false", "officer.cycle_trained", "bool_type"),
    ("officer.cycle_trained", 0, "officer.cycle_trained", "bool_type"),
    ("officer.cycle_trained", None, "officer.cycle_trained", "bool_type"),
    ("task", "ATTEND", "task", "literal_error"),
    ("call.phase", "In_Progress", "call.phase", "literal_error"),
    ("call.grade", "Emergency", "call.grade", "literal_error"),
    ("call.grade", 1, "call.grade", "literal_error"),
    ("call.flags", ["Weapon_Reported"], "call.flags[0]", "literal_error"),
    ("location.risk_level", "LOW", "location.risk_level", "literal_error"),
    ("location.risk_level", "Low", "location.risk_level", "literal_error"),
    ("location.markers", ["WATER"], "location.markers[0]", "literal_error"),
    ("location.setting", "URBAN", "location.setting", "literal_error"),
    ("officer.training_status", "Independent", "officer.training_status", "literal_error"),
    ("call.type", 7, "call.type", "string_type"),
    ("officer.id", 4521, "officer.id", "string_type"),
    ("officer.designated_powers", [True], "officer.designated_powers[0]", "string_type"),
]


@pytest.mark.parametrize(("path", "value", "field", "code"), STRICT, ids=[f"{s[0]}={s[1]!r}" for s in STRICT])
def test_assessment_values_are_not_coerced(sqlite_client: TestClient, path: str, value: Any, field: str, code: str) -> None:
    response = sqlite_client.post("/v1/assessments", json=changed(path, value), headers=headers("dispatcher"))
    assert response.status_code == 422, response.text
    assert {"field": field, "code": code} in [{"field": e["field"], "code": e["code"]} for e in response.json()["errors"]]
    assert sqlite_client.get("/v1/audit/verify", headers=headers("auditor")).json()["checked"] == 0


def test_json_booleans_and_enum_members_are_accepted(sqlite_client: TestClient) -> None:
    body = changed("officer.in_uniform", False)
    body["officer"].update(authorised_driver=True, cycle_trained=False)
    response = sqlite_client.post("/v1/assessments", json=body, headers=headers("dispatcher"))
    assert response.status_code == 200, response.text
    assert response.json()["decision"] == "do_not_deploy"


def bad_fields(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_candidate_officers_are_strict(sqlite_client: TestClient) -> None:
    body = {k: v for k, v in VALID.items() if k != "officer"}
    body["officers"] = [VALID["officer"], {**VALID["officer"], "id": "PCSO 2", "in_uniform": "true"}]
    response = sqlite_client.post("/v1/candidates", json=body, headers=headers("dispatcher"))
    assert ("officers[1].in_uniform", "bool_type") in bad_fields(response)


def test_escalation_values_are_strict(sqlite_client: TestClient) -> None:
    decided = sqlite_client.post("/v1/assessments", json=VALID, headers=headers("dispatcher")).json()
    url = f"/v1/assessments/{decided['assessment_id']}/escalations"
    assert ("risk_level", "literal_error") in bad_fields(
        sqlite_client.post(url, json={"risk_level": "HIGH"}, headers=headers("dispatcher"))
    )
    assert ("flags[0]", "literal_error") in bad_fields(
        sqlite_client.post(url, json={"flags": [1]}, headers=headers("dispatcher"))
    )
    accepted = sqlite_client.post(url, json={"risk_level": "high"}, headers=headers("dispatcher"))
    assert accepted.status_code == 200, accepted.text


ABSTRACTION = {
    "force": "west-midlands",
    "officer_id": "PCSO 1",
    "home_lpa": "birmingham-west",
    "reason": "other",
    "started_at": "2026-11-01T10:00:00Z",
}


def test_abstraction_datetimes_are_iso_8601_strings_and_numbers_are_numbers(sqlite_client: TestClient) -> None:
    def post(**changes: Any) -> Any:
        return sqlite_client.post("/v1/abstractions", json={**ABSTRACTION, **changes}, headers=headers("planner"))

    accepted = post(started_at="2026-11-01T10:00:00+01:00", hours=5)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["started_at"].startswith("2026-11-01T10:00:00") and accepted.json()["hours"] == 5
    assert ("started_at", "datetime_type") in bad_fields(post(started_at=1762000000))
    assert ("started_at", "datetime_type") in bad_fields(post(started_at="1762000000"))
    assert ("started_at", "datetime_from_date_parsing") in bad_fields(post(started_at="1 November 2026"))
    assert ("hours", "float_type") in bad_fields(post(hours="5"))
    assert ("hours", "float_type") in bad_fields(post(hours=True))
    assert ("reason", "literal_error") in bad_fields(post(reason="OTHER"))
    authorise = f"/v1/abstractions/{accepted.json()['id']}/authorisation"
    wrong = sqlite_client.post(
        authorise, json={"authorised_by": "PS 1", "justification": "cover", "hours": "2"}, headers=headers("planner")
    )
    assert ("hours", "float_type") in bad_fields(wrong)


def test_admin_and_planner_bodies_are_strict(sqlite_client: TestClient) -> None:
    purge = sqlite_client.post("/v1/audit/purge", json={"older_than_days": "3650"}, headers=headers("admin"))
    assert ("older_than_days", "int_type") in bad_fields(purge)
    impact = "/v1/policies/west-midlands/impact"
    files = {"west-midlands/policy.json": json.loads((POLICY_DIR / "west-midlands" / "policy.json").read_text(encoding="utf-8"))}
    assert ("limit", "int_type") in bad_fields(
        sqlite_client.post(impact, json={"files": files, "limit": "10"}, headers=headers("planner"))
    )
    assert ("from", "datetime_type") in bad_fields(
        sqlite_client.post(impact, json={"files": files, "from": 0}, headers=headers("planner"))
    )
    window = sqlite_client.post(
        impact, json={"files": files, "from": "2026-10-01T00:00:00Z", "limit": 10}, headers=headers("planner")
    )
    assert window.status_code == 200, window.text


def test_the_matrix_query_still_parses_query_strings(sqlite_client: TestClient) -> None:
    response = sqlite_client.get(
        "/v1/policies/west-midlands/matrix?in_uniform=false&cycle_trained=true&risk_level=medium", headers=headers("planner")
    )
    assert response.status_code == 200, response.text
    profile = response.json()["profile"]
    assert profile["in_uniform"] is False and profile["cycle_trained"] is True and profile["risk_level"] == "medium"
    wrong = sqlite_client.get("/v1/policies/west-midlands/matrix?in_uniform=sometimes", headers=headers("planner"))
    assert ("query.in_uniform", "bool_parsing") in bad_fields(wrong)
