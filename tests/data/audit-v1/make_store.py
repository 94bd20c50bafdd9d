"""How tests/data/audit-v1/store.db was written: by the service as it stood before one chain per force (schema 0003), run from the repository root. Kept as the record of that fixture; it cannot be rerun against later code."""
import copy, sys
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, '.')
from fastapi.testclient import TestClient
from service.api.deps import get_clock
from service.main import create_app
from tests.helpers import headers, make_settings
target = Path('tests/data/audit-v1/store.db')
target.unlink(missing_ok=True)
class Clock:
    now = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
    def __call__(self): return self.now
clock = Clock()
app = create_app(make_settings(f"sqlite:///{target}", retention_days=365))
app.dependency_overrides[get_clock] = lambda: clock
BODY = {"force": "west-midlands", "call": {"type": "asb.nuisance", "reference": "WMP-1"}, "location": {"risk_level": "low"},
        "officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": True}}
with TestClient(app) as c:
    def post(path, body, who="dispatcher", **kw):
        r = c.post(path, json=body, headers=headers(who), **kw); assert r.status_code in (200, 201), r.text; return r.json()
    for n in range(3):
        b = copy.deepcopy(BODY); b["call"]["reference"] = f"WMP-OLD-{n}"; post("/v1/assessments", b)
    clock.now = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    kent = copy.deepcopy(BODY); kent["force"] = "kent"; kent["call"]["reference"] = "KENT-7"
    first = post("/v1/assessments", kent, "dispatcher2")
    out = copy.deepcopy(BODY); out["call"]["reference"] = "WMP-21"; out["officer"].update(home_lpa="birmingham-east", home_neighbourhood="stechford"); out["location"].update(lpa="birmingham-west", neighbourhood="ladywood")
    print("abstracting", post("/v1/assessments", out)["abstraction_id"])
    b = copy.deepcopy(BODY); b["call"]["reference"] = "WMP-20"; a = post("/v1/assessments", b, headers=None) if False else post("/v1/assessments", b)
    r = c.post(f"/v1/assessments/{a['assessment_id']}/escalations", json={"flags": ["weapon_reported"], "description": "One of them has pulled a knife"}, headers=headers("dispatcher"))
    print('escalation', r.status_code)
    ab = post("/v1/abstractions", {"force": "west-midlands", "officer_id": "PCSO 2", "home_lpa": "Birmingham East", "reason": "other",
        "started_at": "2026-03-02T10:00:00Z", "hours": 4}, "planner")
    print('abstraction', ab.get('id') or ab)
    clock.now = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    r = c.post(f"/v1/abstractions/{ab['id']}/authorisation", json={"authorised_by": "Insp 4471 Khan", "justification": "Response short after a major incident"}, headers=headers("planner"))
    print('authorise', r.status_code, r.text[:200])
    r = c.post("/v1/assessments", json=b, headers={**headers("dispatcher"), "Idempotency-Key": "CAD-2026-0042"})
    print('idem', r.status_code)
    clock.now = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    r = c.post("/v1/audit/purge", json={"reason": "Records Review, Retention and Disposal"}, headers=headers("admin")); print('purge', r.json())
    print(c.get("/v1/audit/verify", headers=headers("auditor")).json())
