"""Compile a rule's ``when`` block into plain predicate functions, once, at load time."""

from __future__ import annotations

import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from service.engine.policy import EFFECT_LEVELS, MESSAGE_FIELDS, Citation, Predicate, Rule

# Tests that look at the task being assessed (or at the phase through "context").
TASK_TESTS = frozenset(
    {
        "tasks",
        "task_kinds",
        "task_listed_for_call",
        "task_any_phase_for_call",
        "context",
        "missing_required_powers",
        "task_any_phase_for_described",
    }
)


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
    "described_classes": ("described_classes", "overlap", False),
    "task_any_phase_for_described": ("described_any_phase", "equals", True),
}


def compile_when(when: dict[str, Any]) -> Predicate:
    """Turn a validated ``when`` block into one predicate over (base facts, task facts).

    The predicate is generated as a single expression so that a decision costs one call per rule;
    only attribute names from the fixed table above and bound constants go into it.
    """
    parts: list[str] = []
    constants: dict[str, object] = {}
    for number, (key, value) in enumerate(sorted(when.items())):
        name = f"_c{number}"
        if key == "missing_required_powers":
            constants[name] = bool(value)
            parts.append(f"bool(t.missing_powers) is {name}")
            continue
        attribute, kind, on_task = _TESTS[key]
        subject = f"{'t' if on_task else 'b'}.{attribute}"
        if kind == "member":
            constants[name] = frozenset(value)
            parts.append(f"{subject} in {name}")
        elif kind == "overlap":
            constants[name] = frozenset(value)
            parts.append(f"not {subject}.isdisjoint({name})")
        else:
            constants[name] = value
            parts.append(f"{subject} == {name}")
    defaults = "".join(f", {name}={name}" for name in constants)
    source = f"lambda b, t{defaults}: {' and '.join(parts) or 'True'}"
    return eval(source, {"__builtins__": {"bool": bool}}, constants)  # noqa: S307 - built from the fixed table only


def message_problems(message: str) -> list[str]:
    """Why decide() could not fill this message's placeholders (empty when it can).

    A message without "{" is not a template and is answered as written."""
    if "{" not in message:
        return []
    try:
        parsed = list(string.Formatter().parse(message))
    except ValueError as exc:
        return [f"the message is not a valid template ({exc}); write a literal brace as {{{{ or }}}}"]
    problems = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in MESSAGE_FIELDS:
            problems.append(
                f"the placeholder {{{name}}} cannot be filled; a message may use {', '.join('{' + f + '}' for f in MESSAGE_FIELDS)}"
            )
        elif spec or conversion:
            problems.append(f"the placeholder {{{name}}} takes no conversion or format")
    return problems


def admits_task(when: Mapping[str, Any], task: str, kind: str) -> bool:
    """Whether a rule's task tests can hold for this task at all (used to index rules by task)."""
    return task in when.get("tasks", (task,)) and kind in when.get("task_kinds", (kind,))


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
        test=compile_when(when),
        task_dependent=not TASK_TESTS.isdisjoint(when) or entry.get("citation_from") == "task",
        suspends_powers=entry.get("suspends_powers", False),
        fallback=entry.get("fallback", False),
        watched_flags=frozenset(when.get("flags", ())),
        watched_markers=frozenset(when.get("markers", ())),
        when=MappingProxyType(dict(when)),
    )
