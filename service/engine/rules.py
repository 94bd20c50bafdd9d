"""Compile a rule's ``when`` block into plain predicate functions, once, at load time."""

from __future__ import annotations

from typing import Any

from service.engine.policy import EFFECT_LEVELS, Citation, Predicate, Rule

# Tests that look at the task being assessed (or at the phase through "context").
TASK_TESTS = frozenset(
    {"tasks", "task_kinds", "task_listed_for_call", "task_any_phase_for_call", "context", "missing_required_powers"}
)


def _member(attribute: str, values: frozenset[str], on_task: bool) -> Predicate:
    if on_task:
        return lambda base, task: getattr(task, attribute) in values
    return lambda base, task: getattr(base, attribute) in values


def _overlap(attribute: str, values: frozenset[str]) -> Predicate:
    return lambda base, task: not getattr(base, attribute).isdisjoint(values)


def _equals(attribute: str, value: object, on_task: bool) -> Predicate:
    if on_task:
        return lambda base, task: getattr(task, attribute) == value
    return lambda base, task: getattr(base, attribute) == value


def _missing_powers(expected: bool) -> Predicate:
    return lambda base, task: bool(task.missing_powers) is expected


# when-key -> (attribute on the facts, kind of test, whether it reads the task facts)
_TESTS: dict[str, tuple[str, str, bool]] = {
    "call_types": ("call_type", "member", False),
    "call_classes": ("call_class", "member", False),
    "call_tags": ("call_tags", "overlap", False),
    "phases": ("phase", "member", False),
    "grades": ("grade", "member", False),
    "flags": ("flags", "overlap", False),
    "markers": ("markers", "overlap", False),
    "risk_levels": ("risk_level", "member", False),
    "settings": ("setting", "member", False),
    "training": ("training", "member", False),
    "in_uniform": ("in_uniform", "equals", False),
    "authorised_driver": ("authorised_driver", "equals", False),
    "cycle_trained": ("cycle_trained", "equals", False),
    "abstracted": ("abstracted", "equals", False),
    "tasks": ("task", "member", True),
    "task_kinds": ("kind", "member", True),
    "task_listed_for_call": ("listed", "equals", True),
    "task_any_phase_for_call": ("any_phase", "equals", True),
    "context": ("context", "equals", True),
}


def compile_when(when: dict[str, Any]) -> tuple[Predicate, ...]:
    """Turn a validated ``when`` block into a tuple of predicates that must all hold."""
    tests: list[Predicate] = []
    for key, value in when.items():
        if key == "missing_required_powers":
            tests.append(_missing_powers(bool(value)))
            continue
        attribute, kind, on_task = _TESTS[key]
        if kind == "member":
            tests.append(_member(attribute, frozenset(value), on_task))
        elif kind == "overlap":
            tests.append(_overlap(attribute, frozenset(value)))
        else:
            tests.append(_equals(attribute, value, on_task))
    return tuple(tests)


def compile_rule(entry: dict[str, Any], citation: Citation | None) -> Rule:
    """Build the frozen Rule for one validated rules.json entry."""
    when = entry["when"]
    return Rule(
        id=entry["id"],
        code=entry["code"],
        effect=entry["effect"],
        level=EFFECT_LEVELS.get(entry["effect"]),
        message=entry["message"],
        templated="{" in entry["message"],
        citation=citation,
        citation_from=entry.get("citation_from"),
        tests=compile_when(when),
        task_dependent=not TASK_TESTS.isdisjoint(when) or entry.get("citation_from") == "task",
        suspends_powers=entry.get("suspends_powers", False),
        fallback=entry.get("fallback", False),
        watched_flags=frozenset(when.get("flags", ())),
        watched_markers=frozenset(when.get("markers", ())),
    )
