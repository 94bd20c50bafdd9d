"""The proofs a candidate policy must pass before approval (service/engine/proofs.py).

The bundled policies pass every property. Edits that break a property are refused with the rule's
id and a counterexample that the engine itself confirms. And the encoding the proofs reason over
is tested against decide.py on generated requests, so a proof is a proof about the real engine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.api.schemas.assessments import AssessmentRequest
from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.decide import decide
from service.engine.loader import load_registry
from service.engine.policy import FLAGS, MARKERS, PHASES, RISK_LEVELS, SETTINGS, TASKS, TRAINING_STATUSES, PolicyRegistry
from service.engine.proofs import encoded_decision, loosened, prove, source_texts
from tests.helpers import FIXED_NOW, POLICY_DIR, ROOT, SCHEMA_DIR

TEXTS = source_texts(POLICY_DIR, SCHEMA_DIR)


@pytest.mark.parametrize("force", ["west-midlands", "kent"])
def test_the_bundled_policies_pass_every_property(registry: PolicyRegistry, force: str) -> None:
    started = time.perf_counter()
    report = prove(registry.sets[force], TEXTS)
    print(f"{force}: proved in {time.perf_counter() - started:.2f} s")
    assert report.holds, report.failures()
    assert [p.name for p in report.properties] == [
        "monotonicity",
        "first_response_refused",
        "citations_verbatim",
        "messages_fillable",
    ]


def edited(tmp_path: Path, force: str, change: Callable[[dict[str, Any]], None]) -> PolicyRegistry:
    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    rules_file = target / force / "rules.json"
    rules = json.loads(rules_file.read_text(encoding="utf-8"))
    change(rules)
    rules_file.write_text(json.dumps(rules, indent=2), encoding="utf-8")
    return load_registry(target, SCHEMA_DIR)


def rule(rules: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(entry for entry in rules["rules"] if entry["id"] == rule_id)


def request_of(body: dict[str, Any]) -> AssessmentInput:
    return AssessmentRequest.model_validate(body).to_engine()


def test_an_edit_that_breaks_monotonicity_is_refused_with_a_counterexample(tmp_path: Path) -> None:
    """High-risk first responses refused only at medium risk: raising the risk to high then loosens the decision."""
    registry = edited(
        tmp_path, "west-midlands", lambda rules: rule(rules, "risk.high.first_response")["when"].update(risk_levels=["medium"])
    )
    policy = registry.sets["west-midlands"]
    report = prove(policy, TEXTS)
    monotonicity = report.properties[0]
    assert not report.holds and not monotonicity.holds and report.properties[1].holds
    assert monotonicity.counterexamples
    for example in monotonicity.counterexamples:
        assert example.riskier_request is not None
        before, after = request_of(example.request), request_of(example.riskier_request)
        # The engine, not the solver, shows the loosening.
        assert loosened(decide(policy, before, now=FIXED_NOW), decide(policy, after, now=FIXED_NOW)), example
    # Where only the risk level rises, the rule that stops firing is the one edited; elsewhere the rules named are the
    # ones whose tests differ between the two requests (the edit shows as a high-risk call no longer refused).
    by_risk = [
        e
        for e in monotonicity.counterexamples
        if e.request["location"]["risk_level"] != e.riskier_request["location"]["risk_level"]
    ]  # type: ignore[index]
    assert by_risk and all(e.rule_ids == ("risk.high.first_response",) for e in by_risk)
    assert all(
        (e.request["location"]["risk_level"], e.riskier_request["location"]["risk_level"]) == ("medium", "high") for e in by_risk
    )  # type: ignore[index]
    assert any("risk.high.first_response" in line for line in report.failures())


def test_a_refusal_narrowed_to_a_less_active_phase_is_refused(tmp_path: Path) -> None:
    """Support tasks at an unsecured outside-remit scene refused only while 'recent': 'in progress' then loosens it."""
    registry = edited(
        tmp_path, "kent", lambda rules: rule(rules, "remit.outside.support_unsecured")["when"].update(phases=["recent"])
    )
    policy = registry.sets["kent"]
    examples = prove(policy, TEXTS).properties[0].counterexamples
    assert examples and all("remit.outside.support_unsecured" in example.rule_ids for example in examples)
    for example in examples:
        assert example.riskier_request is not None
        assert (example.request["call"]["phase"], example.riskier_request["call"]["phase"]) == ("recent", "in_progress")
        before, after = request_of(example.request), request_of(example.riskier_request)
        assert decide(policy, before, now=FIXED_NOW).decision == "do_not_deploy"
        assert loosened(decide(policy, before, now=FIXED_NOW), decide(policy, after, now=FIXED_NOW))


def test_an_edit_that_lets_a_2_8_3_incident_be_a_first_response_is_refused(tmp_path: Path) -> None:
    """The refusal of outside-remit incidents narrowed to emergencies: any other grade is no longer refused."""

    def narrow(rules: dict[str, Any]) -> None:
        national = json.loads((POLICY_DIR / "national" / "rules.json").read_text(encoding="utf-8"))
        attend = rule(national, "remit.outside.attend")  # the force's own rule of that id replaces the inherited one
        rules["rules"].append({**attend, "when": {**attend["when"], "grades": ["emergency"]}})

    registry = edited(tmp_path, "west-midlands", narrow)
    policy = registry.sets["west-midlands"]
    result = prove(policy, TEXTS).properties[1]
    assert result.name == "first_response_refused" and not result.holds and result.counterexamples
    for example in result.counterexamples[:10]:
        assert decide(policy, request_of(example.request), now=FIXED_NOW).decision != "do_not_deploy"
        assert example.request["call"].get("grade") != "emergency"


def test_a_message_the_engine_cannot_fill_is_refused(registry: PolicyRegistry) -> None:
    from dataclasses import replace

    policy = registry.sets["kent"]
    index = policy.rules_for_unknown
    broken = replace(index.static[0], message="Unknown {placeholder}")
    patched = replace(policy, rules_for_unknown=replace(index, static=(broken, *index.static[1:])))
    result = prove(patched, TEXTS).properties[3]
    assert not result.holds and result.counterexamples[0].rule_ids == (broken.id,)


@st.composite
def requests(draw: st.DrawFn, registry: PolicyRegistry) -> AssessmentInput:
    force = draw(st.sampled_from(sorted(registry.sets)))
    policy = registry.sets[force]
    home = draw(st.sampled_from([None, ("a", "b"), ("a", "c"), ("z", "b")]))
    return AssessmentInput(
        force=force,
        task=draw(st.sampled_from(TASKS)),
        call=CallInput(
            type=draw(st.sampled_from([*sorted(policy.call_types), "unknown.call_type"])),
            phase=draw(st.sampled_from(PHASES)),
            grade=draw(st.sampled_from([None, "resolution_without_deployment", "scheduled", "priority", "emergency"])),
            flags=frozenset(draw(st.sets(st.sampled_from(FLAGS)))),
        ),
        location=LocationInput(
            risk_level=draw(st.sampled_from(RISK_LEVELS)),
            markers=frozenset(draw(st.sets(st.sampled_from(MARKERS)))),
            setting=draw(st.sampled_from(SETTINGS)),
            lpa=home[0] if home else None,
            neighbourhood=home[1] if home else None,
        ),
        officer=OfficerInput(
            id="P",
            designated_powers=tuple(draw(st.sets(st.sampled_from(sorted(policy.powers)), max_size=5))),
            training_status=draw(st.sampled_from(TRAINING_STATUSES)),
            in_uniform=draw(st.booleans()),
            authorised_driver=draw(st.booleans()),
            cycle_trained=draw(st.booleans()),
            home_lpa="a" if home else None,
            home_neighbourhood="b" if home else None,
        ),
    )


REGISTRY = load_registry(POLICY_DIR, SCHEMA_DIR)


@settings(max_examples=400, deadline=None)
@given(request=requests(REGISTRY))
def test_the_encoding_decides_as_the_engine_does(request: AssessmentInput) -> None:
    """What the proofs reason over is decide.py: for generated requests the encoded decision is the engine's."""
    policy = REGISTRY.sets[request.force]
    assert encoded_decision(policy, request) == decide(policy, request, now=FIXED_NOW).decision


def test_the_validate_command_proves_and_refuses(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "service", "validate"]
    env = {"PATH": "/usr/bin:/bin", "ENVIRONMENT": "development"}
    ok = subprocess.run([*command, str(POLICY_DIR)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("monotonicity: holds") == 2 and "proved in" in ok.stdout
    edited(
        tmp_path, "west-midlands", lambda rules: rule(rules, "risk.high.first_response")["when"].update(risk_levels=["medium"])
    )
    broken = subprocess.run(
        [*command, str(tmp_path / "policy_data"), "--force", "west-midlands"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert broken.returncode == 1
    assert "risk.high.first_response" in broken.stderr and "counterexample request" in broken.stderr


def test_support_tasks_at_an_unsecured_outside_remit_scene_must_be_refused(tmp_path: Path) -> None:
    """Letting a scene guard attend an in-progress firearms incident breaks the 2.8.3 property too."""

    policy = edited(
        tmp_path, "west-midlands", lambda rules: rule(rules, "remit.outside.support_unsecured").update(effect="condition")
    ).sets["west-midlands"]
    result = prove(policy, TEXTS).properties[1]
    assert not result.holds
    assert any(
        example.request["task"] != "attend" and example.request["call"]["phase"] != "scene_secured"
        for example in result.counterexamples
    )


def test_an_outside_remit_incident_cannot_be_reclassified_away(registry: PolicyRegistry) -> None:
    """A candidate that takes an incident type out of the outside-remit set (with its screening changed to match,
    so that it loads) fails against the version in force."""
    from dataclasses import replace
    from types import MappingProxyType

    current = registry.sets["west-midlands"]
    firearms = replace(current.call_types["violence.firearms"], classification="within_remit")
    candidate = replace(current, call_types=MappingProxyType({**current.call_types, "violence.firearms": firearms}))
    report = prove(candidate, TEXTS, baseline=current)
    kept = report.properties[-1]
    assert kept.name == "outside_remit_kept" and not kept.holds
    assert kept.counterexamples[0].rule_ids == ("call-types.json:violence.firearms",)
    assert prove(current, TEXTS, baseline=current).holds


def test_a_bundle_rebuilds_its_version_byte_for_byte(tmp_path: Path, registry: PolicyRegistry) -> None:
    """Line endings and all: a source document with CRLF line endings still matches its recorded SHA-256."""
    import hashlib

    from service.engine.bundles import bundle_of, load_bundle

    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    index_file = target / "sources" / "index.json"
    index = json.loads(index_file.read_text(encoding="utf-8"))
    entry = next(e for e in index["documents"] if e["id"] == "kent-o38b")
    source = target / "sources" / entry["file"]
    crlf = source.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    source.write_bytes(crlf)
    entry["sha256"] = hashlib.sha256(crlf).hexdigest()
    index_file.write_text(json.dumps(index, indent=2), encoding="utf-8")
    policy = load_registry(target, SCHEMA_DIR).sets["kent"]
    rebuilt = load_bundle(bundle_of(target, "kent"), "kent", SCHEMA_DIR, digest=policy.digest)
    assert rebuilt.digest == policy.digest
    assert load_bundle(bundle_of(POLICY_DIR, "kent"), "kent", SCHEMA_DIR).digest == registry.sets["kent"].digest
