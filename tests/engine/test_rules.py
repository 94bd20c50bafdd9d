"""Rule message placeholders: checked when the policy loads, and every one filled when a rule fires."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.decide import decide
from service.engine.loader import PolicyLoadError, load_registry
from service.engine.policy import MESSAGE_FIELDS
from tests.helpers import FIXED_NOW, POLICY_DIR, SCHEMA_DIR

RULES_FILE = "national/rules.json"
RULE_ID = "remit.within.attend"


def copy_with_rules(tmp_path: Path, change) -> Path:
    """A copy of policy_data/ whose national rules.json is changed in place by ``change(data)``."""
    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    path = target / RULES_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return target


def _position(data: dict, rule_id: str) -> int:
    return next(n for n, rule in enumerate(data["rules"]) if rule["id"] == rule_id)


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("{call_type_name} is within the PCSO remit; ask {coach_name}.", "coach_name"),
        ("Refer {task_name", "not a valid template"),
    ],
    ids=["unknown placeholder", "unbalanced brace"],
)
def test_a_message_decide_cannot_fill_stops_the_loading(tmp_path: Path, message: str, named: str) -> None:
    original = json.loads((POLICY_DIR / RULES_FILE).read_text(encoding="utf-8"))
    position = _position(original, RULE_ID)
    policy_dir = copy_with_rules(tmp_path, lambda data: data["rules"][position].update(message=message))
    with pytest.raises(PolicyLoadError) as caught:
        load_registry(policy_dir, SCHEMA_DIR)
    pointer = f"/rules/{position}/message"
    offending = [p for p in caught.value.problems if RULES_FILE in p and f": {pointer}: " in p and named in p]
    assert offending, caught.value.problems
    if named == "coach_name":
        assert all("{coach_name}" in p for p in offending)


# A condition that names every placeholder decide() fills, on a call that raises a marker from its
# description, for a task needing a power the officer lacks, away from the officer's home area.
EVERY_PLACEHOLDER = " | ".join(f"{name}=<{{{name}}}>" for name in MESSAGE_FIELDS)
PROBE = {
    "id": "test.every_placeholder",
    "code": "every_placeholder",
    "effect": "condition",
    "cite": "app_limited_tasks",
    "when": {"call_types": ["asb.nuisance"], "markers": ["drugs"]},
    "message": EVERY_PLACEHOLDER,
}
REQUEST = AssessmentInput(
    force="west-midlands",
    task="traffic_control",
    call=CallInput(type="asb.nuisance", description="Needles left by the bins behind the shops. A man found dead in the alley"),
    location=LocationInput(risk_level="low", lpa="birmingham-west", neighbourhood="ladywood"),
    officer=OfficerInput(id="PCSO 1", training_status="independent", home_lpa="coventry", home_neighbourhood="foleshill"),
)


def test_a_message_using_every_placeholder_loads_and_decide_fills_each(tmp_path: Path) -> None:
    assert set(MESSAGE_FIELDS) == {
        "call_type_name",
        "task_name",
        "evidence",
        "markers",
        "missing_powers",
        "abstraction",
        "described",
    }
    registry = load_registry(copy_with_rules(tmp_path, lambda data: data["rules"].append(PROBE)), SCHEMA_DIR)
    policy = registry.sets[REQUEST.force]
    decision = decide(policy, REQUEST, now=FIXED_NOW)
    finding = next(c for c in decision.conditions if c.code == "every_placeholder")
    assert "{" not in finding.message and "}" not in finding.message, finding.message
    filled = dict(re.findall(r"(\w+)=<(.*?)>", finding.message))
    assert set(filled) == set(MESSAGE_FIELDS), finding.message
    assert filled == {
        "call_type_name": policy.call_types["asb.nuisance"].name,
        "task_name": policy.tasks["traffic_control"].name,
        "evidence": ' (the call description says "needles")',
        "markers": "drugs",
        "missing_powers": "traffic.direct",
        "abstraction": "incident in birmingham-west / ladywood, home coventry / foleshill",
        "described": f'{policy.call_types["serious.sudden_death"].name.lower()} ("found dead", "dead")',
    }, finding.message
    assert all(filled.values())
