"""One caller can never fail another, against a real server on SQLite and PostgreSQL: requests the
store could not hold are refused with a 422 before they are queued, every normal request sent at
the same moment is decided and recorded, and the write-failure metric stays at zero; authorisations
of one abstraction sent at once by several workers give exactly one 200."""

from __future__ import annotations

import copy
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers import KEYS, make_settings
from tests.servers import running

NORMAL = {
    "force": "west-midlands",
    "call": {"type": "asb.nuisance", "reference": "WMP-1"},
    "location": {"risk_level": "low"},
    "officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": True},
}
POISON_ABSTRACTION = {
    "force": "west-midlands",
    "officer_id": "PCSO 9",
    "home_lpa": "walsall",
    "reason": "other",
    "started_at": "0001-01-01T00:00:00+14:00",
}
ROUNDS = 300


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[who]}"}


def poison(n: int) -> tuple[str, dict, str]:
    """(path, body, who): a value no store can hold, in one of the fields a hostile caller controls."""
    kind = n % 3
    if kind == 0:
        return "/v1/abstractions", POISON_ABSTRACTION, "planner"
    body = copy.deepcopy(NORMAL)
    if kind == 1:
        body["officer"]["id"] = f"PCSO\u0000{n}"
    else:
        body["call"]["reference"] = f"WMP-\u0000{n}"
    return "/v1/assessments", body, "dispatcher2"


def failures(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    match = re.search(r"^pcso_audit_write_failures_total ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_poison_beside_normal_requests_fails_no_normal_request(database_url: str) -> None:
    make_settings(database_url)  # the same store the app fixtures use
    with running(database_url, workers=2) as (base, _process):
        with httpx.Client(base_url=base, timeout=30) as client:

            def send(n: int) -> tuple[str, int]:
                if n % 2:
                    path, body, who = poison(n // 2)
                    return "poison", client.post(path, json=body, headers=bearer(who)).status_code
                body = copy.deepcopy(NORMAL)
                body["call"]["reference"] = f"WMP-{n}"
                return "normal", client.post("/v1/assessments", json=body, headers=bearer("dispatcher")).status_code

            with ThreadPoolExecutor(16) as pool:
                results = list(pool.map(send, range(2 * ROUNDS)))
            normal = [status for kind, status in results if kind == "normal"]
            refused = [status for kind, status in results if kind == "poison"]
            assert len(normal) == len(refused) == ROUNDS
            assert normal.count(200) == ROUNDS, sorted(set(normal))
            assert refused.count(422) == ROUNDS, sorted(set(refused))
            assert failures(base) == 0
            report = client.get("/v1/audit/verify", headers=bearer("auditor")).json()
            assert report["status"] == "intact" and report["checked"] == ROUNDS


@pytest.mark.parametrize("trials", [50])
def test_concurrent_authorisations_across_workers_give_exactly_one_200(database_url: str, trials: int) -> None:
    with running(database_url, workers=2) as (base, _process):
        with httpx.Client(base_url=base, timeout=30) as client:
            ids = []
            for n in range(trials):
                created = client.post(
                    "/v1/abstractions",
                    json={**POISON_ABSTRACTION, "officer_id": f"PCSO {n}", "started_at": "2026-11-02T09:00:00Z"},
                    headers=bearer("planner"),
                )
                assert created.status_code == 201, created.text
                ids.append(created.json()["id"])

            def authorise(job: tuple[str, int]) -> tuple[str, int, str]:
                abstraction_id, n = job
                response = client.post(
                    f"/v1/abstractions/{abstraction_id}/authorisation",
                    json={"authorised_by": f"PS {n}", "justification": "cover"},
                    headers=bearer("planner"),
                )
                return abstraction_id, response.status_code, response.json().get("authorised_by") or ""

            with ThreadPoolExecutor(16) as pool:
                results = list(pool.map(authorise, [(i, n) for i in ids for n in range(4)]))
            assert sorted(status for _, status, _ in results) == [200] * trials + [409] * (3 * trials)
            report = client.get("/v1/audit/verify", params={"force": "west-midlands"}, headers=bearer("auditor")).json()
            assert report["status"] == "intact"
            # Each abstraction has one recorded authorisation, by the one caller who got the 200.
            lines = client.get("/v1/audit/export", params={"force": "west-midlands"}, headers=bearer("auditor")).text
            authorisations = [line for line in lines.splitlines() if '"kind":"authorisation"' in line]
            assert len(authorisations) == trials
