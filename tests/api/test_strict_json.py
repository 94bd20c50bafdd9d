"""Request bodies are decoded once, strictly: a key named twice in one JSON object is a 422 problem naming where,
anywhere in any body, and nothing is recorded; what is not JSON is reported as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service.api.strict_json import StrictJSONRoute, decode_strictly
from service.errors import InvalidRequest
from service.main import create_app
from tests.helpers import POLICY_DIR, headers, make_settings

ASSESSMENT = (
    '{"force": "kent", "call": {"type": "asb.nuisance"}, "location": {"risk_level": "low"}, '
    '"officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": true}}'
)
OFFICER = '{"id": "PCSO %d", "training_status": "independent", "in_uniform": true}'


def post(client: TestClient, url: str, text: str, who: str = "admin", content_type: str = "application/json") -> Any:
    return client.post(url, content=text.encode(), headers={**headers(who), "Content-Type": content_type})


def duplicate(response: Any) -> str:
    """The field a duplicate-key problem names."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/validation-error") and problem["status"] == 422
    [error] = problem["errors"]
    assert error["code"] == "duplicate_key", problem
    return error["field"]


def test_a_repeated_key_is_refused_where_it_is_and_nothing_is_recorded(client: TestClient) -> None:
    top = ASSESSMENT.replace('{"force": "kent",', '{"force": "kent", "force": "west-midlands",')
    assert duplicate(post(client, "/v1/assessments", top, "dispatcher")) == "force"
    problem = post(client, "/v1/assessments", top, "dispatcher").json()
    assert "'force'" in problem["detail"]
    nested = ASSESSMENT.replace('"type": "asb.nuisance"', '"type": "asb.nuisance", "type": "violence.knife_crime"')
    assert duplicate(post(client, "/v1/assessments", nested, "dispatcher")) == "call.type"
    deep = ASSESSMENT.replace('"in_uniform": true}', '"in_uniform": true, "in_uniform": false}')
    assert duplicate(post(client, "/v1/assessments", deep, "dispatcher")) == "officer.in_uniform"
    twice = OFFICER.replace("{", '{"id": "PCSO 9", ', 1) % 2
    officers = f"[{OFFICER % 1}, {twice}]"
    candidates = (
        '{"force": "kent", "call": {"type": "asb.nuisance"}, "location": {"risk_level": "low"}, "officers": ' + officers + "}"
    )
    assert duplicate(post(client, "/v1/candidates", candidates, "dispatcher")) == "officers[1].id"
    abstraction = (
        '{"force": "west-midlands", "officer_id": "PCSO 1", "officer_id": "PCSO 2", "home_lpa": "birmingham-west", '
        '"reason": "other", "started_at": "2026-11-01T10:00:00Z"}'
    )
    assert duplicate(post(client, "/v1/abstractions", abstraction, "planner")) == "officer_id"
    purge = '{"older_than_days": 3650, "reason": "tidy", "older_than_days": 1}'
    assert duplicate(post(client, "/v1/audit/purge", purge)) == "older_than_days"
    report = client.get("/v1/audit/verify", headers=headers("auditor")).json()
    assert report["checked"] == 0, report


def test_repeated_keys_in_every_body_and_content_type(sqlite_client: TestClient) -> None:
    decided = post(sqlite_client, "/v1/assessments", ASSESSMENT, "dispatcher")
    assert decided.status_code == 200, decided.text
    escalation = f"/v1/assessments/{decided.json()['assessment_id']}/escalations"
    assert duplicate(post(sqlite_client, escalation, '{"risk_level": "high", "risk_level": "low"}', "dispatcher")) == "risk_level"
    recorded = sqlite_client.post(
        "/v1/abstractions",
        json={
            "force": "west-midlands",
            "officer_id": "PCSO 1",
            "home_lpa": "birmingham-west",
            "reason": "other",
            "started_at": "2026-11-01T10:00:00Z",
        },
        headers=headers("planner"),
    ).json()
    authorise = f"/v1/abstractions/{recorded['id']}/authorisation"
    body = '{"authorised_by": "PS 1", "justification": "cover", "authorised_by": "Insp 2"}'
    assert duplicate(post(sqlite_client, authorise, body, "planner")) == "authorised_by"
    # Deep inside a candidate policy file: the path names the file and the rule.
    rules = json.loads((POLICY_DIR / "west-midlands" / "rules.json").read_text(encoding="utf-8"))
    text = json.dumps({"files": {"west-midlands/rules.json": rules}})
    first_id = json.dumps(rules["rules"][0]["id"])
    text = text.replace(f'"id": {first_id}', f'"id": {first_id}, "id": "again"', 1)
    assert duplicate(post(sqlite_client, "/v1/policies/west-midlands/impact", text, "planner")) == (
        "files.west-midlands/rules.json.rules[0].id"
    )
    top = ASSESSMENT.replace('{"force": "kent",', '{"force": "kent", "force": "kent",')
    for content_type in ("application/json; charset=utf-8", "application/problem+json", "APPLICATION/JSON"):
        assert duplicate(post(sqlite_client, "/v1/assessments", top, "dispatcher", content_type)) == "force", content_type


def test_the_same_key_in_different_objects_is_fine(sqlite_client: TestClient) -> None:
    officers = f"[{OFFICER % 1}, {OFFICER % 2}]"
    body = '{"force": "kent", "call": {"type": "asb.nuisance"}, "location": {"risk_level": "low"}, "officers": ' + officers + "}"
    response = post(sqlite_client, "/v1/candidates", body, "dispatcher")
    assert response.status_code == 200, response.text
    assert [c["officer_id"] for c in response.json()["candidates"]] == ["PCSO 1", "PCSO 2"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"force": "kent",', "json_invalid"),
        (b'{"force": "kent", "force": ', "json_invalid"),
        (b"\xff\xfe garbage", "json_invalid"),  # a UTF-16 byte order mark, then no JSON
        (b"\xff garbage", "body_unreadable"),
        (b"[" * 100_000 + b"]" * 100_000, "body_unreadable"),
    ],
    ids=["truncated", "truncated after a repeated key", "UTF-16 mark", "not UTF-8", "too deep"],
)
def test_bodies_that_are_not_json_are_reported_as_before(sqlite_client: TestClient, content: bytes, code: str) -> None:
    response = sqlite_client.post(
        "/v1/assessments", content=content, headers={**headers("dispatcher"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert [e["code"] for e in response.json()["errors"]] == [code]


def test_the_body_is_decoded_once(sqlite_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI validates the strict decoder's result: Starlette's own json.loads is never called."""

    def second_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the body was parsed a second time")

    monkeypatch.setattr("starlette.requests.json.loads", second_parse)
    response = post(sqlite_client, "/v1/assessments", ASSESSMENT, "dispatcher")
    assert response.status_code == 200, response.text


def test_every_route_decodes_bodies_strictly(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    routes: list[APIRoute] = []
    for route in app.routes:
        included = getattr(route, "original_router", None)
        routes.extend(r for r in (included.routes if included is not None else [route]) if isinstance(r, APIRoute))
    with_body = [route for route in routes if route.body_field is not None]
    assert len(with_body) >= 7
    assert [route.path for route in with_body if not isinstance(route, StrictJSONRoute)] == []


def test_decode_strictly_reads_bytes_as_json_loads_does() -> None:
    for text in ('{"a": [1, {"b": null}], "c": "\\u00e9"}', "[]", '"x"', "1.5"):
        for encoding in ("utf-8", "utf-16", "utf-32", "utf-8-sig"):
            body = text.encode(encoding)
            assert decode_strictly(body) == json.loads(body)
    with pytest.raises(InvalidRequest) as raised:
        decode_strictly(b'[{"a": 1}, {"b": {"c": 1, "c": 2}}]')
    assert raised.value.errors == [
        {"field": "[1].b.c", "message": "duplicate key: each key may appear once in a JSON object", "code": "duplicate_key"}
    ]
