"""Faults: PostgreSQL stopped under a running service, then back; nothing unrecorded is ever answered."""

from __future__ import annotations

import os
import subprocess
import time

import httpx
import pytest

from tests.helpers import KEYS, postgres_url, reset_postgres
from tests.servers import running

pytestmark = [pytest.mark.postgres, pytest.mark.server]
BODY = {
    "force": "west-midlands",
    "call": {"type": "asb.nuisance"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": True},
}
DISPATCHER = {"Authorization": f"Bearer {KEYS['dispatcher']}"}
AUDITOR = {"Authorization": f"Bearer {KEYS['auditor']}"}


def cluster(action: str) -> None:
    command = ["pg_ctlcluster", "15", "main", action] + (["-m", "fast"] if action == "stop" else [])
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    if action == "start":
        for _ in range(60):
            if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError("PostgreSQL did not come back")


def test_store_outage_gives_503s_and_the_service_recovers_without_a_restart() -> None:
    url = postgres_url()
    reset_postgres(url)
    answered: list[str] = []
    with running(url) as (base, _process), httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(5):
            response = client.post("/v1/assessments", json=BODY, headers=DISPATCHER)
            assert response.status_code == 200
            answered.append(response.json()["assessment_id"])
        cluster("stop")
        try:
            during = [client.post("/v1/assessments", json=BODY, headers=DISPATCHER) for _ in range(5)]
            assert {r.status_code for r in during} == {503}
            assert all(r.headers["content-type"] == "application/problem+json" and "decision" not in r.json() for r in during)
            ready = client.get("/readyz")
            assert ready.status_code == 503 and "store" in ready.json()["detail"]
            assert client.get("/v1/audit/verify", headers=AUDITOR).status_code == 503
        finally:
            cluster("start")
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert client.get("/readyz").status_code == 200
        for _ in range(5):
            response = client.post("/v1/assessments", json=BODY, headers=DISPATCHER)
            assert response.status_code == 200, response.text
            answered.append(response.json()["assessment_id"])
        report = client.get("/v1/audit/verify", headers=AUDITOR).json()
        missing = [i for i in answered if client.get(f"/v1/assessments/{i}", headers=AUDITOR).status_code != 200]
    assert report["status"] == "intact" and report["checked"] == len(answered) == 10
    assert missing == []
