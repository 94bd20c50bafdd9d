"""New risk information only ever makes a decision stricter: checked over every call type and task."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.engine.assessment import AssessmentInput, CallInput, Decision, LocationInput, OfficerInput
from service.engine.decide import decide
from service.engine.policy import FLAGS, GRADES, MARKERS, TASKS, PolicyRegistry, PolicySet
from service.engine.proofs import loosened
from tests.helpers import FIXED_NOW

OFFICER = OfficerInput(
    id="PCSO 1",
    designated_powers=("require_name_address", "traffic.direct"),
    training_status="independent",
    in_uniform=True,
    cycle_trained=True,
    home_lpa="a",
    home_neighbourhood="b",
)
GRADE_ORDER = (None, "resolution_without_deployment", "scheduled", "priority", "emergency")
assert set(GRADE_ORDER[1:]) == set(GRADES)


def stricter_variants(request: AssessmentInput) -> list[tuple[str, AssessmentInput]]:
    """Each single piece of added risk information."""
    call, location = request.call, request.location
    variants = [
        (f"+{flag}", replace(request, call=replace(call, flags=call.flags | {flag}))) for flag in FLAGS if flag not in call.flags
    ]
    variants += [
        (f"+{m}", replace(request, location=replace(location, markers=location.markers | {m})))
        for m in MARKERS
        if m not in location.markers
    ]
    levels = ("low", "medium", "high")
    for higher in levels[levels.index(location.risk_level) + 1 :]:
        variants.append((f"risk {higher}", replace(request, location=replace(location, risk_level=higher))))
    for higher in GRADE_ORDER[GRADE_ORDER.index(call.grade) + 1 :]:
        variants.append((f"grade {higher}", replace(request, call=replace(call, grade=higher))))
    if call.phase == "scene_secured":
        for phase in ("recent", "in_progress"):
            variants.append((f"phase {phase}", replace(request, call=replace(call, phase=phase))))
    variants.append(("description", replace(request, call=replace(call, description="he has a knife and is threatening people"))))
    return variants


def violations(policy: PolicySet, request: AssessmentInput) -> list[str]:
    before = decide(policy, request, now=FIXED_NOW)
    found = []
    for label, variant in stricter_variants(request):
        after = decide(policy, variant, now=FIXED_NOW)
        problem = compare(before, after)
        if problem:
            found.append(f"{request.call.type}/{request.task}/{request.call.phase} {label}: {problem}")
    return found


def compare(before: Decision, after: Decision) -> str | None:
    """The one comparison the tests and the proofs use (service/engine/proofs.py)."""
    return loosened(before, after)


@pytest.mark.parametrize("force", ["west-midlands", "kent"])
def test_added_risk_never_loosens_a_decision(registry: PolicyRegistry, force: str) -> None:
    policy = registry.sets[force]
    checked = 0
    problems: list[str] = []
    for call_type in list(policy.call_types) + ["unknown.code"]:
        for task in TASKS:
            for phase in ("scene_secured", "in_progress"):
                request = AssessmentInput(
                    force=force,
                    task=task,
                    call=CallInput(type=call_type, phase=phase),
                    location=LocationInput(risk_level="low", lpa="a", neighbourhood="b"),
                    officer=OFFICER,
                )
                problems += violations(policy, request)
                checked += 1
    assert checked == (len(policy.call_types) + 1) * len(TASKS) * 2
    assert not problems, problems[:20]


def test_the_comparison_detects_a_loosening(registry: PolicyRegistry) -> None:
    policy = registry.sets["west-midlands"]
    base = AssessmentInput(
        force="west-midlands",
        call=CallInput(type="violence.knife_crime"),
        location=LocationInput(risk_level="low"),
        officer=OFFICER,
    )
    refused = decide(policy, base, now=FIXED_NOW)
    allowed = decide(policy, replace(base, call=CallInput(type="asb.nuisance")), now=FIXED_NOW)
    assert compare(refused, allowed) == "do_not_deploy -> deploy"
