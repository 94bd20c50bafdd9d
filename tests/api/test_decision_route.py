"""Decision posts resolved in one pass answer exactly as FastAPI's own handler answers, and take that pass
whenever the request resolves cleanly."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from service.api.decision_route import DecisionRoute
from service.api.strict_json import StrictJSONRoute
from service.main import create_app
from tests.helpers import Clock, headers, make_settings

CALL = {
    "force": "west-midlands",
    "task": "attend",
    "call": {"type": "asb.nuisance", "reference": "WMP-1", "description": "Youths shouting outside the shops"},
    "location": {"risk_level": "low", "lpa": "birmingham-west", "neighbourhood": "ladywood"},
    "officer": {
        "id": "PCSO 4521",
        "designated_powers": ["require_name_address"],
        "training_status": "independent",
        "in_uniform": True,
        "home_lpa": "birmingham-west",
        "home_neighbourhood": "ladywood",
    },
}
JSON = {"Content-Type": "application/json"}


@contextmanager
def _app(url: str, *, generic: bool, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    app = create_app(make_settings(url))
    app.state.clock = Clock(datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    counter = itertools.count(1)
    app.state.new_id = lambda: f"id-{next(counter):04d}"
    with TestClient(app) as client:
        with monkeypatch.context() as patch:
            if generic:  # every decision post answered by FastAPI's own handler
                patch.setattr(DecisionRoute, "get_route_handler", StrictJSONRoute.get_route_handler)
            # FastAPI builds an included route's handler when its router first serves a request.
            for path in ("/v1/assessments", "/v1/assessments/x/escalations", "/v1/candidates"):
                assert client.post(path, json={}).status_code == 401
        yield client


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        _app(f"sqlite:///{tmp_path}/fast.db", generic=False, monkeypatch=monkeypatch) as fast,
        _app(f"sqlite:///{tmp_path}/generic.db", generic=True, monkeypatch=monkeypatch) as generic,
    ):
        yield fast, generic


def _walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests FastAPI's generic dependency walk serves from now on."""
    walked: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def counting(**arguments: Any) -> Any:
        walked.append(arguments["request"].url.path)
        return await original(**arguments)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return walked


def _bad_body(**changes: Any) -> dict[str, Any]:
    return {**CALL, **changes}


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("valid", "/v1/assessments", {"json": CALL, "headers": headers("dispatcher")}),
    ("compact view", "/v1/assessments?view=compact", {"json": CALL, "headers": headers("dispatcher")}),
    ("idempotency key", "/v1/assessments", {"json": CALL, "headers": {**headers("dispatcher"), "Idempotency-Key": "cad-1"}}),
    ("bad idempotency key", "/v1/assessments", {"json": CALL, "headers": {**headers("dispatcher"), "Idempotency-Key": "a b"}}),
    ("no credential", "/v1/assessments", {"json": CALL}),
    ("unknown key", "/v1/assessments", {"json": CALL, "headers": {"Authorization": "Bearer not-a-key-at-all-123"}}),
    ("basic scheme", "/v1/assessments", {"json": CALL, "headers": {"Authorization": "Basic abc"}}),
    ("role without assess", "/v1/assessments", {"json": CALL, "headers": headers("auditor")}),
    ("no credential and a bad body", "/v1/assessments", {"json": {"force": 3}}),
    ("bad body", "/v1/assessments", {"json": _bad_body(task="arrest"), "headers": headers("dispatcher")}),
    ("missing field", "/v1/assessments", {"json": {"force": "kent"}, "headers": headers("dispatcher")}),
    ("extra field", "/v1/assessments", {"json": _bad_body(extra=1), "headers": headers("dispatcher")}),
    ("unknown force", "/v1/assessments", {"json": _bad_body(force="atlantis"), "headers": headers("dispatcher")}),
    ("bad view", "/v1/assessments?view=tiny", {"json": CALL, "headers": headers("dispatcher")}),
    ("unknown query", "/v1/assessments?vew=compact", {"json": CALL, "headers": headers("dispatcher")}),
    ("view twice", "/v1/assessments?view=compact&view=full", {"json": CALL, "headers": headers("dispatcher")}),
    ("not JSON", "/v1/assessments", {"content": b"{not json", "headers": {**headers("dispatcher"), **JSON}}),
    (
        "duplicate key",
        "/v1/assessments",
        {"content": b'{"force":"kent","force":"kent"}', "headers": {**headers("dispatcher"), **JSON}},
    ),
    ("empty body", "/v1/assessments", {"content": b"", "headers": {**headers("dispatcher"), **JSON}}),
    (
        "text content type",
        "/v1/assessments",
        {"content": b"{}", "headers": {**headers("dispatcher"), "Content-Type": "text/plain"}},
    ),
    ("array body", "/v1/assessments", {"json": [CALL], "headers": headers("dispatcher")}),
    (
        "candidates",
        "/v1/candidates",
        {
            "json": {k: v for k, v in CALL.items() if k != "officer"} | {"officers": [CALL["officer"]]},
            "headers": headers("dispatcher"),
        },
    ),
    ("candidates, bad body", "/v1/candidates", {"json": CALL, "headers": headers("dispatcher")}),
    (
        "escalation of nothing",
        "/v1/assessments/no-such-id/escalations",
        {"json": {"flags": ["weapon_reported"]}, "headers": headers("dispatcher")},
    ),
    (
        "escalation, bad path",
        "/v1/assessments/%20/escalations",
        {"json": {"flags": ["weapon_reported"]}, "headers": headers("dispatcher")},
    ),
    (
        "escalation, bad body",
        "/v1/assessments/id-0001/escalations",
        {"json": {"flags": "weapons"}, "headers": headers("dispatcher")},
    ),
]


def _answer(response: Any) -> tuple[int, str | None, bytes, str | None, str | None]:
    return (
        response.status_code,
        response.headers.get("content-type"),
        response.content,
        response.headers.get("www-authenticate"),
        response.headers.get("idempotent-replayed"),
    )


def test_every_answer_is_the_one_fastapis_own_handler_gives(
    pair: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, generic = pair
    walked = _walks(monkeypatch)
    clean = {"valid", "compact view", "idempotency key", "candidates", "escalation", "replay"}
    more = [
        (
            "escalation",
            "/v1/assessments/id-0001/escalations",
            {"json": {"flags": ["weapon_reported"]}, "headers": headers("dispatcher")},
        ),
        ("replay", "/v1/assessments", {"json": CALL, "headers": {**headers("dispatcher"), "Idempotency-Key": "cad-1"}}),
    ]
    for name, path, arguments in REQUESTS + more:
        before = len(walked)
        fast_answer = _answer(fast.post(path, **arguments))
        fast_walks = len(walked) - before
        generic_answer = _answer(generic.post(path, **arguments))
        assert fast_answer == generic_answer, name
        if name in clean:  # the two apps took different paths to the same answer
            assert fast_answer[0] == 200 and (fast_walks, len(walked) - before - fast_walks) == (0, 1), name


def test_a_request_that_resolves_cleanly_never_reaches_the_generic_walk(
    sqlite_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked = _walks(monkeypatch)
    assert sqlite_client.post("/v1/assessments", json=CALL, headers=headers("dispatcher")).status_code == 200
    assert sqlite_client.post("/v1/assessments?view=compact", json=CALL, headers=headers("dispatcher")).status_code == 200
    assert walked == []
    refused = sqlite_client.post("/v1/assessments", json=_bad_body(task="arrest"), headers=headers("dispatcher"))
    assert refused.status_code == 422 and walked == ["/v1/assessments"]
