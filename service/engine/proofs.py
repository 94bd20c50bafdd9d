"""Proofs over a policy set's whole input space, for a candidate version before it is approved.

Four properties are checked, none by sampling:

- **monotonicity**: more risk never gives a less restrictive decision. For every call type and
  task, two assessments that differ only in risk (flags, markers and the incident types a
  description names added; risk level, grade or phase raised) are encoded over the rule language
  for the z3 SMT solver, which is asked for a pair where the riskier one is decided less
  restrictively, or (when it may still be assigned) loses a condition or prohibition. "No such
  pair" (unsat) is the proof.
- **first response refused**: every incident type the policy classifies outside the PCSO remit
  (WMP 2.8.3, Kent's equivalent) is refused, for every first-response task, whatever the other
  inputs (phase, grade, risk, flags, markers, setting, training, uniform, transport, powers,
  abstraction, and the incident types a description names): z3 is asked for any assessment where
  it is not.
- **citations verbatim**: every clause a rule, call type or task quotes is found in its source
  document (the loader's check, counted here).
- **messages fillable**: every placeholder in every rule message is one the engine fills.

The encoding follows decide.py exactly: the facts a rule's ``when`` tests (decide.BaseFacts and
TaskFacts, with the derived ones, context and missing powers and the described incident types,
defined as decide.py defines them), each rule's test as a conjunction of those tests, and the one
precedence rule (_precedence). A solver answer of "sat" is turned into concrete assessment
requests and decided again by the real engine, so a counterexample is reported only when the
engine shows it; the rule ids are those whose tests differ between the two assessments.
"""

from __future__ import annotations

import string
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import z3

from service.engine.assessment import AssessmentInput, CallInput, Decision, LocationInput, OfficerInput
from service.engine.citations import SOURCES_DIR, Sources
from service.engine.decide import UNKNOWN, _abstracted, decide
from service.engine.files import Problems, validators
from service.engine.policy import (
    DECISIONS,
    FLAGS,
    LEVEL_CONDITION,
    LEVEL_PERMIT,
    LEVEL_REFER,
    LEVEL_REFUSE,
    MARKERS,
    MESSAGE_FIELDS,
    RISK_LEVELS,
    SETTINGS,
    TASKS,
    TRAINING_STATUSES,
    CallType,
    PolicySet,
    Rule,
    RuleIndex,
)
from service.engine.sources import SourceText, normalise

# The moment counterexamples are decided at (decisions do not depend on it beyond the answer's timestamps).
_NOW = datetime(2026, 1, 1, tzinfo=UTC)

# Each ordered risk dimension, least risky first.
PHASE_ORDER = ("scene_secured", "recent", "in_progress")
GRADE_ORDER = (None, "resolution_without_deployment", "scheduled", "priority", "emergency")
ABSTRACTED = (None, True, False)
OUTSIDE_REMIT = "outside_remit"


class Unencodable(Exception):
    """A rule tests something the encoding does not know: nothing about it can be proved."""


@dataclass(frozen=True, slots=True)
class Counterexample:
    """A concrete request (and, for monotonicity, the riskier one) that breaks a property."""

    rule_ids: tuple[str, ...]
    explanation: str
    request: dict[str, Any]
    riskier_request: dict[str, Any] | None = None


@dataclass(slots=True)
class PropertyResult:
    name: str
    holds: bool
    method: str
    covered: str
    seconds: float = 0.0
    counterexamples: list[Counterexample] = field(default_factory=list)
    unproved: list[str] = field(default_factory=list)  # what could not be encoded (fails closed)


@dataclass(slots=True)
class ProofReport:
    force: str
    digest: str
    properties: list[PropertyResult]
    seconds: float

    @property
    def holds(self) -> bool:
        return all(result.holds for result in self.properties)

    def failures(self) -> list[str]:
        """One line per property that does not hold, naming the rules and the counterexample."""
        lines = []
        for result in self.properties:
            if result.holds:
                continue
            for example in result.counterexamples:
                lines.append(f"{result.name}: rule(s) {', '.join(example.rule_ids) or '?'}: {example.explanation}")
            lines.extend(f"{result.name}: cannot be proved: {reason}" for reason in result.unproved)
        return lines


# --- the encoding --------------------------------------------------------------------------------


class _Facts:
    """z3 variables for the facts of one assessment (call type and task fixed by the caller)."""

    def __init__(self, name: str, policy: PolicySet, powers: Iterable[str]) -> None:
        self.policy = policy
        self.phase = z3.Int(f"{name}.phase")
        self.grade = z3.Int(f"{name}.grade")
        self.risk = z3.Int(f"{name}.risk")
        self.setting = z3.Int(f"{name}.setting")
        self.training = z3.Int(f"{name}.training")
        self.abstracted = z3.Int(f"{name}.abstracted")
        self.in_uniform = z3.Bool(f"{name}.in_uniform")
        self.authorised_driver = z3.Bool(f"{name}.authorised_driver")
        self.cycle_trained = z3.Bool(f"{name}.cycle_trained")
        self.flags = {flag: z3.Bool(f"{name}.flag.{flag}") for flag in FLAGS}
        self.markers = {marker: z3.Bool(f"{name}.marker.{marker}") for marker in MARKERS}
        self.described = {code: z3.Bool(f"{name}.described.{code}") for code in policy.call_types}
        self.powers = {power: z3.Bool(f"{name}.power.{power}") for power in sorted(set(powers))}

    def domain(self) -> list[z3.BoolRef]:
        return [
            z3.And(0 <= self.phase, self.phase < len(PHASE_ORDER)),
            z3.And(0 <= self.grade, self.grade < len(GRADE_ORDER)),
            z3.And(0 <= self.risk, self.risk < len(RISK_LEVELS)),
            z3.And(0 <= self.setting, self.setting < len(SETTINGS)),
            z3.And(0 <= self.training, self.training < len(TRAINING_STATUSES)),
            z3.And(0 <= self.abstracted, self.abstracted < (len(ABSTRACTED) if self.policy.checks_abstraction else 1)),
        ]

    def not_risk(self) -> list[Any]:
        """The facts that are not risk information: equal between two assessments compared for monotonicity."""
        return [
            self.setting,
            self.training,
            self.abstracted,
            self.in_uniform,
            self.authorised_driver,
            self.cycle_trained,
            *self.powers.values(),
        ]


def _member(variable: z3.ArithRef, order: tuple[Any, ...], values: Iterable[Any]) -> z3.BoolRef:
    indexes = [order.index(value) for value in values if value in order]
    return z3.Or([variable == index for index in indexes]) if indexes else z3.BoolVal(False)


class _Case:
    """One call type (or the unknown one) and one task: the rules the engine evaluates for it."""

    def __init__(self, policy: PolicySet, call_type: CallType | None, task: str) -> None:
        self.policy = policy
        self.call_type = call_type
        self.code = call_type.code if call_type is not None else "unknown.call_type"
        self.task = task
        self.task_def = policy.tasks[task]
        index: RuleIndex = policy.rules_for_call[call_type.code] if call_type is not None else policy.rules_for_unknown
        self.static = index.static
        self.rules = index.static + index.by_task[task]

    def test(self, rule: Rule, facts: _Facts) -> z3.BoolRef:
        return z3.And([self._test(key, value, facts) for key, value in sorted(rule.when.items())])

    def _test(self, key: str, value: Any, facts: _Facts) -> z3.BoolRef:
        call_type, task = self.call_type, self.task_def
        fixed: dict[str, Any] = {
            "call_types": lambda: self.code in value if call_type is not None else False,
            "call_classes": lambda: (call_type.classification if call_type else UNKNOWN) in value,
            "call_tags": lambda: bool(set(call_type.tags if call_type else ()) & set(value)),
            "tasks": lambda: self.task in value,
            "task_kinds": lambda: task.kind in value,
            "task_listed_for_call": lambda: (call_type is not None and self.task in call_type.support_tasks) == value,
            "task_any_phase_for_call": lambda: (call_type is not None and self.task in call_type.any_phase_tasks) == value,
        }
        if key in fixed:
            return z3.BoolVal(bool(fixed[key]()))
        if key == "phases":
            return _member(facts.phase, PHASE_ORDER, value)
        if key == "grades":
            return _member(facts.grade, GRADE_ORDER, value)
        if key == "risk_levels":
            return _member(facts.risk, RISK_LEVELS, value)
        if key == "settings":
            return _member(facts.setting, SETTINGS, value)
        if key == "training":
            return _member(facts.training, TRAINING_STATUSES, value)
        if key == "flags":
            return z3.Or([facts.flags[flag] for flag in value if flag in facts.flags] or [z3.BoolVal(False)])
        if key == "markers":
            return z3.Or([facts.markers[marker] for marker in value if marker in facts.markers] or [z3.BoolVal(False)])
        if key in ("in_uniform", "authorised_driver", "cycle_trained"):
            return getattr(facts, key) == z3.BoolVal(bool(value))
        if key == "abstracted":
            return facts.abstracted == ABSTRACTED.index(bool(value))
        if key == "context":
            first_response = z3.Or(z3.BoolVal(task.kind == "first_response"), facts.phase != PHASE_ORDER.index("scene_secured"))
            return first_response if value == "first_response" else z3.Not(first_response)
        if key == "described_classes":
            named = [var for code, var in facts.described.items() if self.policy.call_types[code].classification in value]
            return z3.Or(named or [z3.BoolVal(False)])
        if key == "task_any_phase_for_described":
            any_phase = z3.And(
                z3.Or(list(facts.described.values()) or [z3.BoolVal(False)]),
                *[
                    z3.Implies(var, z3.BoolVal(self.task in self.policy.call_types[code].any_phase_tasks))
                    for code, var in facts.described.items()
                ],
            )
            return any_phase == z3.BoolVal(bool(value))
        if key == "missing_required_powers":
            return self.missing_powers(facts) == z3.BoolVal(bool(value))
        raise Unencodable(f"the test {key!r} is not in the rule language the proofs know")

    def missing_powers(self, facts: _Facts) -> z3.BoolRef:
        required = self.task_def.requires_powers
        if not required:
            return z3.BoolVal(False)
        suspended = z3.Or([self.test(rule, facts) for rule in self.static if rule.suspends_powers] or [z3.BoolVal(False)])
        return z3.Or(suspended, *[z3.Not(facts.powers[power]) for power in required])

    def level(self, facts: _Facts) -> z3.ArithRef:
        """decide._precedence over decide._fold, as one integer expression."""
        worst: z3.ArithRef = z3.IntVal(-1)
        permitted: z3.BoolRef = z3.BoolVal(False)
        for rule in self.rules:
            if rule.level is None:
                continue
            fires = self.test(rule, facts)
            if rule.level == LEVEL_PERMIT:
                permitted = z3.Or(permitted, fires)
            else:
                worst = z3.If(z3.And(fires, worst < rule.level), z3.IntVal(rule.level), worst)
        return z3.If(
            worst >= LEVEL_REFER,
            worst,
            z3.If(
                z3.Not(permitted),
                z3.IntVal(LEVEL_REFER),
                z3.If(worst == LEVEL_CONDITION, z3.IntVal(LEVEL_CONDITION), z3.IntVal(LEVEL_PERMIT)),
            ),
        )

    def facts(self, name: str) -> _Facts:
        facts = _Facts(name, self.policy, self.task_def.requires_powers)
        return facts

    def well_formed(self, facts: _Facts) -> list[z3.BoolRef]:
        # A description never "describes" the call's own type; that is left unconstrained here (a wider space
        # than the engine's, so a proof still holds), which lets call types the rules cannot tell apart share a case.
        return facts.domain()


def _solver() -> z3.Solver:
    solver = z3.SolverFor(_LOGIC)
    solver.set("timeout", QUERY_TIMEOUT_MS)  # an answer of "unknown" is unproved, and refused
    return solver


QUERY_TIMEOUT_MS = 10_000


_LOGIC = "QF_FD"  # finite domains: the facts are enumerations and booleans (about 10x faster than QF_LIA here)


def _none(facts: _Facts) -> list[z3.BoolRef]:
    return [z3.Not(v) for v in (*facts.flags.values(), *facts.markers.values(), *facts.described.values())]


def _no_described(facts: _Facts) -> list[z3.BoolRef]:
    return [z3.Not(v) for v in facts.described.values()]


def _same_sets(x: _Facts, y: _Facts) -> list[z3.BoolRef]:
    pairs = [(x.flags, y.flags), (x.markers, y.markers), (x.described, y.described)]
    return [left[name] == right[name] for left, right in pairs for name in left]


def _counterexample_exists(solver: z3.Solver, result: PropertyResult, case: str) -> bool:
    """Whether the solver finds a counterexample; an answer other than sat or unsat is unproved (and refused)."""
    answer = solver.check()
    if answer == z3.unsat:
        return False
    result.holds = False
    if answer != z3.sat:
        result.unproved.append(f"{case}: the solver gave no answer in time ({answer}); refused")
        return False
    return True


def _simplest(solver: z3.Solver, preferences: list[list[z3.BoolRef]]) -> z3.ModelRef:
    """A model of the first preference (extra constraints) that is satisfiable: the plainest counterexample."""
    for extra in preferences:
        solver.push()
        solver.add(*extra)
        try:
            if solver.check() == z3.sat:
                return solver.model()
        finally:
            solver.pop()
    raise Unencodable("the solver found a counterexample but could not give it again")


def _riskier(x: _Facts, y: _Facts) -> list[z3.BoolRef]:
    """y holds all of x's risk information and perhaps more; everything else is the same."""
    same = [a == b for a, b in zip(x.not_risk(), y.not_risk(), strict=True)]
    more = [
        y.phase >= x.phase,
        y.grade >= x.grade,
        y.risk >= x.risk,
        *[z3.Implies(x.flags[f], y.flags[f]) for f in FLAGS],
        *[z3.Implies(x.markers[m], y.markers[m]) for m in MARKERS],
        *[z3.Implies(x.described[c], y.described[c]) for c in x.described],
    ]
    return same + more


# --- turning a model into requests the engine decides -------------------------------------------


def _value(model: z3.ModelRef, variable: Any) -> Any:
    return model.eval(variable, model_completion=True)


def _request(model: z3.ModelRef, case: _Case, facts: _Facts) -> AssessmentInput:
    index = lambda variable: _value(model, variable).as_long()  # noqa: E731
    truth = lambda variable: z3.is_true(_value(model, variable))  # noqa: E731
    abstracted = ABSTRACTED[index(facts.abstracted)]
    home = {"home_lpa": "home-lpa", "home_neighbourhood": "home-neighbourhood"} if abstracted is not None else {}
    place = "elsewhere" if abstracted else "home"
    return AssessmentInput(
        force=case.policy.id,
        task=case.task,
        call=CallInput(
            type=case.code,
            phase=PHASE_ORDER[index(facts.phase)],
            grade=GRADE_ORDER[index(facts.grade)],
            flags=frozenset(flag for flag, var in facts.flags.items() if truth(var)),
        ),
        location=LocationInput(
            risk_level=RISK_LEVELS[index(facts.risk)],
            markers=frozenset(marker for marker, var in facts.markers.items() if truth(var)),
            setting=SETTINGS[index(facts.setting)],
            **({"lpa": f"{place}-lpa", "neighbourhood": f"{place}-neighbourhood"} if abstracted is not None else {}),
        ),
        officer=OfficerInput(
            id="PCSO 0001",
            designated_powers=tuple(power for power, var in facts.powers.items() if truth(var)),
            training_status=TRAINING_STATUSES[index(facts.training)],
            in_uniform=truth(facts.in_uniform),
            authorised_driver=truth(facts.authorised_driver),
            cycle_trained=truth(facts.cycle_trained),
            **({"home_lpa": "home-lpa", "home_neighbourhood": "home-neighbourhood"} if home else {}),
        ),
    )


def as_json(request: AssessmentInput) -> dict[str, Any]:
    """A request as the API takes it."""
    call: dict[str, Any] = {"type": request.call.type, "phase": request.call.phase, "flags": sorted(request.call.flags)}
    if request.call.grade is not None:
        call["grade"] = request.call.grade
    location: dict[str, Any] = {
        "risk_level": request.location.risk_level,
        "markers": sorted(request.location.markers),
        "setting": request.location.setting,
    }
    officer: dict[str, Any] = {
        "id": request.officer.id,
        "designated_powers": list(request.officer.designated_powers),
        "training_status": request.officer.training_status,
        "in_uniform": request.officer.in_uniform,
        "authorised_driver": request.officer.authorised_driver,
        "cycle_trained": request.officer.cycle_trained,
    }
    for name in ("lpa", "neighbourhood"):
        if getattr(request.location, name) is not None:
            location[name] = getattr(request.location, name)
    for name in ("home_lpa", "home_neighbourhood"):
        if getattr(request.officer, name) is not None:
            officer[name] = getattr(request.officer, name)
    return {"force": request.force, "task": request.task, "call": call, "location": location, "officer": officer}


def _differing(model: z3.ModelRef, case: _Case, x: _Facts, y: _Facts | None = None) -> tuple[str, ...]:
    """The rules whose test differs between x and y (or, alone, the deciding rules that fire for x)."""
    ids = []
    for rule in case.rules:
        at_x = z3.is_true(_value(model, case.test(rule, x)))
        if y is None:
            if at_x and rule.level is not None and rule.level >= LEVEL_PERMIT:
                ids.append(rule.id)
        elif at_x != z3.is_true(_value(model, case.test(rule, y))):
            ids.append(rule.id)
    return tuple(ids)


def loosened(before: Decision, after: Decision) -> str | None:
    """How ``after`` is less restrictive than ``before`` (the monotonicity tests' comparison), or None."""
    if DECISIONS.index(after.decision) < DECISIONS.index(before.decision):
        return f"{before.decision} -> {after.decision}"
    if after.may_assign:
        lost = {c.code for c in before.conditions} - {c.code for c in after.conditions}
        lost |= {p.code for p in before.limits.prohibited} - {p.code for p in after.limits.prohibited}
        if lost:
            return f"lost {', '.join(sorted(lost))}"
    return None


# --- the properties -------------------------------------------------------------------------------


def _cases(policy: PolicySet) -> list[_Case]:
    """One case per distinct (call type signature, task): call types the rules cannot tell apart are proved once."""
    seen: dict[tuple[Any, ...], _Case] = {}
    for call_type in [*policy.call_types.values(), None]:
        index = policy.rules_for_call[call_type.code] if call_type is not None else policy.rules_for_unknown
        for task in TASKS:
            named = any(
                call_type is not None and call_type.code in rule.when.get("call_types", ())
                for rule in index.static + index.by_task[task]
            )
            signature = (
                call_type.code if named and call_type is not None else None,
                call_type.classification if call_type else UNKNOWN,
                tuple(sorted(call_type.tags)) if call_type else (),
                call_type is not None and task in call_type.support_tasks,
                call_type is not None and task in call_type.any_phase_tasks,
                tuple(rule.id for rule in index.static + index.by_task[task]),
                task,
            )
            seen.setdefault(signature, _Case(policy, call_type, task))
    return list(seen.values())


def prove_monotonicity(policy: PolicySet) -> PropertyResult:
    started = time.perf_counter()
    cases = _cases(policy)
    result = PropertyResult(
        "monotonicity",
        True,
        "z3 (SMT), every pair of assessments differing only by added risk",
        f"{len(cases)} distinct call type and task cases ({len(policy.call_types) + 1} call types x {len(TASKS)} tasks)",
    )
    for case in cases:
        try:
            x, y = case.facts("x"), case.facts("y")
            solver = _solver()
            solver.add(*case.well_formed(x), *case.well_formed(y), *_riskier(x, y))
            level_x, level_y = case.level(x), case.level(y)
            kept = [
                z3.Implies(case.test(rule, x), case.test(rule, y))
                for rule in case.rules
                if rule.effect in ("condition", "prohibit")
            ]
            solver.add(z3.Or(level_y < level_x, z3.And(level_y <= LEVEL_CONDITION, z3.Not(z3.And(kept or [z3.BoolVal(True)])))))
        except Unencodable as exc:
            result.holds = False
            result.unproved.append(f"{case.code}/{case.task}: {exc}")
            continue
        if not _counterexample_exists(solver, result, f"{case.code}/{case.task}"):
            continue
        model = _simplest(
            solver,
            [
                _none(x) + _none(y),  # only the risk level, grade or phase differs, with no flags or markers at all
                _same_sets(x, y) + _no_described(x) + _no_described(y),  # no flag or marker added
                _no_described(x) + _no_described(y),  # no description needed to show it
                [],
            ],
        )
        before_request, after_request = _request(model, case, x), _request(model, case, y)
        how = loosened(decide(policy, before_request, now=_NOW), decide(policy, after_request, now=_NOW))
        result.holds = False
        rules = _differing(model, case, x, y)
        if how is None:
            result.unproved.append(
                f"{case.code}/{case.task}: the rules allow a loosening the engine did not show for the request found "
                f"(rules {', '.join(rules)}); refused until it can be proved"
            )
            continue
        result.counterexamples.append(
            Counterexample(
                rule_ids=rules,
                explanation=f"{case.code}/{case.task}: more risk loosens the decision ({how})",
                request=as_json(before_request),
                riskier_request=as_json(after_request),
            )
        )
    result.seconds = time.perf_counter() - started
    return result


def prove_first_response_refused(policy: PolicySet) -> PropertyResult:
    started = time.perf_counter()
    outside = [ct for ct in policy.call_types.values() if ct.classification == OUTSIDE_REMIT]
    result = PropertyResult(
        "first_response_refused",
        True,
        "z3 (SMT), every assessment of each outside-remit incident type and task in a first-response context "
        "(a first-response task, or any task before the scene is secured unless the call type allows it at any phase)",
        f"{len(outside)} outside-remit incident types x {len(TASKS)} tasks",
    )
    if not outside:
        result.holds = False
        result.unproved.append("the policy classifies no incident type outside the PCSO remit (WMP 2.8.3 or its equivalent)")
    cases = [case for case in _cases(policy) if case.call_type is not None and case.call_type.classification == OUTSIDE_REMIT]
    result.covered += f" ({len(cases)} distinct cases)"
    for case in cases:
        call_type, task = case.call_type, case.task
        assert call_type is not None
        if True:
            try:
                facts = case.facts("x")
                solver = _solver()
                first_response = z3.Or(
                    z3.BoolVal(policy.tasks[task].kind == "first_response"),
                    z3.And(facts.phase != PHASE_ORDER.index("scene_secured"), z3.BoolVal(task not in call_type.any_phase_tasks)),
                )
                solver.add(*case.well_formed(facts), first_response, case.level(facts) < LEVEL_REFUSE)
            except Unencodable as exc:
                result.holds = False
                result.unproved.append(f"{call_type.code}/{task}: {exc}")
                continue
            if not _counterexample_exists(solver, result, f"{call_type.code}/{task}"):
                continue
            model = _simplest(solver, [_none(facts), _no_described(facts), []])
            result.holds = False
            request = _request(model, case, facts)
            decision = decide(policy, request, now=_NOW)
            if decision.decision == "do_not_deploy":  # only with a description naming other incident types
                result.unproved.append(
                    f"{call_type.code}/{task}: the rules allow it not to be refused when a description names other incident "
                    "types; refused until it can be proved"
                )
                continue
            result.counterexamples.append(
                Counterexample(
                    rule_ids=_differing(model, case, facts) or ("(no refusing rule fires)",),
                    explanation=f"{call_type.code}/{task} is decided '{decision.decision}' as a first response",
                    request=as_json(request),
                )
            )
    result.seconds = time.perf_counter() - started
    return result


def source_texts(policy_dir: Path, schema_dir: Path) -> Mapping[str, SourceText]:
    """The parsed text of every source document a policy directory bundles (as the loader reads it)."""
    problems = Problems()
    sources = Sources(problems)
    sources.load(
        policy_dir / SOURCES_DIR, str(policy_dir / SOURCES_DIR / "index.json"), validators(schema_dir)["sources.schema.json"]
    )
    return sources.texts


def check_citations(policy: PolicySet, texts: Mapping[str, SourceText]) -> PropertyResult:
    """Every quoted clause found word for word in its source document's clause."""
    started = time.perf_counter()
    quoted = [rule.citation for rule in _all_rules(policy) if rule.citation is not None]
    quoted += [ct.citation for ct in policy.call_types.values()] + [task.citation for task in policy.tasks.values()]
    with_words = [citation for citation in quoted if citation.quote is not None]
    result = PropertyResult(
        "citations_verbatim",
        True,
        "each quote searched in its clause's text",
        f"{len(with_words)} quoted citations ({len(quoted) - len(with_words)} of legislation, which carries no text)",
    )
    for citation in with_words:
        source = texts.get(citation.document_id)
        clause = source.clause_text(citation.clause) if source is not None else None
        if clause is None or normalise(citation.quote or "") not in clause:
            result.holds = False
            result.unproved.append(
                f"{citation.cite_as} {citation.clause}: the quote {(citation.quote or '')[:60]!r} is not in its text"
            )
    result.seconds = time.perf_counter() - started
    return result


def check_messages(policy: PolicySet) -> PropertyResult:
    started = time.perf_counter()
    rules = _all_rules(policy)
    result = PropertyResult("messages_fillable", True, "every placeholder of every rule message", f"{len(rules)} rules")
    filler = {name: f"<{name}>" for name in MESSAGE_FIELDS}
    for rule in rules:
        names = {name for _, name, _, _ in string.Formatter().parse(rule.message) if name}
        unknown = sorted(names - set(MESSAGE_FIELDS))
        try:
            rule.message.format_map(filler) if not unknown else None
        except (ValueError, IndexError, KeyError, AttributeError) as exc:
            unknown.append(str(exc))
        if unknown:
            result.holds = False
            result.counterexamples.append(
                Counterexample(
                    rule_ids=(rule.id,), explanation=f"message placeholders not filled: {', '.join(unknown)}", request={}
                )
            )
    result.seconds = time.perf_counter() - started
    return result


def _all_rules(policy: PolicySet) -> list[Rule]:
    unique: dict[int, Rule] = {}  # each compiled rule once, however many indexes hold it
    for index in [*policy.rules_for_call.values(), policy.rules_for_unknown]:
        for rule in (*index.static, *(rule for rules in index.by_task.values() for rule in rules)):
            unique.setdefault(id(rule), rule)
    return list(unique.values())


def check_outside_remit_kept(policy: PolicySet, baseline: PolicySet) -> PropertyResult:
    """A new version may not take an incident type out of the outside-remit set of the version it replaces."""
    started = time.perf_counter()
    before = {code for code, ct in baseline.call_types.items() if ct.classification == OUTSIDE_REMIT}
    result = PropertyResult(
        "outside_remit_kept",
        True,
        "each outside-remit incident type of the version in force looked up in the candidate",
        f"{len(before)} outside-remit incident types",
    )
    for code in sorted(before):
        now = policy.call_types.get(code)
        if now is None or now.classification != OUTSIDE_REMIT:
            result.holds = False
            result.counterexamples.append(
                Counterexample(
                    rule_ids=(f"call-types.json:{code}",),
                    explanation=f"{code} is outside the PCSO remit in the version in force and "
                    + ("missing" if now is None else f"'{now.classification}'")
                    + " in the candidate",
                    request={"force": policy.id, "task": "attend", "call": {"type": code}},
                )
            )
    result.seconds = time.perf_counter() - started
    return result


def prove(policy: PolicySet, texts: Mapping[str, SourceText], *, baseline: PolicySet | None = None) -> ProofReport:
    """Every property, for one force's policy set (``texts``: its source documents, see source_texts;
    ``baseline``: the version in force it would replace, whose outside-remit incident types it must keep)."""
    started = time.perf_counter()
    properties = [
        prove_monotonicity(policy),
        prove_first_response_refused(policy),
        check_citations(policy, texts),
        check_messages(policy),
    ]
    if baseline is not None:
        properties.append(check_outside_remit_kept(policy, baseline))
    return ProofReport(policy.id, policy.digest, properties, time.perf_counter() - started)


def report_json(report: ProofReport) -> dict[str, Any]:
    return {
        "force": report.force,
        "digest": report.digest,
        "holds": report.holds,
        "seconds": round(report.seconds, 3),
        "properties": [
            {
                "name": result.name,
                "holds": result.holds,
                "method": result.method,
                "covered": result.covered,
                "seconds": round(result.seconds, 3),
                "counterexamples": [
                    {
                        "rule_ids": list(example.rule_ids),
                        "explanation": example.explanation,
                        "request": example.request,
                        **({"riskier_request": example.riskier_request} if example.riskier_request is not None else {}),
                    }
                    for example in result.counterexamples
                ],
                "unproved": result.unproved,
            }
            for result in report.properties
        ],
    }


def encoded_decision(policy: PolicySet, request: AssessmentInput) -> str:
    """The decision the encoding gives for a concrete request without a description (for testing
    that the encoding and decide.py agree)."""
    call_type = policy.call_types.get(request.call.type)
    case = _Case(policy, call_type, request.task)
    facts = case.facts("x")
    abstracted = _abstracted(policy, request)
    pinned = [
        facts.phase == PHASE_ORDER.index(request.call.phase),
        facts.grade == GRADE_ORDER.index(request.call.grade),
        facts.risk == RISK_LEVELS.index(request.location.risk_level),
        facts.setting == SETTINGS.index(request.location.setting),
        facts.training == TRAINING_STATUSES.index(request.officer.training_status),
        facts.abstracted == ABSTRACTED.index(abstracted),
        facts.in_uniform == request.officer.in_uniform,
        facts.authorised_driver == request.officer.authorised_driver,
        facts.cycle_trained == request.officer.cycle_trained,
        *[var == (flag in request.call.flags) for flag, var in facts.flags.items()],
        *[var == (marker in request.location.markers) for marker, var in facts.markers.items()],
        *[var == (power in request.officer.designated_powers) for power, var in facts.powers.items()],
        *_no_described(facts),
    ]
    solver = _solver()
    solver.add(*case.well_formed(facts), *pinned)
    assert solver.check() == z3.sat
    return DECISIONS[_value(solver.model(), case.level(facts)).as_long()]
