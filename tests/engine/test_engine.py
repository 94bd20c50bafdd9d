"""Engine behaviour that the decision cases do not show directly."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.decide import check_request, decide, decide_outcome
from service.engine.loader import load_registry
from service.engine.policy import TASKS, PolicyRegistry
from tests.helpers import FIXED_NOW, POLICY_DIR, SCHEMA_DIR

OFFICER = OfficerInput(
    id="PCSO 7", designated_powers=("traffic.direct", "require_name_address"), training_status="independent", in_uniform=True
)


def request(force: str = "west-midlands", call_type: str = "asb.nuisance", **call: object) -> AssessmentInput:
    return AssessmentInput(
        force=force, call=CallInput(type=call_type, **call), location=LocationInput(risk_level="low"), officer=OFFICER
    )


def test_fallback_refers_when_no_rule_permits(tmp_path: Path) -> None:
    policy_dir = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, policy_dir)
    rules_path = policy_dir / "national" / "rules.json"
    data = json.loads(rules_path.read_text())
    data["rules"] = [r for r in data["rules"] if r["id"] != "remit.within.attend"]
    rules_path.write_text(json.dumps(data))
    policy = load_registry(policy_dir, SCHEMA_DIR).sets["west-midlands"]
    decision = decide(policy, request(), now=FIXED_NOW)
    assert decision.decision == "refer_to_supervisor"
    assert [r.code for r in decision.reasons] == ["no_rule_permits"]
    assert decision.reasons[0].citation.quote


def test_kent_out_of_uniform_cannot_use_a_power_the_task_needs(registry: PolicyRegistry) -> None:
    kent = registry.sets["kent"]
    base = replace(request("kent", "traffic.damage_only_collision"), task="traffic_control")
    in_uniform = decide(kent, base, now=FIXED_NOW)
    assert in_uniform.may_assign
    out = decide(kent, replace(base, officer=replace(OFFICER, in_uniform=False)), now=FIXED_NOW)
    assert out.decision == "do_not_deploy"
    assert out.reasons[0].code == "required_power_not_held" and out.reasons[0].citation.label == "Kent O38b 5.9.2"
    assert [p.code for p in out.limits.powers_suspended] == ["traffic.direct", "require_name_address"]
    assert out.limits.powers_available == ()


def test_emergency_grade_does_not_cancel_the_missing_person_area_search(registry: PolicyRegistry) -> None:
    wmp = registry.sets["west-midlands"]
    search = replace(request(call_type="serious.missing_high_risk", grade="emergency"), task="area_search")
    decision = decide(wmp, search, now=FIXED_NOW)
    assert decision.decision == "deploy_with_conditions"
    attend = decide(wmp, replace(search, task="attend"), now=FIXED_NOW)
    assert attend.decision == "do_not_deploy"


def test_refused_support_task_is_offered_again_once_the_scene_is_secured(registry: PolicyRegistry) -> None:
    decision = decide(
        registry.sets["west-midlands"], replace(request(call_type="serious.assault"), task="scene_guard"), now=FIXED_NOW
    )
    assert decision.decision == "do_not_deploy"
    assert ("scene_guard", "scene_secured") in [(a.task, a.phase) for a in decision.alternatives]
    assert all(a.citation.label == "WMP 2.8.2" for a in decision.alternatives)


def test_description_words_are_quoted_and_only_tighten(registry: PolicyRegistry) -> None:
    wmp = registry.sets["west-midlands"]
    plain = decide(wmp, request(description="Youths playing football against a garage door"), now=FIXED_NOW)
    armed = decide(wmp, request(description="One of the youths has a KNIFE and a machete"), now=FIXED_NOW)
    assert plain.decision == "deploy" and plain.screening == ()
    assert armed.decision == "do_not_deploy"
    weapon = next(r for r in armed.reasons if r.code == "weapon_reported")
    assert '"knife"' in weapon.message and '"machete"' in weapon.message
    assert "description_risk_indicators" in [w.code for w in armed.warnings]


def test_given_flag_is_not_attributed_to_the_description(registry: PolicyRegistry) -> None:
    decision = decide(
        registry.sets["west-midlands"],
        request(flags=frozenset({"weapon_reported"}), description="man with a knife"),
        now=FIXED_NOW,
    )
    weapon = next(r for r in decision.reasons if r.code == "weapon_reported")
    assert "description" not in weapon.message


def test_abstraction_is_flagged_or_warned(registry: PolicyRegistry) -> None:
    wmp = registry.sets["west-midlands"]
    unknown = decide(wmp, request(), now=FIXED_NOW)
    assert "abstraction_not_checked" in [w.code for w in unknown.warnings]
    away = replace(
        request(),
        location=LocationInput(risk_level="low", lpa="coventry", neighbourhood="x"),
        officer=replace(OFFICER, home_lpa="Birmingham-West", home_neighbourhood="x"),
    )
    decision = decide(wmp, away, now=FIXED_NOW)
    assert "abstraction_out_of_area" in [c.code for c in decision.conditions]
    home = replace(away, officer=replace(OFFICER, home_lpa=" COVENTRY ", home_neighbourhood="X"))
    assert "abstraction_out_of_area" not in [c.code for c in decide(wmp, home, now=FIXED_NOW).conditions]


def test_kent_decisions_warn_about_review_date_and_classification(registry: PolicyRegistry) -> None:
    decision = decide(registry.sets["kent"], request("kent"), now=FIXED_NOW)
    codes = [w.code for w in decision.warnings]
    assert "policy_past_review_date" in codes and "classification_not_in_force_document" in codes
    assert decision.policy.past_review_date is True
    wmp = decide(registry.sets["west-midlands"], request(), now=FIXED_NOW)
    assert wmp.policy.past_review_date is False


def test_check_request_names_excluded_and_unknown_powers(registry: PolicyRegistry) -> None:
    bad = replace(request(), officer=replace(OFFICER, designated_powers=("arrest", "require_name_address", "teleport")))
    problems = check_request(registry.sets["west-midlands"], bad)
    assert [(p.field[-1], p.code) for p in problems] == [(0, "power_not_designatable"), (2, "unknown_power")]
    assert "Schedule 3B, Part 1, paragraph 1" in problems[0].message


def test_decision_is_deterministic_for_the_same_inputs(registry: PolicyRegistry) -> None:
    wmp = registry.sets["west-midlands"]
    first = decide(wmp, request(description="man with a knife"), now=FIXED_NOW)
    second = decide(wmp, request(description="man with a knife"), now=FIXED_NOW)
    assert first == second and first.decided_at == FIXED_NOW


def test_decide_outcome_agrees_with_decide_everywhere(registry: PolicyRegistry) -> None:
    checked = 0
    for force, policy in registry.sets.items():
        for call_type in list(policy.call_types) + ["unknown.code"]:
            for task in TASKS:
                for phase in ("in_progress", "scene_secured"):
                    request = replace(request_for(force, call_type, phase), task=task)
                    full = decide(policy, request, now=FIXED_NOW)
                    decision, deciding = decide_outcome(policy, request)
                    assert (decision, deciding.code, deciding.citation) == (
                        full.decision,
                        full.reasons[0].code,
                        full.reasons[0].citation,
                    )
                    checked += 1
    assert checked == 2 * 49 * 10 * 2


def request_for(force: str, call_type: str, phase: str) -> AssessmentInput:
    return AssessmentInput(
        force=force, call=CallInput(type=call_type, phase=phase), location=LocationInput(risk_level="medium"), officer=OFFICER
    )
