"""Real servers: several workers share one chain on PostgreSQL; a SIGKILL loses nothing acknowledged."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from service.store import migrate
from tests.helpers import KEYS, ROOT, postgres_url, reset_postgres
from tests.servers import VENV_BIN, free_port, running, server_env, start_uvicorn, stop

pytestmark = pytest.mark.server
BODY = {
    "force": "west-midlands",
    "call": {"type": "asb.nuisance", "description": "Youths shouting outside the shops"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": True},
}
DISPATCHER = {"Authorization": f"Bearer {KEYS['dispatcher']}"}
AUDITOR = {"Authorization": f"Bearer {KEYS['auditor']}"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'durable.db'}"
    url = postgres_url()
    reset_postgres(url)
    return url


@pytest.mark.postgres
def test_four_workers_and_concurrent_clients_keep_one_chain_on_postgres() -> None:
    url = postgres_url()
    reset_postgres(url)
    clients, per_client = 8, 40
    with running(url, workers=4) as (base, _process):

        def send(n: int) -> list[str]:
            ids = []
            with httpx.Client(base_url=base, headers=DISPATCHER, timeout=30) as client:
                for i in range(per_client):
                    body = {**BODY, "call": {**BODY["call"], "reference": f"C{n}-{i}"}}
                    response = client.post("/v1/assessments", json=body)
                    assert response.status_code == 200, response.text
                    ids.append(response.json()["assessment_id"])
            return ids

        with ThreadPoolExecutor(clients) as pool:
            ids = [i for batch in pool.map(send, range(clients)) for i in batch]
        report = httpx.get(f"{base}/v1/audit/verify", headers=AUDITOR, timeout=60).json()
        statuses = {httpx.get(f"{base}/v1/assessments/{i}", headers=AUDITOR).status_code for i in ids[::25]}
    assert len(set(ids)) == clients * per_client
    assert report["status"] == "intact", report
    (chain,) = report["chains"]  # every decision was for one force: one chain, appended by four processes
    assert report["checked"] == chain["head_seq"] == clients * per_client
    assert statuses == {200}


def test_sigkill_mid_stream_loses_nothing_that_was_acknowledged(server_database: str) -> None:
    port = free_port()
    env = server_env(server_database, port)
    process = start_uvicorn(env)
    acknowledged: list[str] = []
    errors: list[str] = []
    stop_sending = threading.Event()

    def stream(worker: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=DISPATCHER, timeout=10) as client:
            n = 0
            while not stop_sending.is_set():
                n += 1
                try:
                    response = client.post(
                        "/v1/assessments", json={**BODY, "call": {**BODY["call"], "reference": f"S{worker}-{n}"}}
                    )
                except httpx.TransportError:
                    return  # the server died under us: this one was never acknowledged
                if response.status_code == 200:
                    acknowledged.append(response.json()["assessment_id"])
                else:
                    errors.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=stream, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop(process, signal.SIGKILL)
    stop_sending.set()
    for thread in threads:
        thread.join(timeout=15)
    assert len(acknowledged) >= 150 and not errors, errors[:3]

    with running(server_database) as (base, _restarted):
        with httpx.Client(base_url=base, headers=AUDITOR, timeout=30) as client:
            missing = [i for i in acknowledged if client.get(f"/v1/assessments/{i}").status_code != 200]
            report = client.get("/v1/audit/verify").json()
    assert missing == []
    assert report["status"] == "intact", report
    assert report["checked"] >= len(acknowledged)


def test_schema_check_mode_refuses_an_unmigrated_store_and_the_migrate_command_fixes_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = server_env(url, free_port(), MIGRATE_ON_START="false")
    refused = subprocess.run(
        [str(VENV_BIN / "uvicorn"), "service.main:app", "--port", env["PORT"]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "python -m service.store.migrate" in refused.stderr
    migrated = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "service.store.migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert migrated.returncode == 0 and f"database at {migrate.head_revision()}" in migrated.stdout
    with running(url, MIGRATE_ON_START="false") as (base, _process):
        assert httpx.get(f"{base}/readyz").status_code == 200
