"""Each force's records kept to that force: route by route and role by role, a Kent caller can
neither read nor change West Midlands data, on both stores.

The store holds one West Midlands assessment (with the abstraction its out-of-area deployment
created), an escalation of it, a manually recorded West Midlands abstraction, and the same for
Kent. Keys scoped to Kent (``key:role:kent``) then call every route in the role table against
the West Midlands data. Reads answer as if the other force's records did not exist (a 404, or a
list, report or export without them); writes for West Midlands are a 403 problem naming it; and
the same calls against Kent's data succeed, so a refusal is the scope's doing. The policy
catalogue (the published documents, not records) stays readable by every caller.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.api.test_access import EXPECTED
from tests.helpers import POLICY_DIR, api_keys, headers, make_settings

ROLES = ("dispatcher", "planner", "auditor", "admin")
KENT_KEYS = {role: f"kent-{role}-key-000001" for role in ROLES}
WMP_KEYS = {"dispatcher": "wmp-dispatcher-key-00001", "planner": "wmp-planner-key-000001"}
MONTH = datetime.now(UTC).strftime("%Y-%m")


def kent(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KENT_KEYS[role]}"}


def call(force: str, reference: str, officer: dict[str, Any]) -> dict[str, Any]:
    return {
        "force": force,
        "task": "attend",
        "call": {"type": "asb.nuisance", "reference": reference},
        "location": {"risk_level": "low", "lpa": "birmingham-west" if force == "west-midlands" else "maidstone"},
        "officer": {"training_status": "independent", "in_uniform": True, **officer},
    }


WMP_CALL = call(
    "west-midlands", "WMP-20261125-0007", {"id": "PCSO 7001", "home_lpa": "birmingham-east", "home_neighbourhood": "stechford"}
)
KENT_CALL = call("kent", "KENT-20261125-0007", {"id": "PCSO 8001"})


def abstraction(force: str, lpa: str) -> dict[str, Any]:
    return {"force": force, "officer_id": "PCSO 7002", "home_lpa": lpa, "reason": "other", "started_at": f"{MONTH}-01T10:00:00Z"}


@dataclass
class World:
    """The records of both forces, and the app holding them."""

    client: TestClient
    policy_dir: Path
    ids: dict[str, dict[str, str]]  # force -> {"assessment", "escalation", "abstraction", "manual_abstraction"}


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    policy_dir = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, policy_dir)
    keys = ",".join(
        [api_keys()]
        + [f"{key}:{role}:kent" for role, key in KENT_KEYS.items()]
        + [f"{key}:{role}:west-midlands" for role, key in WMP_KEYS.items()]
    )
    settings = make_settings(database_url, api_keys=keys, policy_dir=policy_dir, retention_days=1)
    with TestClient(create_app(settings)) as client:
        ids: dict[str, dict[str, str]] = {}
        for force, body, lpa, dispatcher in (
            ("west-midlands", WMP_CALL, "birmingham-west", {"Authorization": f"Bearer {WMP_KEYS['dispatcher']}"}),
            ("kent", KENT_CALL, "maidstone", kent("dispatcher")),
        ):
            decided = client.post("/v1/assessments", json=body, headers=dispatcher)
            assert decided.status_code == 200, decided.text
            escalated = client.post(
                f"/v1/assessments/{decided.json()['assessment_id']}/escalations",
                json={"risk_level": "medium"},
                headers=dispatcher,
            )
            assert escalated.status_code == 200, escalated.text
            manual = client.post("/v1/abstractions", json=abstraction(force, lpa), headers=headers("planner"))
            assert manual.status_code == 201, manual.text
            ids[force] = {
                "assessment": decided.json()["assessment_id"],
                "escalation": escalated.json()["assessment_id"],
                "abstraction": decided.json()["abstraction_id"] or manual.json()["id"],
                "manual_abstraction": manual.json()["id"],
                "digest": client.get(f"/v1/policies/{force}", headers=headers("auditor")).json()["digest"],
            }
        yield World(client, policy_dir, ids)


# --- what each route must answer a Kent caller, for West Midlands data ----------------------------

Check = Callable[[Any], None]


def _refused_write(response: Any) -> None:
    """A write for West Midlands by a Kent caller whose role may write: a 403 problem naming the force."""
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/force-out-of-scope") and "west-midlands" in problem["detail"], problem


def _hidden(response: Any) -> None:
    """A read of another force's record or policy matrix: a 404, as if it did not exist."""
    assert response.status_code == 404, response.text
    assert "PCSO 7001" not in response.text and "birmingham" not in response.text


def _listed_without(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert "west-midlands" not in response.text and "birmingham" not in response.text and "WMP-" not in response.text


def _export_without(response: Any) -> None:
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[0]["type"] == "export"
    assert lines[1:] and all(line.get("chain") == "kent" for line in lines[1:])  # Kent's own entries, none of West Midlands'


def _verified_without(response: Any) -> None:
    assert response.status_code == 200 and [c["chain"] for c in response.json()["chains"]] == ["kent"]


def _not_found(response: Any) -> None:
    assert response.status_code == 404 and "west-midlands" in response.json()["detail"]


def _open(response: Any) -> None:
    assert response.status_code == 200, response.text


ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/assessments"): {"body": WMP_CALL, "check": _refused_write},
    ("GET", "/v1/assessments/{assessment_id}"): {"check": _hidden},
    ("GET", "/v1/assessments"): {"query": {"force": "west-midlands"}, "check": _listed_without},
    ("POST", "/v1/assessments/{assessment_id}/escalations"): {"body": {"risk_level": "high"}, "check": _refused_write},
    ("POST", "/v1/candidates"): {
        "body": {**{k: v for k, v in WMP_CALL.items() if k != "officer"}, "officers": [WMP_CALL["officer"]]},
        "check": _refused_write,
    },
    ("POST", "/v1/abstractions"): {"body": abstraction("west-midlands", "birmingham-west"), "check": _refused_write},
    ("GET", "/v1/abstractions/{abstraction_id}"): {"check": _hidden},
    ("POST", "/v1/abstractions/{abstraction_id}/authorisation"): {
        "body": {"authorised_by": "PS 1", "justification": "cover"},
        "check": _refused_write,
    },
    ("GET", "/v1/reports/abstractions"): {"query": {"month": MONTH}, "check": _listed_without},
    ("GET", "/v1/reports/abstractions.csv"): {"query": {"month": MONTH}, "check": _listed_without},
    ("GET", "/v1/policies/{force}/matrix"): {"check": _hidden},
    ("GET", "/v1/policies/{force}/matrix.csv"): {"check": _hidden},
    ("GET", "/v1/policies/{force}/matrix.html"): {"check": _hidden},
    ("POST", "/v1/policies/{force}/impact"): {
        "body": {"files": {"west-midlands/policy.json": json.loads((POLICY_DIR / "west-midlands" / "policy.json").read_text())}},
        "check": _hidden,
    },
    ("GET", "/v1/audit/verify"): {"check": _verified_without},
    ("GET", "/v1/audit/export"): {"check": _export_without},
    ("GET", "/v1/audit/export.ndjson"): {"check": _export_without},
    ("POST", "/v1/audit/purge"): {"body": {"older_than_days": 1, "reason": "retention schedule"}, "check": _open},
    ("POST", "/v1/policies/reload"): {"check": _refused_write},
    ("GET", "/v1/policies/{force}/versions"): {"check": _hidden},
    ("GET", "/v1/policies/{force}/versions/{digest}"): {"check": _hidden},
    ("POST", "/v1/policies/{force}/versions"): {"body": {}, "check": _refused_write},
    ("POST", "/v1/policies/{force}/versions/{digest}/approval"): {"check": _refused_write},
    ("POST", "/v1/policies/{force}/versions/{digest}/withdrawal"): {"check": _refused_write},
    ("GET", "/v1/assessments/{assessment_id}/explanation"): {"check": _hidden},
    # Published policy, health and signing keys: not any force's records.
    ("GET", "/v1/audit/public-keys"): {"check": _open},
    ("GET", "/v1/policies"): {"check": _open},
    ("GET", "/v1/policies/{force}"): {"check": _open},
    ("GET", "/v1/policies/{force}/call-types"): {"check": _open},
    ("GET", "/v1/policies/{force}/powers"): {"check": _open},
    ("GET", "/v1/policies/{force}/tasks"): {"check": _open},
    ("GET", "/healthz"): {"check": _open},
    ("GET", "/readyz"): {"check": _open},
    ("GET", "/metrics"): {"check": _open},
}


def test_every_route_is_covered() -> None:
    assert sorted(ROUTES) == sorted(EXPECTED)


def extra_role(who: dict[str, str]) -> str:
    return who["Authorization"].split()[-1][:12]


def _send(world: World, method: str, path: str, force: str, who: dict[str, str], *, extra: dict[str, Any] | None = None) -> Any:
    spec = ROUTES[(method, path)]
    ids = world.ids[force]
    concrete = (
        path.replace("{force}", force)
        .replace("{assessment_id}", ids["assessment"])
        .replace("{abstraction_id}", ids["manual_abstraction"])
        .replace("{digest}", ids["digest"])
    )
    body = spec.get("body")
    if path.endswith("/impact"):
        body = {"files": {f"{force}/policy.json": json.loads((POLICY_DIR / force / "policy.json").read_text())}}
    elif path.endswith("/versions") and method == "POST":  # a new version of the force's own policy
        policy = {**json.loads((POLICY_DIR / force / "policy.json").read_text()), "version": f"next-{extra_role(who)}"}
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        body = {"files": {f"{force}/policy.json": policy}, "effective_from": later}
    elif body is not None and force == "kent":
        body = json.loads(json.dumps(body).replace("west-midlands", "kent").replace("birmingham-west", "maidstone"))
    query = spec.get("query")
    if query is not None and force == "kent":
        query = {name: ("kent" if value == "west-midlands" else value) for name, value in query.items()}
    return world.client.request(
        method, concrete, json=body if method == "POST" else None, params=query, headers=who | (extra or {})
    )


def _prepare_reload(world: World) -> None:
    """A change to West Midlands' policy waiting in POLICY_DIR: only a caller of West Midlands may put it live."""
    rules = world.policy_dir / "west-midlands" / "rules.json"
    rules.write_text(rules.read_text(encoding="utf-8").replace('"effect": "refer"', '"effect": "refuse"', 1), encoding="utf-8")


def _wmp_unchanged(world: World, before: dict[str, Any]) -> None:
    """Everything a West Midlands auditor sees is as it was: nothing of theirs was written, purged or authorised."""
    assert _wmp_view(world) == before


def _wmp_view(world: World) -> dict[str, Any]:
    auditor = headers("auditor")
    chain = world.client.get("/v1/audit/verify", params={"force": "west-midlands"}, headers=auditor).json()
    abstraction_row = world.client.get(f"/v1/abstractions/{world.ids['west-midlands']['manual_abstraction']}", headers=auditor)
    listed = world.client.get("/v1/assessments", params={"force": "west-midlands"}, headers=auditor).json()
    policy = world.client.get("/v1/policies/west-midlands", headers=auditor).json()
    return {
        "chain": (chain["status"], chain["chains"][0]["head_seq"], chain["chains"][0]["head_digest"]),
        "abstraction": abstraction_row.json()["status"],
        "assessments": sorted(item["assessment_id"] for item in listed["items"]),
        "policy": policy["digest"],
    }


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_a_kent_caller_cannot_read_or_change_west_midlands_data(world: World, method: str, path: str) -> None:
    before = _wmp_view(world)
    if path == "/v1/policies/reload":
        _prepare_reload(world)
    for role in ROLES:
        response = _send(world, method, path, "west-midlands", kent(role))
        if EXPECTED[(method, path)][role] == 403:  # the role table still holds for scoped keys
            assert response.status_code == 403 and response.json()["type"].endswith("/forbidden"), (role, response.text)
            continue
        ROUTES[(method, path)]["check"](response)
    if path == "/v1/audit/verify":  # and a chain named outright is as unknown as one never written
        _not_found(world.client.get("/v1/audit/verify", params={"force": "west-midlands"}, headers=kent("auditor")))
    _wmp_unchanged(world, before)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_the_same_calls_for_kent_succeed(world: World, method: str, path: str) -> None:
    """The control: where the role may, a Kent caller reads and changes Kent's data."""
    authorised = False
    for role in ROLES:
        if EXPECTED[(method, path)][role] == 403:
            continue
        response = _send(world, method, path, "kent", kent(role), extra={"Idempotency-Key": f"kent-{role}"})
        if path.endswith("/authorisation") and authorised:  # authorised once, by the first role that may
            assert response.status_code == 409 and response.json()["type"].endswith("/already-authorised")
            continue
        if path.endswith("/approval"):  # past the scope: the directory's own version is not a candidate
            assert response.status_code == 409 and response.json()["errors"][0]["code"] == "not_a_candidate", response.text
            continue
        if path.endswith("/withdrawal"):  # past the scope: the version in force cannot be withdrawn
            assert response.status_code == 409 and response.json()["errors"][0]["code"] == "not_withdrawable", response.text
            continue
        assert response.status_code in (200, 201), (role, response.text)
        authorised = authorised or path.endswith("/authorisation")
        if method == "GET" and path == "/v1/assessments/{assessment_id}":
            assert response.json()["request"]["force"] == "kent"
        if path.endswith("/explanation"):
            assert response.json()["matches"] and response.json()["policy_id"] == "kent"


def test_the_scope_is_recorded_with_each_entry(world: World) -> None:
    export = world.client.get("/v1/audit/export", headers=headers("auditor"))
    entries = [json.loads(line) for line in export.text.splitlines() if json.loads(line)["type"] == "entry"]
    scopes = {(entry["force"], entry["kind"], entry["caller_scope"]) for entry in entries}
    assert ("west-midlands", "assessment", "west-midlands") in scopes
    assert ("kent", "assessment", "kent") in scopes
    assert ("kent", "abstraction", "*") in scopes  # recorded by an all-forces planner
    assert world.client.get("/v1/audit/verify", headers=headers("auditor")).json()["status"] == "intact"


def test_a_caller_of_two_forces_sees_both_and_no_more(database_url: str) -> None:
    keys = api_keys() + ",both-forces-auditor-01:auditor:kent|west-midlands,nobody-auditor-000001:auditor:north-yorkshire"
    with TestClient(create_app(make_settings(database_url, api_keys=keys))) as client:
        for body in (WMP_CALL, KENT_CALL):
            assert client.post("/v1/assessments", json=body, headers=headers("dispatcher")).status_code == 200
        both = client.get("/v1/assessments", headers={"Authorization": "Bearer both-forces-auditor-01"}).json()["items"]
        assert sorted(item["force"] for item in both) == ["kent", "west-midlands"]
        nobody = client.get("/v1/assessments", headers={"Authorization": "Bearer nobody-auditor-000001"})
        assert nobody.status_code == 200 and nobody.json()["items"] == []
        verify = client.get("/v1/audit/verify", headers={"Authorization": "Bearer nobody-auditor-000001"}).json()
        assert verify["chains"] == [] and verify["checked"] == 0
