"""Decision time when the policy grows a hundredfold: a synthetic policy with 100x the call types and rules.

Each bundled West Midlands call type is cloned 99 times (`asb.nuisance.v7` ...), and each rule
99 times as a rule limited to one clone group's call types, so the policy has a hundred times the
call types and rules of the real one. The same requests are decided under both.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.decide import decide
from service.engine.loader import load_registry
from service.engine.policy import PolicySet

ROOT = Path(__file__).resolve().parents[1]
FACTOR = 100
_NOW = datetime(2026, 11, 23, tzinfo=UTC)


def synthetic_policy_dir(target: Path, factor: int = FACTOR) -> Path:
    """A copy of policy_data/ whose west-midlands set is ``factor`` times larger."""
    shutil.copytree(ROOT / "policy_data", target)
    force = target / "west-midlands"
    call_types = json.loads((force / "call-types.json").read_text())
    originals = call_types["call_types"]
    clones = [{**entry, "code": f"{entry['code']}.v{n}"} for n in range(1, factor) for entry in originals]
    call_types["call_types"] = originals + clones
    (force / "call-types.json").write_text(json.dumps(call_types))
    rules = json.loads((force / "rules.json").read_text())
    national = json.loads((target / "national" / "rules.json").read_text())
    extra = []
    for n in range(1, factor):
        group = [f"{entry['code']}.v{n}" for entry in originals]
        for source, base in ((rules, rules), (national, national)):
            for rule in source["rules"]:
                if rule.get("fallback"):
                    continue
                clone = {**rule, "id": f"{rule['id']}.v{n}", "when": {**rule["when"], "call_types": group}}
                if "cite" in clone:
                    clone["citation"] = base["citations"][clone.pop("cite")]
                extra.append(clone)
    rules["rules"] = rules["rules"] + extra
    (force / "rules.json").write_text(json.dumps(rules))
    return target


def requests_for(policy: PolicySet) -> list[AssessmentInput]:
    officer = OfficerInput(
        id="PCSO 1", designated_powers=("require_name_address",), training_status="independent", in_uniform=True
    )
    codes = [code for code in policy.call_types if ".v" not in code]
    return [
        AssessmentInput(
            force=policy.id,
            task=task,
            call=CallInput(type=code, description="Youths shouting by the shops"),
            location=LocationInput(risk_level="medium"),
            officer=officer,
        )
        for code in codes
        for task in ("attend", "house_to_house")
    ]


def median_us(policy: PolicySet, requests: list[AssessmentInput], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        for request in requests:
            began = time.perf_counter_ns()
            decide(policy, request, now=_NOW)
            samples.append((time.perf_counter_ns() - began) / 1000)
    return statistics.median(samples)


def growth(rounds: int = 5) -> dict[str, float]:
    base = load_registry(ROOT / "policy_data", ROOT / "schemas").sets["west-midlands"]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        grown = load_registry(synthetic_policy_dir(Path(tmp) / "policy_data"), ROOT / "schemas").sets["west-midlands"]
        load_seconds = time.perf_counter() - started
    requests = requests_for(base)
    small = median_us(base, requests, rounds)
    large = median_us(grown, requests, rounds)
    return {
        "call_types": (len(base.call_types), len(grown.call_types)),
        "rules": (base.rule_count, grown.rule_count),
        "median_us": (small, large),
        "ratio": large / small,
        "grown_load_seconds": load_seconds,
    }


if __name__ == "__main__":
    print(json.dumps(growth()))
