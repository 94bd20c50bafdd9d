"""What integrators expect: offline docs, idempotent posts, request ids, JSON logs, metrics, limits."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service.main import create_app
from service.store.database import make_engine
from service.store.records import AuditStore
from tests.helpers import KEYS, headers, make_settings
from tests.servers import free_port, server_env, start_uvicorn, stop

BODY = {
    "force": "west-midlands",
    "call": {"type": "asb.nuisance", "reference": "WMP-5", "description": "Youths shouting outside the shops"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 4521", "training_status": "independent", "in_uniform": True},
}
EXTERNAL = re.compile(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", re.IGNORECASE)


def rows(database_url: str, table: str = "audit_record") -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return count


# --- docs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_everything_from_the_service(sqlite_client: TestClient, path: str) -> None:
    page = sqlite_client.get(path)
    assert page.status_code == 200
    assert not EXTERNAL.search(page.text), page.text
    assets = re.findall(r"(?:src|href)=[\"'](/docs-assets/[^\"']+)", page.text)
    assert assets
    for asset in assets:
        response = sqlite_client.get(asset)
        assert response.status_code == 200 and len(response.content) > 1000, asset


def test_swagger_console_keeps_the_key_and_shows_timings(sqlite_client: TestClient) -> None:
    page = sqlite_client.get("/docs").text
    assert '"persistAuthorization": true' in page and '"validatorUrl": null' in page


# --- idempotency --------------------------------------------------------------------------------


def test_retry_with_the_same_key_returns_the_recorded_decision(client: TestClient, database_url: str) -> None:
    key = {"Idempotency-Key": "cad-7f3a-0001"}
    first = client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key})
    again = client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert rows(database_url) == 1
    changed = {**BODY, "call": {**BODY["call"], "type": "violence.knife_crime"}}
    reused = client.post("/v1/assessments", json=changed, headers={**headers("dispatcher"), **key})
    assert reused.status_code == 422 and reused.json()["errors"][0]["code"] == "idempotency_key_reused"
    other_caller = client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher2"), **key})
    assert other_caller.status_code == 200 and other_caller.json()["assessment_id"] != first.json()["assessment_id"]
    assert rows(database_url) == 2


def test_a_duplicate_while_the_first_is_in_progress_is_a_409(client: TestClient, database_url: str) -> None:
    key = {"Idempotency-Key": "cad-7f3a-0002"}
    seen = client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key})
    assert seen.status_code == 200
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE idempotency_key SET status = 'in_progress', updated_at = :now"), {"now": datetime.now(UTC)}
        )
    in_progress = client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key})
    assert in_progress.status_code == 409 and in_progress.headers["content-type"] == "application/problem+json"
    # A claim whose request died long ago is taken over by the retry.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE idempotency_key SET updated_at = :old"), {"old": datetime.now(UTC) - timedelta(minutes=5)}
        )
    engine.dispose()
    retried = client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key})
    assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers


def test_a_key_is_scoped_to_the_endpoint(client: TestClient, database_url: str) -> None:
    # A CAD system that uses its incident number as the key of an assessment and of a candidates request.
    key = {"Idempotency-Key": "INC-2026-004417"}
    candidates = {k: v for k, v in BODY.items() if k != "officer"} | {
        "officers": [BODY["officer"], {**BODY["officer"], "id": "PCSO 2"}]
    }
    assessed = client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key})
    ranked = client.post("/v1/candidates", json=candidates, headers={**headers("dispatcher"), **key})
    assert assessed.status_code == ranked.status_code == 200, ranked.text
    assert "idempotent-replayed" not in assessed.headers and "idempotent-replayed" not in ranked.headers
    assert rows(database_url) == 3
    assessed_again = client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key})
    ranked_again = client.post("/v1/candidates", json=candidates, headers={**headers("dispatcher"), **key})
    assert assessed_again.headers["idempotent-replayed"] == ranked_again.headers["idempotent-replayed"] == "true"
    assert assessed_again.json() == assessed.json() and ranked_again.json() == ranked.json()
    assert rows(database_url) == 3 and rows(database_url, "idempotency_key") == 2
    # On one endpoint the key still stands for one request.
    changed = {**BODY, "call": {**BODY["call"], "type": "violence.knife_crime"}}
    reused = client.post("/v1/assessments", json=changed, headers={**headers("dispatcher"), **key})
    assert reused.status_code == 422 and reused.json()["errors"][0]["code"] == "idempotency_key_reused"
    fewer = {**candidates, "officers": candidates["officers"][:1]}
    reused = client.post("/v1/candidates", json=fewer, headers={**headers("dispatcher"), **key})
    assert reused.status_code == 422 and reused.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert rows(database_url) == 3


def test_the_idempotency_key_header_declares_its_rules(sqlite_client: TestClient) -> None:
    for path in ("/v1/assessments", "/v1/candidates", "/v1/assessments/{assessment_id}/escalations"):
        operation = sqlite_client.get("/openapi.json").json()["paths"][path]["post"]
        (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and header["required"] is False
        schema = header["schema"]
        assert schema["type"] == "string" and "anyOf" not in schema
        assert (schema["minLength"], schema["maxLength"]) == (1, 255)
        assert re.fullmatch(schema["pattern"], "INC-2026/004417~x") and not re.search(schema["pattern"], "with space")


def test_concurrent_duplicates_record_once(client: TestClient, database_url: str) -> None:
    key = {"Idempotency-Key": "cad-7f3a-0003"}
    results: list[int] = []

    def post() -> None:
        results.append(client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key}).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) <= {200, 409} and 200 in results
    assert rows(database_url) == 1


def test_failed_recording_releases_the_key(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    unreachable = AuditStore(make_engine("postgresql+psycopg://nobody:nothing@127.0.0.1:9/none"))
    key = {"Idempotency-Key": "cad-7f3a-0004"}
    with TestClient(app) as test_client:
        working, app.state.store = app.state.store, unreachable
        failed = test_client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key})
        assert failed.status_code == 503 and failed.headers["retry-after"] == "1"
        metrics = test_client.get("/metrics").text
        assert "pcso_audit_write_failures_total 1.0" in metrics
        app.state.store = working
        retried = test_client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), **key})
        assert retried.status_code == 200
    assert rows(sqlite_url) == 1


def test_candidates_are_idempotent_too(client: TestClient, database_url: str) -> None:
    body = {k: v for k, v in BODY.items() if k != "officer"} | {
        "officers": [BODY["officer"], {**BODY["officer"], "id": "PCSO 2"}]
    }
    key = {"Idempotency-Key": "cad-7f3a-0005"}
    first = client.post("/v1/candidates", json=body, headers={**headers("dispatcher"), **key})
    again = client.post("/v1/candidates", json=body, headers={**headers("dispatcher"), **key})
    assert first.status_code == 200 and again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert rows(database_url) == 2


@pytest.mark.parametrize("bad_key", [b"", b"a" * 256, b"with space", "é".encode()])
def test_malformed_idempotency_key_is_a_422(sqlite_client: TestClient, bad_key: bytes) -> None:
    response = sqlite_client.post("/v1/assessments", json=BODY, headers={**headers("dispatcher"), "Idempotency-Key": bad_key})
    assert response.status_code == 422


# --- request ids, metrics, readiness, limits ---------------------------------------------------


def test_request_id_is_echoed_or_generated(sqlite_client: TestClient) -> None:
    assert sqlite_client.get("/healthz", headers={"X-Request-ID": "cad-req-42"}).headers["x-request-id"] == "cad-req-42"
    generated = sqlite_client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    unsafe = sqlite_client.get("/healthz", headers={"X-Request-ID": "x" * 200}).headers["x-request-id"]
    assert unsafe != "x" * 200 and re.fullmatch(r"[0-9a-f]{32}", unsafe)
    assert sqlite_client.get("/nowhere").headers["x-request-id"]


def test_metrics_count_decisions_and_report_the_policy(sqlite_client: TestClient) -> None:
    sqlite_client.post("/v1/assessments", json=BODY, headers=headers("dispatcher"))
    sqlite_client.post("/v1/assessments", json={**BODY, "call": {"type": "violence.knife_crime"}}, headers=headers("dispatcher"))
    metrics = sqlite_client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text_ = metrics.text
    assert 'pcso_decisions_total{decision="deploy",force="west-midlands"} 1.0' in text_
    assert 'pcso_decisions_total{decision="do_not_deploy",force="west-midlands"} 1.0' in text_
    assert 'pcso_request_duration_seconds_count{method="POST",route="/v1/assessments",status="200"} 2.0' in text_
    assert re.search(
        r'pcso_policy_info\{digest="sha256:[0-9a-f]{64}",force="kent",version="O38b \(reviewed February 2022\)"\} 1.0', text_
    )
    assert 'pcso_policy_past_review{force="kent"} 1.0' in text_


def test_readyz_fails_when_the_store_is_unreachable(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    with TestClient(app) as test_client:
        assert test_client.get("/readyz").status_code == 200
        app.state.store = AuditStore(make_engine("postgresql+psycopg://nobody:nothing@127.0.0.1:9/none"))
        response = test_client.get("/readyz")
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    assert "store" in response.json()["detail"] and response.headers["retry-after"] == "1"


@contextmanager
def write_lock(database_url: str) -> Iterator[None]:
    """Hold the store's write lock from another connection, as a long writer would."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database_url)
    with engine.connect() as connection:
        # Reads go on; every write to the chains' heads waits.
        connection.execute(text("LOCK TABLE audit_chain, chain_head IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def test_a_store_that_cannot_take_writes_answers_503_with_retry_after_and_recovers(database_url: str) -> None:
    with TestClient(create_app(make_settings(database_url, store_wait_seconds=1))) as client:
        assert client.post("/v1/assessments", json=BODY, headers=headers("dispatcher")).status_code == 200
        with write_lock(database_url):
            started = time.monotonic()
            blocked = client.post("/v1/assessments", json=BODY, headers=headers("dispatcher"))
            waited = time.monotonic() - started
            assert blocked.status_code == 503 and blocked.headers["content-type"] == "application/problem+json"
            assert blocked.headers["retry-after"] == "1"
            # It gave up after the store wait, not the far longer time callers allow a batch.
            assert 0.9 <= waited < 5, waited
            started = time.monotonic()
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.headers["retry-after"] == "1"
            assert "cannot take writes" in ready.json()["detail"] and time.monotonic() - started < 5
            assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert client.post("/v1/assessments", json=BODY, headers=headers("dispatcher")).status_code == 200
        assert client.get("/v1/audit/verify", headers=headers("auditor")).json()["status"] == "intact"
    assert rows(database_url) == 2


def test_the_503_problems_declare_retry_after(sqlite_client: TestClient) -> None:
    document = sqlite_client.get("/openapi.json").json()
    unavailable = [
        operation["responses"]["503"]
        for item in document["paths"].values()
        for operation in item.values()
        if "503" in operation["responses"]
    ]
    assert len(unavailable) > 10
    assert all(response["headers"]["Retry-After"]["schema"]["type"] == "integer" for response in unavailable)


def test_oversized_bodies_are_413_and_nothing_is_recorded(sqlite_client: TestClient, sqlite_url: str) -> None:
    big = {**BODY, "call": {**BODY["call"], "description": "x" * 2_000_000}}
    declared = sqlite_client.post("/v1/assessments", json=big, headers=headers("dispatcher"))
    assert declared.status_code == 413 and declared.json()["status"] == 413
    chunked = sqlite_client.post(
        "/v1/assessments",
        content=(b"x" * 65536 for _ in range(40)),
        headers={**headers("dispatcher"), "Content-Type": "application/json"},
    )
    assert chunked.status_code == 413
    long_description = {**BODY, "call": {**BODY["call"], "description": "y" * 4001}}
    assert sqlite_client.post("/v1/assessments", json=long_description, headers=headers("dispatcher")).status_code == 422
    assert rows(sqlite_url) == 0


# --- logs, through a real server ----------------------------------------------------------------


def test_one_json_log_line_per_request_with_its_request_id_and_no_secrets(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'logs.db'}", port)
    process = start_uvicorn(env)
    try:
        base = f"http://127.0.0.1:{port}"
        answer = httpx.post(f"{base}/v1/assessments", json=BODY, headers={**headers("dispatcher"), "X-Request-ID": "trace-0001"})
        assert answer.status_code == 200
        httpx.get(
            f"{base}/v1/policies", headers={"Authorization": "Bearer wrong-key-should-not-appear", "X-Request-ID": "trace-0002"}
        )
    finally:
        stop(process)
    process_stderr = process.stderr_text  # type: ignore[attr-defined]
    lines = [json.loads(line) for line in process_stderr.splitlines() if line.startswith("{")]
    access = {line["request_id"]: line for line in lines if line.get("logger") == "service.access"}
    decided = access["trace-0001"]
    assert decided["status"] == 200 and decided["decision"] == "deploy" and decided["policy_version"] == "2.0"
    assert decided["officer_id"] == "PCSO 4521" and decided["latency_ms"] > 0 and decided["route"] == "/v1/assessments"
    assert access["trace-0002"]["status"] == 401
    for secret in (KEYS["dispatcher"], "wrong-key-should-not-appear", "Youths shouting", "WMP-5"):
        assert secret not in process_stderr


def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'workers.db'}", port, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    process = start_uvicorn(env, workers=2)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=headers("dispatcher")) as client:
            for _ in range(20):
                assert client.post("/v1/assessments", json=BODY).status_code == 200
            scrapes = {client.get("/metrics").text for _ in range(6)}
    finally:
        stop(process)
    for scrape in scrapes:
        assert 'pcso_decisions_total{decision="deploy",force="west-midlands"} 20.0' in scrape
