"""Narrative screening: measured on the labelled corpus, and what it does to a decision."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.screening import FALSE_ALARM_TARGET, RECALL_TARGET, evaluate, is_outside_remit, load_corpus
from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.decide import decide
from service.engine.loader import PolicyLoadError, load_registry
from service.engine.policy import PolicyRegistry
from service.engine.screening import PatternError, compile_pattern, inflections, normalise
from tests.helpers import FIXED_NOW, POLICY_DIR, SCHEMA_DIR

CORPUS = load_corpus()


@pytest.mark.parametrize("force", ["west-midlands", "kent"])
def test_the_corpus_meets_the_recall_and_false_alarm_targets(registry: PolicyRegistry, force: str) -> None:
    result = evaluate(registry.sets[force].screener, CORPUS)
    assert len(CORPUS) >= 600 and result.benign >= 100
    below = {c: round(r, 3) for c, _n, _raised, r in result.rows() if is_outside_remit(c) and r < RECALL_TARGET}
    assert not below, f"2.8.3 categories below {RECALL_TARGET} recall: {below}; misses: {[result.misses[c][:3] for c in below]}"
    assert result.false_alarm_rate <= FALSE_ALARM_TARGET, result.false_alarms


def test_every_wmp_2_8_3_incident_type_has_a_category_and_corpus_narratives(registry: PolicyRegistry) -> None:
    policy = registry.sets["west-midlands"]
    outside = {code for code, c in policy.call_types.items() if c.classification == "outside_remit"}
    described = {c.describes for c in policy.screener.categories if c.describes}
    assert outside == described
    labelled = {category for _text, expected in CORPUS for category in expected}
    assert outside <= labelled


def test_the_corpus_is_well_formed() -> None:
    texts = [text for text, _ in CORPUS]
    assert len(texts) == len(set(texts)), "duplicate narratives"
    for path in sorted((Path(__file__).resolve().parents[1] / "data" / "narratives").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert set(json.loads(line)) == {"text", "expect"}, line


def _decision(
    registry: PolicyRegistry,
    description: str,
    *,
    force: str = "west-midlands",
    call_type: str = "asb.nuisance",
    task: str = "attend",
    phase: str = "in_progress",
):
    request = AssessmentInput(
        force=force,
        task=task,
        call=CallInput(type=call_type, phase=phase, description=description),
        location=LocationInput(risk_level="low"),
        officer=OfficerInput(
            id="PCSO 1", designated_powers=("require_name_address",), training_status="independent", in_uniform=True
        ),
    )
    return decide(registry.sets[force], request, now=FIXED_NOW)


# Plain descriptions of WMP 2.8.3 incidents under an in-remit call type, and the type each describes.
DESCRIBED = [
    ("man waving a hammer at people", "violence.weapons_threat"),
    ("two men have kicked a lad to the floor and are stamping on him", "serious.assault"),
    ("phone taken at knifepoint", "violence.knife_crime"),
    ("heard several gunshots", "violence.firearms"),
    ("she has just been raped", "serious.sexual_offence"),
    ("on the outside of the bridge railings saying he wants to end it all", "welfare.self_harm_in_progress"),
    ("he hit his wife and she is screaming", "domestic.abuse"),
    ("breaking into the house next door right now", "serious.burglary_in_progress"),
    ("other driver is slurring, smells of alcohol", "traffic.drink_drug_driving"),
    ("neighbour found dead in his flat", "serious.sudden_death"),
    ("says he has a bomb", "hazard.terrorism"),
]


@pytest.mark.parametrize("force", ["west-midlands", "kent"])
@pytest.mark.parametrize(("description", "incident"), DESCRIBED)
def test_a_described_incident_is_refused_as_a_first_response_citing_its_clause(
    registry: PolicyRegistry, force: str, description: str, incident: str
) -> None:
    decision = _decision(registry, description, force=force)
    assert decision.decision == "do_not_deploy"
    assert incident in {hit.describes for hit in decision.screening}
    described = [r for r in decision.reasons if r.code == "description_outside_remit"]
    assert described, decision.reasons
    # The clause cited is the first described incident type's, in catalogue order.
    policy = registry.sets[force]
    first = next(code for code in policy.call_types if code in {h.describes for h in decision.screening})
    assert described[0].citation == policy.call_types[first].citation
    assert any(f'"{word}"' in described[0].message for hit in decision.screening for word in hit.words)


@pytest.mark.parametrize(
    "description",
    [
        "youths drinking on the canal towpath",
        "woman having a panic attack",
        "kids set fire to a wheelie bin, now out",
        "kids having a water fight in the street, no issues just noisy",
        "lad shot a video of the youths on his phone",
        "knife and fork left on the bench by the bus stop",
        "no weapons seen, no injuries, all calm now",
    ],
)
def test_harmless_senses_negations_and_places_add_nothing(registry: PolicyRegistry, description: str) -> None:
    decision = _decision(registry, description)
    assert decision.screening == (), decision.screening
    assert decision.decision == _decision(registry, "").decision


def test_threatened_suicide_in_a_missing_person_search_stays_a_search(registry: PolicyRegistry) -> None:
    """Suicidal words are why a missing person is high risk: the area search allowance (WMP 2.8.3) stands."""
    decision = _decision(
        registry,
        "14yo girl, has threatened suicide, last seen in the park",
        call_type="serious.missing_high_risk",
        task="area_search",
    )
    assert decision.may_assign, decision.reasons
    assert not any(hit.describes for hit in decision.screening)
    assert "welfare.self_harm_in_progress" in {hit.category for hit in decision.screening}
    assert not any(r.code in ("violence_threatened", "confrontation_likely") for r in decision.reasons)


def test_support_after_the_event_is_not_refused_by_the_description(registry: PolicyRegistry) -> None:
    decision = _decision(registry, "man waving a hammer at people", task="house_to_house", phase="scene_secured")
    assert decision.may_assign, decision.reasons
    assert "description_outside_remit" not in {r.code for r in decision.reasons}


def test_screening_only_adds_risk(registry: PolicyRegistry) -> None:
    levels = ("deploy", "deploy_with_conditions", "refer_to_supervisor", "do_not_deploy")
    without = _decision(registry, "")
    for text, _expected in CORPUS[::5]:
        with_text = _decision(registry, text)
        assert levels.index(with_text.decision) >= levels.index(without.decision), text
        assert {c.code for c in without.conditions} <= {c.code for c in with_text.conditions}, text


def test_words_are_matched_in_every_inflection() -> None:
    assert {"stab", "stabs", "stabbed", "stabbing"} <= inflections("stab", {"stab": ["stabbed", "stabbing"]})
    assert {"kick", "kicks", "kicked", "kicking"} <= inflections("kick", {})
    assert "shot" in inflections("shoot", {"shoot": ["shot"]})
    pattern = compile_pattern("~kick * floor|ground", {})
    assert "kicked" in pattern.slots[0] and pattern.gaps == (3,)
    assert normalise("Man’s  waving a KNIFE, o/s Greggs!") == " man's waving a knife , o s greggs . "


@pytest.mark.parametrize("bad", ["* knife", "knife *", "knife *x", "Knife", "knife|", ""])
def test_malformed_patterns_are_refused(bad: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(bad, {})


def _copy_with_screening(tmp_path: Path, change) -> Path:
    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    path = target / "national" / "screening.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return target


def test_the_loader_refuses_a_category_describing_an_unknown_or_in_remit_type(tmp_path: Path) -> None:
    def change(data: dict) -> None:
        data["categories"][0]["describes"] = "violence.nonexistent"
        data["categories"][1]["describes"] = "asb.nuisance"

    with pytest.raises(PolicyLoadError) as caught:
        load_registry(_copy_with_screening(tmp_path, change), SCHEMA_DIR)
    problems = "\n".join(caught.value.problems)
    assert "/categories/0/describes: unknown call type 'violence.nonexistent'" in problems
    assert "/categories/1/describes: 'asb.nuisance' is within the remit" in problems


def _screener(patterns: list[str], *, harmless: list[str] = (), excepts: list[str] = (), common: list[str] = ()):
    from service.engine.screening import Category, Screener

    category = Category(
        code="violence.knife_crime",
        describes="violence.knife_crime",
        flags=("weapon_reported",),
        markers=(),
        patterns=tuple(compile_pattern(p, {}) for p in patterns),
        requires=(),
        excepts=tuple(compile_pattern(p, {}) for p in excepts),
        negatable=True,
        inherent_to=frozenset(),
    )
    return Screener([category], [compile_pattern(p, {}) for p in harmless], ["no", "not"], common)


@pytest.mark.parametrize("common", [[], ["knife", "pulled"], ["pulled", "knife"]])
def test_which_slot_anchors_a_pattern_changes_no_answer(common: list[str]) -> None:
    # The everyday-word ranking only decides where a pattern is looked for from.
    screener = _screener(["~pull * knife"], harmless=["knife_and_fork"], common=common)
    assert [h.words for h in screener.screen("he pulled out a knife on the lad")] == [("pulled out a knife",)]
    assert screener.screen("he pulled out a knife and fork to eat") == ()
    assert screener.screen("he has not pulled a knife") == ()
    assert screener.screen("he pulled the car over. knife block in the kitchen") == ()


def test_a_harmless_phrase_covering_any_slot_of_a_match_cancels_it() -> None:
    screener = _screener(["son|dad *5 ~lock"], harmless=["locked_himself_out"])
    assert screener.screen("elderly man locked himself out, son on the way") == ()
    assert screener.screen("son locked himself out") == ()
    assert [h.category for h in screener.screen("son has locked her in the shed")] == ["violence.knife_crime"]


def test_a_repeated_description_gets_the_same_answer_and_forget_drops_the_kept_ones(registry: PolicyRegistry) -> None:
    screener = registry.sets["west-midlands"].screener
    text = "male waving a machete outside the chippy, now running towards the park"
    first = screener.screen(text, call_type="asb.nuisance")
    assert screener.screen(text, call_type="asb.nuisance") is first
    assert screener.screen(text, call_type="missing.high_risk") == screener._screen(text, "missing.high_risk")
    screener.forget()
    again = screener.screen(text, call_type="asb.nuisance")
    assert again == first and again is not first


def test_a_long_call_log_is_screened_whole() -> None:
    screener = _screener(["~wave * knife"])
    filler = "caller says the youths have been noisy on the parade most evenings and left litter. " * 60
    assert len(filler) > 4000
    assert screener.screen(filler) == ()
    assert [h.words for h in screener.screen(filler + "now one is waving a knife")] == [("waving a knife",)]
