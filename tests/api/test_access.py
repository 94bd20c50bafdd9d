"""Every route in the OpenAPI document against no key, a wrong key and each role's key."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from service.actions.access import ROLE_PERMISSIONS, Caller, KeyRing, Permission
from tests.helpers import ROOT, headers

# Expected status per route and role: the contract's role table.
EXPECTED = {
    ("POST", "/v1/assessments"): {"dispatcher": 200, "planner": 403, "auditor": 403, "admin": 200},
    ("GET", "/v1/assessments/{assessment_id}"): {"dispatcher": 404, "planner": 404, "auditor": 404, "admin": 404},
    ("GET", "/v1/assessments"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/audit/verify"): {"dispatcher": 403, "planner": 403, "auditor": 200, "admin": 200},
    ("GET", "/v1/audit/export"): {"dispatcher": 403, "planner": 403, "auditor": 200, "admin": 200},
    ("GET", "/v1/audit/export.ndjson"): {"dispatcher": 403, "planner": 403, "auditor": 200, "admin": 200},
    ("POST", "/v1/audit/purge"): {"dispatcher": 403, "planner": 403, "auditor": 403, "admin": 200},
    ("GET", "/v1/audit/public-keys"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/policies"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/policies/{force}"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/policies/{force}/call-types"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/policies/{force}/powers"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/policies/{force}/tasks"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200},
    ("POST", "/v1/assessments/{assessment_id}/escalations"): {"dispatcher": 404, "planner": 403, "auditor": 403, "admin": 404},
    ("POST", "/v1/candidates"): {"dispatcher": 200, "planner": 403, "auditor": 403, "admin": 200},
    ("POST", "/v1/abstractions"): {"dispatcher": 201, "planner": 201, "auditor": 403, "admin": 201},
    ("GET", "/v1/abstractions/{abstraction_id}"): {"dispatcher": 403, "planner": 404, "auditor": 404, "admin": 404},
    ("POST", "/v1/abstractions/{abstraction_id}/authorisation"): {
        "dispatcher": 403,
        "planner": 404,
        "auditor": 403,
        "admin": 404,
    },
    ("GET", "/v1/reports/abstractions"): {"dispatcher": 403, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/reports/abstractions.csv"): {"dispatcher": 403, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/policies/{force}/matrix"): {"dispatcher": 403, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/policies/{force}/matrix.csv"): {"dispatcher": 403, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/policies/{force}/matrix.html"): {"dispatcher": 403, "planner": 200, "auditor": 200, "admin": 200},
    ("POST", "/v1/policies/{force}/impact"): {"dispatcher": 403, "planner": 200, "auditor": 200, "admin": 200},
    ("POST", "/v1/policies/reload"): {"dispatcher": 403, "planner": 403, "auditor": 403, "admin": 200},
    ("GET", "/v1/policies/{force}/versions"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200},
    ("GET", "/v1/policies/{force}/versions/{digest}"): {"dispatcher": 404, "planner": 404, "auditor": 404, "admin": 404},
    ("POST", "/v1/policies/{force}/versions"): {"dispatcher": 403, "planner": 422, "auditor": 403, "admin": 422},
    ("POST", "/v1/policies/{force}/versions/{digest}/withdrawal"): {
        "dispatcher": 403,
        "planner": 403,
        "auditor": 403,
        "admin": 404,
    },
    ("POST", "/v1/policies/{force}/versions/{digest}/approval"): {
        "dispatcher": 403,
        "planner": 403,
        "auditor": 403,
        "admin": 404,
    },
    ("GET", "/v1/assessments/{assessment_id}/explanation"): {"dispatcher": 404, "planner": 404, "auditor": 404, "admin": 404},
    ("GET", "/healthz"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200, None: 200},
    ("GET", "/readyz"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200, None: 200},
    ("GET", "/metrics"): {"dispatcher": 200, "planner": 200, "auditor": 200, "admin": 200, None: 200},
}
BODY = {
    "force": "kent",
    "call": {"type": "asb.begging"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": True},
}


def routes() -> list[tuple[str, str]]:
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


def test_role_table_covers_every_documented_route() -> None:
    assert sorted(routes()) == sorted(EXPECTED)


BODIES = {
    "/v1/assessments": BODY,
    "/v1/audit/purge": {"older_than_days": 3650, "reason": "retention schedule"},
    "/v1/assessments/{assessment_id}/escalations": {"risk_level": "medium"},
    "/v1/candidates": {**{k: v for k, v in BODY.items() if k != "officer"}, "officers": [BODY["officer"]]},
    "/v1/abstractions": {
        "force": "west-midlands",
        "officer_id": "PCSO 1",
        "home_lpa": "birmingham-west",
        "reason": "other",
        "started_at": "2026-11-01T10:00:00Z",
    },
    "/v1/abstractions/{abstraction_id}/authorisation": {"authorised_by": "PS 1", "justification": "cover"},
    # Refused as in the past (a 422) once the role may upload: nothing is kept.
    "/v1/policies/{force}/versions": {"files": {"west-midlands/policy.json": {}}, "effective_from": "2001-01-01T00:00:00Z"},
    "/v1/policies/{force}/impact": {
        "files": {"west-midlands/policy.json": json.loads((ROOT / "policy_data" / "west-midlands" / "policy.json").read_text())}
    },
}
QUERIES = {"/v1/reports/abstractions": {"month": "2026-11"}, "/v1/reports/abstractions.csv": {"month": "2026-11"}}


def _call(client: TestClient, method: str, path: str, extra: dict[str, str]):
    concrete = (
        path.replace("{force}", "west-midlands")
        .replace("{assessment_id}", "no-such-id")
        .replace("{abstraction_id}", "no-such-id")
        .replace("{digest}", "sha256:" + "0" * 64)
    )
    return client.request(
        method, concrete, json=BODIES.get(path) if method == "POST" else None, params=QUERIES.get(path), headers=extra
    )


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_route_access(sqlite_client: TestClient, method: str, path: str) -> None:
    expected = EXPECTED[(method, path)]
    public = None in expected
    anonymous = _call(sqlite_client, method, path, {})
    wrong = _call(sqlite_client, method, path, {"Authorization": "Bearer not-a-key-at-all"})
    if public:
        assert anonymous.status_code == 200 and wrong.status_code == 200
    else:
        for response in (anonymous, wrong):
            assert response.status_code == 401
            assert response.headers["www-authenticate"].split()[0] in ("Bearer", "Basic")
            assert response.headers["content-type"] == "application/problem+json"
    for role in ("dispatcher", "planner", "auditor", "admin"):
        response = _call(sqlite_client, method, path, headers(role))
        assert response.status_code == expected[role], (role, response.text)


def test_basic_auth_scheme_is_not_a_key(sqlite_client: TestClient) -> None:
    response = sqlite_client.get("/v1/policies", headers={"Authorization": "Basic dGVzdDp0ZXN0"})
    assert response.status_code == 401


def test_keyring_identifies_by_digest_and_role() -> None:
    ring = KeyRing({"alpha-key-0000000001": "planner", "beta-key-00000000001": "admin"})
    caller = ring.identify("beta-key-00000000001")
    assert caller is not None and caller.role == "admin"
    assert caller.key_id.startswith("key-") and "beta" not in caller.key_id
    assert ring.identify("beta-key-0000000000") is None
    assert ring.identify("") is None


def test_admin_holds_every_permission_and_dispatcher_cannot_read_all() -> None:
    assert ROLE_PERMISSIONS["admin"] == frozenset(Permission)
    assert not Caller("dispatcher", "key-x").may(Permission.READ_ALL_ASSESSMENTS)
    assert Caller("auditor", "key-x").may(Permission.READ_ALL_ASSESSMENTS)


def test_key_is_never_logged(sqlite_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    sqlite_client.post("/v1/assessments", json=BODY, headers=headers("dispatcher"))
    sqlite_client.get("/v1/policies", headers={"Authorization": "Bearer leaked-key-candidate-123"})
    text = caplog.text
    assert headers("dispatcher")["Authorization"].split()[1] not in text
    assert "leaked-key-candidate-123" not in text
