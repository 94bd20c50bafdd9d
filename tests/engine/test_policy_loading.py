"""Loading policy data: valid data compiles; broken data is refused, naming the file and the path."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.engine.loader import PolicyLoadError, load_registry
from service.engine.policy import FLAGS, MARKERS, TASKS, PolicyRegistry
from service.main import create_app
from tests.helpers import POLICY_DIR, SCHEMA_DIR, headers, make_settings

CONTRACT_CALL_TYPES = """violence.in_progress violence.weapons_threat violence.knife_crime violence.firearms violence.affray_disorder
domestic.abuse domestic.stalking_suspect_present welfare.self_harm_in_progress welfare.mental_health_crisis serious.sexual_offence
serious.assault serious.child_abuse serious.missing_high_risk serious.sudden_death serious.burglary_in_progress
serious.robbery_in_progress public_order.riot public_order.hostile_protest public_order.counter_protest public_order.crowd_disorder
suspect.fleeing suspect.warrant suspect.order_breach suspect.premises_search traffic.serious_collision traffic.fatal_collision
traffic.live_lane traffic.drink_drug_driving hazard.terrorism hazard.cbrn hazard.water_rescue hazard.dangerous_animal
hazard.collapse_fire""".split()
CONTRACT_WITHIN = """asb.personal asb.nuisance asb.environmental asb.street_drinking asb.underage_drinking asb.begging
asb.vehicle_nuisance asb.abandoned_vehicle crime.criminal_damage_minor crime.theft_low_value crime.non_crime_report
patrol.reassurance patrol.sensitive_location community.engagement traffic.damage_only_collision""".split()
CONTRACT_POWERS = """penalty.disorder penalty.cycling_on_footway penalty.litter penalty.dog_control penalty.graffiti_flyposting
penalty.pspo_breach penalty.byelaw require_name_address detain_pending_constable dispersal_direction community_protection_notice
alcohol.pspo_surrender alcohol.confiscate_young_person tobacco.seize_under_16 drugs.seize entry.save_life_or_limb
entry.licensed_premises vehicle.seize_antisocial_use vehicle.remove_abandoned traffic.direct traffic.place_signs
truancy.remove""".split()
CONTRACT_EXCLUDED = "arrest stop_search custody_officer intimate_search rank_power terrorism national_security".split()


def test_bundled_policy_loads_both_forces(registry: PolicyRegistry) -> None:
    assert {"west-midlands", "kent"} <= set(registry.sets)
    wmp, kent = registry.sets["west-midlands"], registry.sets["kent"]
    assert (wmp.version, wmp.effective_from.isoformat(), wmp.review_due.isoformat()) == ("2.0", "2026-04-01", "2028-04-01")
    assert kent.review_due.isoformat() == "2024-02-01"
    assert wmp.digest.startswith("sha256:") and wmp.digest != kent.digest


@pytest.mark.parametrize("force", ["west-midlands", "kent"])
def test_catalogues_hold_the_contract_minimum(registry: PolicyRegistry, force: str) -> None:
    policy = registry.sets[force]
    for code in CONTRACT_CALL_TYPES:
        assert policy.call_types[code].classification == "outside_remit", code
    for code in CONTRACT_WITHIN:
        assert policy.call_types[code].classification == "within_remit", code
    assert set(CONTRACT_POWERS) <= set(policy.powers)
    assert set(CONTRACT_EXCLUDED) == set(policy.excluded_powers)
    assert tuple(policy.tasks) == TASKS


def test_compiled_policy_is_read_only(registry: PolicyRegistry) -> None:
    policy = registry.sets["west-midlands"]
    with pytest.raises(TypeError):
        policy.call_types["asb.nuisance"] = policy.call_types["asb.personal"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        policy.version = "9"  # type: ignore[misc]


def test_load_is_deterministic() -> None:
    first = load_registry(POLICY_DIR, SCHEMA_DIR)
    second = load_registry(POLICY_DIR, SCHEMA_DIR)
    assert first.digest == second.digest


def test_rule_vocabulary_matches_the_engine() -> None:
    common = json.loads((SCHEMA_DIR / "common.schema.json").read_text())
    assert tuple(common["$defs"]["flag"]["enum"]) == FLAGS
    assert tuple(common["$defs"]["marker"]["enum"]) == MARKERS
    assert tuple(common["$defs"]["task"]["enum"]) == TASKS


# --- broken copies of the policy directory ------------------------------------------------------


def broken_copy(tmp_path: Path, file: str, change: Callable[[Any], Any] | str) -> Path:
    """A copy of policy_data/ with one file changed (its JSON mutated in place by a function, or replaced by text)."""
    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    path = target / file
    if isinstance(change, str):
        path.write_text(change, encoding="utf-8")
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return target


def refusal(policy_dir: Path) -> str:
    with pytest.raises(PolicyLoadError) as caught:
        load_registry(policy_dir, SCHEMA_DIR)
    return str(caught.value)


def _rule(data: dict, rule_id: str) -> dict:
    return next(rule for rule in data["rules"] if rule["id"] == rule_id)


BROKEN = [
    ("invalid json", "kent/rules.json", '{"rules": [', ["kent/rules.json", "not valid JSON"]),
    ("duplicate key", "kent/policy.json", '{"id": "kent", "id": "kent"}', ["kent/policy.json", "duplicate key"]),
    (
        "unknown flag in a rule",
        "west-midlands/rules.json",
        lambda d: _rule(d, "flag.safeguarding")["when"].update(flags=["knife_seen"]),
        ["west-midlands/rules.json", "/rules/", "/when/flags/0", "knife_seen"],
    ),
    (
        "rule citing nothing",
        "west-midlands/rules.json",
        lambda d: _rule(d, "flag.safeguarding").pop("citation"),
        ["west-midlands/rules.json", "/rules/"],
    ),
    (
        "misquoted clause",
        "west-midlands/rules.json",
        lambda d: d["citations"]["wmp_2_8_1"].update(quote="PCSOs may be deployed to anything."),
        ["west-midlands/rules.json", "/citations/wmp_2_8_1/quote", "quote not found word for word in WMP 2.8.1"],
    ),
    (
        "quote from another clause",
        "west-midlands/rules.json",
        lambda d: d["citations"]["wmp_2_8_1"].update(clause="2.8.2"),
        ["west-midlands/rules.json", "/citations/wmp_2_8_1/quote", "WMP 2.8.2"],
    ),
    (
        "clause that does not exist",
        "kent/rules.json",
        lambda d: d["citations"]["kent_5_6_3"].update(clause="5.6.99"),
        ["kent/rules.json", "/citations/kent_5_6_3/clause", "no clause '5.6.99'"],
    ),
    (
        "unknown document",
        "kent/tasks.json",
        lambda d: d["tasks"][0]["citation"].update(document="kent-o99"),
        ["kent/tasks.json", "/tasks/0/citation/document", "kent-o99"],
    ),
    (
        "unknown power in a call type",
        "west-midlands/call-types.json",
        lambda d: d["call_types"][40]["relevant_powers"].append("tasers"),
        ["west-midlands/call-types.json", "/call_types/40/relevant_powers"],
    ),
    (
        "call type with a bad class",
        "kent/call-types.json",
        lambda d: d["call_types"][0].update(classification="sometimes"),
        ["kent/call-types.json", "/call_types/0/classification"],
    ),
    (
        "missing review date",
        "west-midlands/policy.json",
        lambda d: d.pop("review_due"),
        ["west-midlands/policy.json", "review_due"],
    ),
    (
        "unknown cite name",
        "kent/rules.json",
        lambda d: _rule(d, "grade.emergency").update(cite="kent_9_9_9"),
        ["kent/rules.json", "/cite", "kent_9_9_9"],
    ),
    (
        "no fallback rule",
        "national/rules.json",
        lambda d: _rule(d, "remit.no_rule_permits").update(fallback=False),
        ["rules.json", "fallback"],
    ),
]


@pytest.mark.parametrize(("label", "file", "change", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_policy_is_refused_naming_file_and_path(
    tmp_path: Path, label: str, file: str, change: Any, expected: list[str]
) -> None:
    message = refusal(broken_copy(tmp_path, file, change))
    for part in expected:
        assert part in message, (part, message)


def test_unexpected_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    (target / "kent" / "rules-old.json").write_text("{}", encoding="utf-8")
    assert "kent/rules-old.json" in refusal(target)


def test_missing_policy_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    (target / "kent" / "policy.json").unlink()
    assert "kent/policy.json: /: missing" in refusal(target)


def test_altered_source_document_is_refused(tmp_path: Path) -> None:
    """A document whose words change no longer holds the quotes cited from it, even when the index's
    SHA-256 is updated to match (the unchanged-hash case is test_sources.py's)."""
    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    source = target / "sources" / "kent-o38b.txt"
    source.write_text(
        source.read_text(encoding="utf-8").replace(
            "PCSOs will not be deployed to a high-risk incident", "PCSOs may be deployed to a high-risk incident"
        ),
        encoding="utf-8",
    )
    index_path = target / "sources" / "index.json"
    index = json.loads(index_path.read_text(encoding="utf-8"))
    next(d for d in index["documents"] if d["id"] == "kent-o38b")["sha256"] = hashlib.sha256(source.read_bytes()).hexdigest()
    index_path.write_text(json.dumps(index), encoding="utf-8")
    assert "Kent O38b 5.6.3" in refusal(target)


def test_reload_swaps_a_valid_policy_and_keeps_the_old_one_when_invalid(tmp_path: Path) -> None:
    policy_dir = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, policy_dir)
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'reload.db'}", policy_dir=policy_dir))
    with TestClient(app) as client:
        before = client.get("/v1/policies/kent", headers=headers("admin")).json()["digest"]
        assert client.post("/v1/policies/reload", headers=headers("auditor")).status_code == 403
        rules = policy_dir / "kent" / "rules.json"
        rules.write_text(rules.read_text().replace('"not_in_uniform", "effect": "refer"', '"not_in_uniform", "effect": "refuse"'))
        changed = client.post("/v1/policies/reload", headers=headers("admin"))
        assert changed.status_code == 200 and changed.json()["changed"] == ["kent"]
        after = client.get("/v1/policies/kent", headers=headers("admin")).json()["digest"]
        assert after != before and after == changed.json()["policies"]["kent"]
        rules.write_text('{"rules": [')
        refused = client.post("/v1/policies/reload", headers=headers("admin"))
        assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
        assert "kent/rules.json" in refused.json()["errors"][0]["message"]
        assert client.get("/v1/policies/kent", headers=headers("admin")).json()["digest"] == after
        body = {
            "force": "kent",
            "call": {"type": "asb.begging"},
            "location": {"risk_level": "low"},
            "officer": {"id": "P", "training_status": "independent", "in_uniform": False},
        }
        assert client.post("/v1/assessments", json=body, headers=headers("dispatcher")).json()["decision"] == "do_not_deploy"
