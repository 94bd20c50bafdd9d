"""Forces never wait on each other: one force's chain head held in an open PostgreSQL transaction
does not stop another force's decisions from being committed and answered.

Each force has its own audit chain and, on PostgreSQL, its own writer (service/store/chain.py
ChainWriters), which locks only its own chain's head row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.helpers import headers, make_settings, postgres_url, reset_postgres

pytestmark = pytest.mark.postgres


def call(force: str, reference: str) -> dict[str, object]:
    return {
        "force": force,
        "call": {"type": "asb.nuisance", "reference": reference},
        "location": {"risk_level": "low"},
        "officer": {"id": "PCSO 9", "training_status": "independent", "in_uniform": True},
    }


@pytest.fixture
def client() -> Iterator[TestClient]:
    url = postgres_url()
    reset_postgres(url)
    with TestClient(create_app(make_settings(url, store_wait_seconds=2))) as test_client:
        yield test_client


def test_a_held_chain_head_does_not_stop_another_forces_decisions(client: TestClient) -> None:
    for force in ("kent", "west-midlands"):  # both chains exist
        assert client.post("/v1/assessments", json=call(force, "FIRST"), headers=headers("dispatcher")).status_code == 200
    dsn = postgres_url().replace("postgresql+psycopg://", "postgresql://")
    holder = psycopg.connect(dsn)
    kent_answer: dict[str, object] = {}
    try:
        holder.execute("UPDATE audit_chain SET updated_at = now() WHERE chain = 'kent'")  # an open transaction holds Kent's head

        def kent() -> None:
            started = time.monotonic()
            response = client.post("/v1/assessments", json=call("kent", "KENT-HELD"), headers=headers("dispatcher"))
            kent_answer.update(status=response.status_code, seconds=time.monotonic() - started, body=response.json())

        waiting = threading.Thread(target=kent)
        waiting.start()
        time.sleep(0.3)  # Kent's writer is now waiting on the lock
        answered = []
        for n in range(10):
            started = time.monotonic()
            response = client.post("/v1/assessments", json=call("west-midlands", f"WMP-{n}"), headers=headers("dispatcher"))
            answered.append(time.monotonic() - started)
            assert response.status_code == 200, response.text
        assert waiting.is_alive(), "Kent's decision should still be waiting on its held chain head"
        print(f"West Midlands while Kent's head is held: max {max(answered) * 1000:.1f} ms over {len(answered)} decisions")
        assert max(answered) < 1.0  # far below the 2 s store wait Kent is held for
        waiting.join(timeout=30)
    finally:
        holder.rollback()
        holder.close()
    # Kent's decision could not be recorded while its head was held: a 503, never an unrecorded answer.
    assert kent_answer["status"] == 503 and kent_answer["seconds"] >= 1.5, kent_answer
    assert client.post("/v1/assessments", json=call("kent", "KENT-AFTER"), headers=headers("dispatcher")).status_code == 200
    listed = client.get("/v1/assessments", params={"limit": 50}, headers=headers("auditor")).json()["items"]
    references = {item["call_reference"] for item in listed}
    assert "KENT-HELD" not in references and {"KENT-AFTER", "WMP-9"} <= references
    assert client.get("/v1/audit/verify", headers=headers("auditor")).json()["status"] == "intact"
