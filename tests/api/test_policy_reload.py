"""POST /v1/policies/reload never drops a loaded force by accident: a policy directory that no longer holds one is a
409 naming it, the loaded policy keeps deciding, and only a body naming the force in allow_removal removes it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.helpers import POLICY_DIR, headers, make_settings

KENT_CALL = {
    "force": "kent",
    "call": {"type": "asb.nuisance", "reference": "KENT-1"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 7", "training_status": "independent", "in_uniform": True},
}


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    return target


@pytest.fixture
def reloadable(database_url: str, policy_dir: Path) -> Iterator[TestClient]:
    """The app on each back end, loading a copy of the bundled policy that the test may change."""
    with TestClient(create_app(make_settings(database_url, policy_dir=policy_dir))) as client:
        yield client


def reload(client: TestClient, body: dict[str, Any] | None = None) -> Any:
    if body is None:
        return client.post("/v1/policies/reload", headers=headers("admin"))
    return client.post("/v1/policies/reload", json=body, headers=headers("admin"))


def loaded(client: TestClient) -> list[str]:
    return sorted(policy["id"] for policy in client.get("/v1/policies", headers=headers("admin")).json())


def test_a_reload_that_would_drop_a_force_is_refused_and_the_policy_kept(reloadable: TestClient, policy_dir: Path) -> None:
    kent_digest = reloadable.get("/v1/policies/kent", headers=headers("admin")).json()["digest"]
    shutil.rmtree(policy_dir / "kent")
    for body in (None, {}, {"allow_removal": []}, {"allow_removal": ["west-midlands"]}, {"allow_removal": ["Kent"]}):
        refused = reload(reloadable, body)
        assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json", body
        problem = refused.json()
        assert problem["type"].endswith("/reload-would-remove-force") and problem["status"] == 409
        assert "kent" in problem["detail"]
        assert [(e["field"], e["code"]) for e in problem["errors"]] == [("allow_removal", "reload_would_remove_force")]
        assert "'kent'" in problem["errors"][0]["message"]
    assert loaded(reloadable) == ["kent", "west-midlands"]
    assert reloadable.get("/v1/policies/kent", headers=headers("admin")).json()["digest"] == kent_digest
    decided = reloadable.post("/v1/assessments", json=KENT_CALL, headers=headers("dispatcher"))
    assert decided.status_code == 200 and decided.json()["policy"]["id"] == "kent"


def test_every_force_that_would_go_is_named(database_url: str, policy_dir: Path) -> None:
    """Of two forces the directory no longer holds, allowing one still refuses the reload, naming the other."""
    shutil.copytree(policy_dir / "kent", policy_dir / "north-kent")
    policy_json = policy_dir / "north-kent" / "policy.json"
    policy_json.write_text(policy_json.read_text(encoding="utf-8").replace('"id": "kent"', '"id": "north-kent"', 1))
    with TestClient(create_app(make_settings(database_url, policy_dir=policy_dir))) as client:
        assert loaded(client) == ["kent", "north-kent", "west-midlands"]
        shutil.rmtree(policy_dir / "kent")
        shutil.rmtree(policy_dir / "north-kent")
        refused = reload(client)
        assert refused.status_code == 409 and "kent, north-kent" in refused.json()["detail"]
        assert len(refused.json()["errors"]) == 2
        partly = reload(client, {"allow_removal": ["kent"]})
        assert partly.status_code == 409
        assert [e["message"].split("'")[1] for e in partly.json()["errors"]] == ["north-kent"]
        assert loaded(client) == ["kent", "north-kent", "west-midlands"]
        both = reload(client, {"allow_removal": ["north-kent", "kent"]})
        assert both.status_code == 200 and both.json()["removed"] == ["kent", "north-kent"], both.text
        assert loaded(client) == ["west-midlands"]


def test_allow_removal_removes_the_named_force_and_says_so(reloadable: TestClient, policy_dir: Path) -> None:
    wmp_digest = reloadable.get("/v1/policies/west-midlands", headers=headers("admin")).json()["digest"]
    kent = policy_dir.parent / "kent-retired"
    shutil.move(policy_dir / "kent", kent)
    removed = reload(reloadable, {"allow_removal": ["kent"]})
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"policies": {"west-midlands": wmp_digest}, "changed": [], "added": [], "removed": ["kent"]}
    assert loaded(reloadable) == ["west-midlands"]
    gone = reloadable.post("/v1/assessments", json=KENT_CALL, headers=headers("dispatcher"))
    assert gone.status_code == 404 and gone.json()["errors"][0]["field"] == "force"
    # Once removed, the same reload again changes nothing; putting the force back adds it.
    again = reload(reloadable, {"allow_removal": ["kent"]})
    assert again.status_code == 200 and again.json()["removed"] == [] and again.json()["added"] == []
    shutil.move(kent, policy_dir / "kent")
    added = reload(reloadable)
    assert added.status_code == 200, added.text
    assert added.json()["added"] == ["kent"] and added.json()["removed"] == [] and added.json()["changed"] == []
    assert reloadable.post("/v1/assessments", json=KENT_CALL, headers=headers("dispatcher")).status_code == 200


def test_a_changed_force_is_reported_apart_from_added_and_removed(reloadable: TestClient, policy_dir: Path) -> None:
    rules = policy_dir / "kent" / "rules.json"
    rules.write_text(rules.read_text().replace('"not_in_uniform", "effect": "refer"', '"not_in_uniform", "effect": "refuse"'))
    changed = reload(reloadable)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["changed"], changed.json()["added"], changed.json()["removed"]) == (["kent"], [], [])


def test_the_reload_body_is_validated(sqlite_client: TestClient) -> None:
    for body, field, code in (
        ({"allow_removal": "kent"}, "allow_removal", "list_type"),
        ({"allow_removal": [7]}, "allow_removal[0]", "string_type"),
        ({"allow_removal": ["ke\x00nt"]}, "allow_removal[0]", "control_character"),
        ({"allow": ["kent"]}, "allow", "extra_forbidden"),
    ):
        response = reload(sqlite_client, body)
        assert response.status_code == 422, response.text
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)], body
    unchanged = reload(sqlite_client, {"allow_removal": ["kent"]})
    assert unchanged.status_code == 200 and unchanged.json()["removed"] == []
