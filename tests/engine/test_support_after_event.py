"""WMP 2.8.2 (Kent O38b 5.6.6): support after the event, once the scene is secured, for every 2.8.3 incident type."""

from __future__ import annotations

import pytest

from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.decide import decide
from service.engine.policy import PolicyRegistry
from tests.helpers import FIXED_NOW

OFFICER = OfficerInput(
    id="PCSO 1",
    designated_powers=("require_name_address", "traffic.direct", "traffic.place_signs"),
    training_status="independent",
    in_uniform=True,
)


def request(force: str, call_type: str, task: str, phase: str) -> AssessmentInput:
    return AssessmentInput(
        force=force,
        task=task,
        call=CallInput(type=call_type, phase=phase),
        location=LocationInput(risk_level="low"),
        officer=OFFICER,
    )


@pytest.mark.parametrize("force", ["west-midlands", "kent"])
def test_every_support_task_once_the_scene_is_secured(registry: PolicyRegistry, force: str) -> None:
    """No catalogue narrows the support a PCSO may give after the event: every support task, every 2.8.3 type."""
    policy = registry.sets[force]
    outside = [code for code, call_type in policy.call_types.items() if call_type.classification == "outside_remit"]
    support = [code for code, task in policy.tasks.items() if task.kind == "support"]
    assert len(outside) == 33 and set(support) == {
        "scene_guard",
        "house_to_house",
        "cctv_collection",
        "reassurance_patrol",
        "area_search",
        "traffic_control",
    }
    refused = []
    for call_type in outside:
        for task in support:
            decision = decide(policy, request(force, call_type, task, "scene_secured"), now=FIXED_NOW)
            codes = {reason.code for reason in decision.reasons}
            if decision.decision != "deploy_with_conditions" or "support_after_scene_secured" not in codes:
                refused.append(f"{call_type}/{task}: {decision.decision} {sorted(codes)}")
            elif "support_under_officer_control" not in {c.code for c in decision.conditions}:
                refused.append(f"{call_type}/{task}: no officer-control condition")
    assert not refused, refused


@pytest.mark.parametrize("force", ["west-midlands", "kent"])
@pytest.mark.parametrize("phase", ["in_progress", "recent"])
def test_no_support_before_the_scene_is_secured_but_the_missing_person_area_search(
    registry: PolicyRegistry, force: str, phase: str
) -> None:
    """Before the scene is secured only the 2.8.3 area search for a high-risk missing person is allowed."""
    policy = registry.sets[force]
    allowed = []
    for code, call_type in policy.call_types.items():
        if call_type.classification != "outside_remit":
            continue
        for task in (t for t, entry in policy.tasks.items() if entry.kind == "support"):
            if decide(policy, request(force, code, task, phase), now=FIXED_NOW).may_assign:
                allowed.append((code, task))
    assert allowed == [("serious.missing_high_risk", "area_search")]
