"""The audit chain on SQLite and PostgreSQL: tampering is caught, pages are stable, purges keep it verifiable."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.helpers import Clock, headers

BODY = {
    "force": "west-midlands",
    "call": {"type": "asb.nuisance", "reference": "WMP-1"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": True},
}


def assess(client: TestClient, who: str = "dispatcher", **changes: object) -> dict:
    body = copy.deepcopy(BODY)
    for path, value in changes.items():
        section, _, key = path.partition("__")
        if key:
            body[section][key] = value
        else:
            body[section] = value
    response = client.post("/v1/assessments", json=body, headers=headers(who))
    assert response.status_code == 200, response.text
    return response.json()


def execute(database_url: str, *statements: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def verify(client: TestClient, force: str = "west-midlands", **params: int) -> dict:
    """The report on one force's chain."""
    response = client.get("/v1/audit/verify", params={"force": force, **params}, headers=headers("auditor"))
    assert response.status_code == 200, response.text
    body = response.json()
    (report,) = body["chains"]
    assert report["chain"] == force and report["status"] == body["status"]
    if report["broken"] is not None:
        assert report["broken"].pop("chain") == force
    return report


@pytest.fixture
def six(client: TestClient) -> list[dict]:
    return [assess(client, call__reference=f"WMP-{n}") for n in range(6)]


def test_intact_chain_verifies(client: TestClient, six: list[dict]) -> None:
    report = verify(client)
    assert report["status"] == "intact" and report["checked"] == 6
    assert (report["first_seq"], report["last_seq"], report["head_seq"]) == (1, 6, 6)
    assert verify(client, from_seq=2, to_seq=4)["checked"] == 3


def test_altered_decision_is_detected(client: TestClient, database_url: str, six: list[dict]) -> None:
    execute(
        database_url,
        "UPDATE audit_record SET response_json = replace(response_json, '\"deploy\"', '\"do_not_deploy\"') WHERE seq = 3",
    )
    report = verify(client)
    assert report["status"] == "broken"
    assert report["broken"]["seq"] == 3 and report["broken"]["kind"] == "altered"
    assert report["checked"] == 2
    assert verify(client, from_seq=1, to_seq=2)["status"] == "intact"


def test_altered_metadata_is_detected(client: TestClient, database_url: str, six: list[dict]) -> None:
    execute(database_url, "UPDATE audit_record SET officer_id = 'PCSO 9' WHERE seq = 5")
    assert verify(client)["broken"] == {"seq": 5, "kind": "altered", "detail": verify(client)["broken"]["detail"]}


def test_deleted_row_is_detected(client: TestClient, database_url: str, six: list[dict]) -> None:
    execute(database_url, "DELETE FROM audit_record WHERE seq = 4")
    broken = verify(client)["broken"]
    assert broken["seq"] == 4 and broken["kind"] == "missing"


def test_deleted_newest_row_is_detected(client: TestClient, database_url: str, six: list[dict]) -> None:
    execute(database_url, "DELETE FROM audit_record WHERE seq = 6")
    broken = verify(client)["broken"]
    assert broken["seq"] == 6 and broken["kind"] == "missing"


def test_deleted_and_renumbered_row_is_detected(client: TestClient, database_url: str, six: list[dict]) -> None:
    execute(
        database_url,
        "DELETE FROM audit_record WHERE seq = 2",
        "UPDATE audit_record SET chain_seq = chain_seq - 1 WHERE seq = 3",
        "UPDATE audit_record SET chain_seq = chain_seq - 1 WHERE seq = 4",
        "UPDATE audit_record SET chain_seq = chain_seq - 1 WHERE seq = 5",
        "UPDATE audit_record SET chain_seq = chain_seq - 1 WHERE seq = 6",
        "UPDATE audit_chain SET seq = 5",
    )
    broken = verify(client)["broken"]
    assert broken["seq"] == 2 and broken["kind"] == "missing"


def test_swapped_rows_are_detected(client: TestClient, database_url: str, six: list[dict]) -> None:
    execute(
        database_url,
        "UPDATE audit_record SET chain_seq = -1 WHERE chain_seq = 2",
        "UPDATE audit_record SET chain_seq = 2 WHERE chain_seq = 3",
        "UPDATE audit_record SET chain_seq = 3 WHERE chain_seq = -1",
    )
    broken = verify(client)["broken"]
    assert broken["seq"] == 2 and broken["kind"] == "reordered"


def test_rewritten_digest_is_detected(client: TestClient, database_url: str, six: list[dict]) -> None:
    execute(
        database_url,
        "UPDATE audit_record SET digest = 'sha256:' || repeat('ab', 32) WHERE seq = 2"
        if "postgresql" in database_url
        else "UPDATE audit_record SET digest = 'sha256:abab' WHERE seq = 2",
    )
    broken = verify(client)["broken"]
    assert broken["seq"] == 2 and broken["kind"] == "altered"


def test_range_that_starts_after_a_gap_is_missing(client: TestClient, database_url: str, six: list[dict]) -> None:
    execute(database_url, "DELETE FROM audit_record WHERE seq = 3")
    broken = verify(client, from_seq=4)["broken"]
    assert broken["kind"] == "missing"


# --- listing and export ---------------------------------------------------------------------


def test_list_is_newest_first_with_a_stable_cursor(client: TestClient) -> None:
    ids = [assess(client, call__reference=f"R{n}")["assessment_id"] for n in range(7)]
    first = client.get("/v1/assessments", params={"limit": 3}, headers=headers("planner")).json()
    assert [item["assessment_id"] for item in first["items"]] == ids[::-1][:3]
    newer = assess(client)["assessment_id"]
    second = client.get("/v1/assessments", params={"limit": 3, "cursor": first["next_cursor"]}, headers=headers("planner")).json()
    assert [item["assessment_id"] for item in second["items"]] == ids[::-1][3:6]
    third = client.get("/v1/assessments", params={"limit": 3, "cursor": second["next_cursor"]}, headers=headers("planner")).json()
    assert [item["assessment_id"] for item in third["items"]] == ids[:1] and third["next_cursor"] is None
    top = client.get("/v1/assessments", params={"limit": 1}, headers=headers("planner")).json()
    assert top["items"][0]["assessment_id"] == newer


def test_list_filters(client: TestClient) -> None:
    assess(client)
    assess(client, call__type="violence.knife_crime")
    assess(client, officer={"id": "PCSO 2", "training_status": "independent", "in_uniform": True})
    assess(client, force="kent")
    refused = client.get("/v1/assessments", params={"decision": "do_not_deploy"}, headers=headers("auditor")).json()["items"]
    assert [i["call_type"] for i in refused] == ["violence.knife_crime"]
    officer = client.get("/v1/assessments", params={"officer_id": "PCSO 2"}, headers=headers("auditor")).json()["items"]
    assert len(officer) == 1 and officer[0]["officer_id"] == "PCSO 2"
    kent = client.get("/v1/assessments", params={"force": "kent"}, headers=headers("auditor")).json()["items"]
    assert len(kent) == 1 and kent[0]["policy_version"].startswith("O38b")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert client.get("/v1/assessments", params={"from": future}, headers=headers("auditor")).json()["items"] == []
    assert len(client.get("/v1/assessments", params={"to": future}, headers=headers("auditor")).json()["items"]) == 4


def test_dispatchers_list_only_their_own(client: TestClient) -> None:
    mine = assess(client, "dispatcher")["assessment_id"]
    theirs = assess(client, "dispatcher2")["assessment_id"]
    listed = client.get("/v1/assessments", headers=headers("dispatcher")).json()["items"]
    assert [i["assessment_id"] for i in listed] == [mine]
    all_ids = [i["assessment_id"] for i in client.get("/v1/assessments", headers=headers("planner")).json()["items"]]
    assert set(all_ids) == {mine, theirs}


@pytest.mark.parametrize("cursor", ["garbage", "eyJiZWZvcmUiOiAiYSJ9", "e30"])
def test_malformed_cursor_is_a_422(client: TestClient, cursor: str) -> None:
    response = client.get("/v1/assessments", params={"cursor": cursor}, headers=headers("auditor"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cursor"


def test_list_rejects_bad_filters(client: TestClient) -> None:
    for params in ({"limit": 0}, {"limit": 501}, {"decision": "maybe"}, {"from": "yesterday"}):
        assert client.get("/v1/assessments", params=params, headers=headers("auditor")).status_code == 422


def test_export_is_ndjson_with_chain_fields(client: TestClient, six: list[dict]) -> None:
    response = client.get("/v1/audit/export", headers=headers("auditor"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    entries = [line for line in lines if line["type"] == "entry"]
    assert [line["seq"] for line in entries] == [1, 2, 3, 4, 5, 6]
    assert [line["chain_seq"] for line in entries] == [1, 2, 3, 4, 5, 6] and {line["chain"] for line in entries} == {
        "west-midlands"
    }
    assert entries[1]["prev_digest"] == entries[0]["digest"]
    assert entries[0]["response"]["assessment_id"] == six[0]["assessment_id"]
    assert json.loads(entries[0]["response_json"]) == entries[0]["response"]
    # The export ends with a signature over the chain's newest entry, made as it was exported.
    (head,) = [line for line in lines if line["type"] == "signature" and line["reason"] == "export"]
    assert (head["chain"], head["chain_seq"], head["digest"]) == ("west-midlands", 6, entries[-1]["digest"])
    assert lines[-1] == head
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert [
        json.loads(line)["type"]
        for line in client.get("/v1/audit/export", params={"from": later}, headers=headers("auditor")).text.splitlines()
    ] == ["export"]  # the header alone: no entry, so nothing to sign


# --- retention ------------------------------------------------------------------------------


def test_purge_keeps_what_remains_verifiable_and_is_recorded(clocked: tuple[TestClient, Clock], database_url: str) -> None:
    client, clock = clocked
    old = [assess(client)["assessment_id"] for _ in range(3)]
    clock.now = datetime(2026, 6, 1, tzinfo=UTC)
    recent = [assess(client)["assessment_id"] for _ in range(2)]
    clock.now = datetime(2026, 11, 1, tzinfo=UTC)
    assert (
        client.post(
            "/v1/audit/purge", json={"reason": "Records Review, Retention and Disposal"}, headers=headers("auditor")
        ).status_code
        == 403
    )
    response = client.post("/v1/audit/purge", json={"reason": "Records Review, Retention and Disposal"}, headers=headers("admin"))
    assert response.status_code == 200, response.text
    purge = response.json()
    assert purge["purged"] == 3 and purge["through_seq"] == 3
    for assessment_id in old:
        assert client.get(f"/v1/assessments/{assessment_id}", headers=headers("auditor")).status_code == 404
    for assessment_id in recent:
        assert client.get(f"/v1/assessments/{assessment_id}", headers=headers("auditor")).status_code == 200
    report = verify(client)
    assert report["status"] == "intact" and report["checkpoint_seq"] == 3 and report["checked"] == 3
    lines = [json.loads(line) for line in client.get("/v1/audit/export", headers=headers("auditor")).text.splitlines()]
    exported = [line for line in lines if line["type"] == "entry"]
    assert exported[-1]["kind"] == "purge" and exported[-1]["response"]["purged"] == 3
    # The purge left a checkpoint and signed the chain's head as it stood after it.
    (checkpoint,) = [line for line in lines if line["type"] == "checkpoint"]
    assert checkpoint["through_chain_seq"] == 3 and checkpoint["purge_record_id"] == exported[-1]["id"]
    assert [(s["chain_seq"], s["digest"]) for s in lines if s["type"] == "signature" and s["reason"] == "purge"] == [
        (exported[-1]["chain_seq"], exported[-1]["digest"])
    ]
    assert exported[-1]["request"]["reason"] == "Records Review, Retention and Disposal"
    # Nothing to purge the second time, and the chain still verifies.
    again = client.post("/v1/audit/purge", json={"reason": "again"}, headers=headers("admin")).json()
    assert again["purged"] == 0 and verify(client)["status"] == "intact"
    execute(database_url, "UPDATE audit_checkpoint SET digest = 'sha256:forged' WHERE through_chain_seq = 3")
    assert verify(client)["status"] == "broken"


def test_purge_without_a_period_is_a_422(client: TestClient) -> None:
    response = client.post("/v1/audit/purge", json={"reason": "tidy"}, headers=headers("admin"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "older_than_days"
