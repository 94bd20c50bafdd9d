"""The same decision by our engine, by Cedar (cedarpy) and by GoRules ZEN (zen-engine).

The decision rules of a force's policy (permit, condition, refer, refuse) are translated
mechanically into a Cedar policy set and into a ZEN decision table (hit policy "collect"), so the
three evaluate the same rules. Facts (call class, flags, markers, context ...) are computed once
per request by the same code and handed to Cedar and ZEN as context; our engine is timed with
`decide_outcome`, which computes the facts itself, so the comparison does not flatter it.
Before timing, the three are checked to agree on every request of the sample.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cedarpy
import zen

from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput
from service.engine.decide import _base_facts, _Evaluation, _screen, _task_facts, decide_outcome
from service.engine.policy import DECISIONS, LEVEL_CONDITION, LEVEL_PERMIT, TASKS, PolicySet, Rule

ROOT = Path(__file__).resolve().parents[1]


def _cedar_condition(key: str, value: Any) -> str:
    if key in ("flags", "markers", "call_tags", "described_classes"):
        return f"context.{key}.containsAny({json.dumps(sorted(value))})"
    if key in (
        "task_any_phase_for_described",
        "in_uniform",
        "authorised_driver",
        "cycle_trained",
        "task_listed_for_call",
        "task_any_phase_for_call",
        "missing_required_powers",
    ):
        return f"context.{key} == {json.dumps(bool(value))}"
    if key in ("abstracted", "context"):
        return f"context.{key} == {json.dumps(str(value).lower() if isinstance(value, bool) else value)}"
    return f"{json.dumps(sorted(value))}.contains(context.{key})"


def _zen_cell(key: str, value: Any) -> str:
    if key in ("flags", "markers", "call_tags", "described_classes"):
        return f"some($, # in {json.dumps(sorted(value))})"
    if isinstance(value, bool):
        return json.dumps(str(value).lower()) if key == "abstracted" else json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    return ", ".join(json.dumps(v) for v in sorted(value))


def decision_rules(policy: PolicySet) -> list[Rule]:
    return [rule for rule in policy.static_rules + policy.task_rules if rule.level is not None]


def facts(policy: PolicySet, request: AssessmentInput) -> dict[str, Any]:
    """The facts our rules test, as plain data for Cedar and ZEN."""
    call_type = policy.call_types.get(request.call.type)
    evaluation = _Evaluation(
        policy, _base_facts(policy, request, call_type, _screen(policy, request), request.call.phase), call_type
    )
    base = evaluation.base
    task = _task_facts(policy, base, call_type, request.task)
    abstracted = "unknown" if base.abstracted is None else str(base.abstracted).lower()
    return {
        "call_types": base.call_type,
        "call_classes": base.call_class,
        "call_tags": sorted(base.call_tags),
        "phases": base.phase,
        "grades": base.grade or "none",
        "flags": sorted(base.flags),
        "markers": sorted(base.markers),
        "risk_levels": base.risk_level,
        "settings": base.setting,
        "training": base.training,
        "in_uniform": base.in_uniform,
        "authorised_driver": base.authorised_driver,
        "cycle_trained": base.cycle_trained,
        "abstracted": abstracted,
        "tasks": task.task,
        "task_kinds": task.kind,
        "task_listed_for_call": task.listed,
        "task_any_phase_for_call": task.any_phase,
        "context": task.context,
        "missing_required_powers": bool(task.missing_powers),
        "described_classes": sorted(base.described_classes),
        "task_any_phase_for_described": task.described_any_phase,
    }


def outcome(levels: list[int]) -> str:
    """The decision from the levels of the rules that matched, as our engine combines them."""
    strict = [level for level in levels if level > LEVEL_PERMIT]
    worst = max(strict, default=-1)
    if worst > LEVEL_CONDITION:
        return DECISIONS[worst]
    if LEVEL_PERMIT not in levels:
        return DECISIONS[2]
    return DECISIONS[worst if worst == LEVEL_CONDITION else LEVEL_PERMIT]


@dataclass
class CedarEngine:
    rules: list[Rule]
    policies: Any
    entities: Any

    @classmethod
    def build(cls, policy: PolicySet) -> CedarEngine:
        rules = decision_rules(policy)
        texts = []
        for rule in rules:
            effect = "forbid" if rule.level > LEVEL_CONDITION else "permit"
            conditions = " && ".join(_cedar_condition(k, v) for k, v in rule.when.items())
            texts.append(f"{effect}(principal, action, resource)" + (f" when {{ {conditions} }};" if conditions else ";"))
        return cls(rules, cedarpy.PolicySet.from_str("\n".join(texts)), cedarpy.Entities.from_json_str("[]"))

    def decide(self, context: dict[str, Any]) -> str:
        request = {"principal": 'Officer::"o"', "action": 'Action::"assess"', "resource": 'Call::"c"', "context": context}
        result = cedarpy.is_authorized(request, self.policies, self.entities)
        return outcome([self.rules[int(reason.removeprefix("policy"))].level for reason in result.diagnostics.reasons])


@dataclass
class ZenEngine:
    rules: list[Rule]
    decision: Any

    @classmethod
    def build(cls, policy: PolicySet) -> ZenEngine:
        rules = decision_rules(policy)
        keys = sorted({key for rule in rules for key in rule.when})
        inputs = [{"id": f"i_{key}", "name": key, "field": key} for key in keys]
        rows = []
        for index, rule in enumerate(rules):
            row = {"_id": f"r{index}", "o_level": str(rule.level)}
            for key in keys:
                row[f"i_{key}"] = _zen_cell(key, rule.when[key]) if key in rule.when else ""
            rows.append(row)
        content = {
            "nodes": [
                {"id": "in", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
                {
                    "id": "rules",
                    "type": "decisionTableNode",
                    "name": "rules",
                    "position": {"x": 200, "y": 0},
                    "content": {
                        "hitPolicy": "collect",
                        "inputs": inputs,
                        "outputs": [{"id": "o_level", "name": "level", "field": "level"}],
                        "rules": rows,
                    },
                },
                {"id": "out", "type": "outputNode", "name": "decision", "position": {"x": 400, "y": 0}},
            ],
            "edges": [
                {"id": "e1", "sourceId": "in", "targetId": "rules", "type": "edge"},
                {"id": "e2", "sourceId": "rules", "targetId": "out", "type": "edge"},
            ],
        }
        return cls(rules, zen.ZenEngine().create_decision(json.dumps(content)))

    def decide(self, context: dict[str, Any]) -> str:
        result = self.decision.evaluate(context)["result"]
        return outcome([int(row["level"]) for row in result])


def sample_requests(policy: PolicySet) -> list[AssessmentInput]:
    """Every call type against every task, with a spread of risk information."""
    variants = [
        ({}, {"risk_level": "low"}, {}),
        (
            {"flags": frozenset({"vulnerable_person"}), "description": "Group of youths drinking and shouting"},
            {"risk_level": "medium"},
            {},
        ),
        ({"phase": "scene_secured"}, {"risk_level": "low"}, {"training_status": "coaching"}),
        (
            {"flags": frozenset({"weapon_reported"}), "grade": "emergency"},
            {"risk_level": "high", "markers": frozenset({"dangerous_dog"})},
            {"in_uniform": False},
        ),
    ]
    requests = []
    for number, call_type in enumerate(policy.call_types):
        for task in TASKS:
            call, location, officer = variants[(number + TASKS.index(task)) % len(variants)]
            requests.append(
                AssessmentInput(
                    force=policy.id,
                    task=task,
                    call=CallInput(type=call_type, **call),
                    location=LocationInput(**location),
                    officer=OfficerInput(
                        id="PCSO 1", designated_powers=("require_name_address",), **({"training_status": "independent"} | officer)
                    ),
                )
            )
    return requests


def _time(action: Callable[[], Any], items: list[Any], rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        for item in items:
            began = time.perf_counter_ns()
            action(item)
            samples.append((time.perf_counter_ns() - began) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


def compare(policy: PolicySet, *, rounds: int = 3) -> dict[str, Any]:
    """Check agreement, then time the three engines on the same requests."""
    requests = sample_requests(policy)
    contexts = [facts(policy, r) for r in requests]
    cedar = CedarEngine.build(policy)
    zen_engine = ZenEngine.build(policy)
    ours = [decide_outcome(policy, r)[0] for r in requests]
    disagreements = sum(
        1 for mine, ctx in zip(ours, contexts, strict=True) if not (mine == cedar.decide(ctx) == zen_engine.decide(ctx))
    )
    if disagreements:
        raise AssertionError(f"{disagreements} of {len(requests)} decisions differ between the engines")
    results = {
        "requests": len(requests),
        "rules": len(cedar.rules),
        "ours": _time(lambda r: decide_outcome(policy, r), requests, rounds),
        "cedar": _time(cedar.decide, contexts, rounds),
        "zen": _time(zen_engine.decide, contexts, rounds),
    }
    return results
