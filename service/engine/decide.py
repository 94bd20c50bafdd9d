"""decide(policy, request, *, now) -> Decision: the most restrictive applicable rule wins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from service.engine.assessment import (
    Alternative,
    AssessmentInput,
    Decision,
    FieldProblem,
    Finding,
    Limits,
    PolicyRef,
    PowerRef,
    ScreeningHit,
    Warning,
)
from service.engine.policy import (
    DECISIONS,
    LEVEL_CONDITION,
    LEVEL_PERMIT,
    LEVEL_REFER,
    TASKS,
    CallType,
    Citation,
    PolicySet,
    Rule,
)

UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class BaseFacts:
    """What is known about the call, place and officer, whatever the task."""

    call_type: str
    call_class: str
    call_tags: frozenset[str]
    phase: str
    grade: str | None
    flags: frozenset[str]
    markers: frozenset[str]
    risk_level: str
    setting: str
    training: str
    in_uniform: bool
    authorised_driver: bool
    cycle_trained: bool
    abstracted: bool | None
    powers: frozenset[str]
    evidence: dict[str, tuple[str, ...]]
    # Outside-remit incident types the description describes, besides the call's own type, in
    # catalogue order, with the words that describe each.
    described: tuple[tuple[str, tuple[str, ...]], ...]
    described_classes: frozenset[str]


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """What depends on the task being assessed."""

    task: str
    kind: str
    listed: bool
    any_phase: bool
    context: str
    missing_powers: tuple[str, ...]
    described_any_phase: bool


def check_request(policy: PolicySet, request: AssessmentInput) -> tuple[FieldProblem, ...]:
    """Problems with a well-formed request that the policy cannot accept (each one a 422)."""
    problems = []
    for index, code in enumerate(request.officer.designated_powers):
        where = ("body", "officer", "designated_powers", index)
        excluded = policy.excluded_powers.get(code)
        if excluded is not None:
            problems.append(
                FieldProblem(
                    where,
                    f"'{code}' ({excluded.name}) cannot lawfully be designated to a PCSO: {excluded.legal_basis}.",
                    "power_not_designatable",
                )
            )
        elif code not in policy.powers:
            problems.append(FieldProblem(where, f"'{code}' is not a power code in the {policy.id} catalogue.", "unknown_power"))
    return tuple(problems)


def _screen(policy: PolicySet, request: AssessmentInput) -> tuple[ScreeningHit, ...]:
    return policy.screener.screen(request.call.description, call_type=request.call.type)


def _same_place(left: str | None, right: str | None) -> bool | None:
    if not left or not right:
        return None
    return left.strip().casefold() == right.strip().casefold()


def _abstracted(policy: PolicySet, request: AssessmentInput) -> bool | None:
    if not policy.checks_abstraction:
        return None
    officer, location = request.officer, request.location
    same_lpa = _same_place(officer.home_lpa, location.lpa)
    if same_lpa is False:
        return True
    same_neighbourhood = _same_place(officer.home_neighbourhood, location.neighbourhood)
    if same_neighbourhood is False:
        return True
    if same_lpa is None or same_neighbourhood is None:
        return None
    return False


def _base_facts(
    policy: PolicySet, request: AssessmentInput, call_type: CallType | None, hits: tuple[ScreeningHit, ...], phase: str
) -> BaseFacts:
    flags = set(request.call.flags)
    markers = set(request.location.markers)
    evidence: dict[str, list[str]] = {}
    for hit in hits:
        for flag in hit.adds_flags:
            if flag not in request.call.flags:
                evidence.setdefault(flag, []).extend(hit.words)
            flags.add(flag)
        for marker in hit.adds_markers:
            if marker not in request.location.markers:
                evidence.setdefault(marker, []).extend(hit.words)
            markers.add(marker)
    words_for: dict[str, list[str]] = {}
    for hit in hits:
        if hit.describes is not None and hit.describes != request.call.type and hit.describes in policy.call_types:
            words_for.setdefault(hit.describes, []).extend(w for w in hit.words if w not in words_for.get(hit.describes, ()))
    described = tuple((code, tuple(words_for[code])) for code in policy.call_types if code in words_for)
    return BaseFacts(
        call_type=request.call.type,
        call_class=call_type.classification if call_type else UNKNOWN,
        call_tags=call_type.tags if call_type else frozenset(),
        phase=phase,
        grade=request.call.grade,
        flags=frozenset(flags),
        markers=frozenset(markers),
        risk_level=request.location.risk_level,
        setting=request.location.setting,
        training=request.officer.training_status,
        in_uniform=request.officer.in_uniform,
        authorised_driver=request.officer.authorised_driver,
        cycle_trained=request.officer.cycle_trained,
        abstracted=_abstracted(policy, request),
        powers=frozenset(request.officer.designated_powers),
        evidence={key: tuple(dict.fromkeys(words)) for key, words in evidence.items()},
        described=described,
        described_classes=frozenset(policy.call_types[code].classification for code, _ in described),
    )


def _task_facts(policy: PolicySet, base: BaseFacts, call_type: CallType | None, code: str) -> TaskFacts:
    task = policy.tasks[code]
    first_response = task.kind == "first_response" or base.phase != "scene_secured"
    return TaskFacts(
        task=code,
        kind=task.kind,
        listed=call_type is not None and code in call_type.support_tasks,
        any_phase=call_type is not None and code in call_type.any_phase_tasks,
        context="first_response" if first_response else "support_after_event",
        missing_powers=tuple(p for p in task.requires_powers if p not in base.powers),
        described_any_phase=bool(base.described) and all(code in policy.call_types[d].any_phase_tasks for d, _ in base.described),
    )


def _matches(rules: tuple[Rule, ...], base: BaseFacts, task: TaskFacts | None) -> list[Rule]:
    return [rule for rule in rules if rule.test(base, task)]


def _precedence(worst: int, permitted: bool) -> tuple[int, bool]:
    """The decision index, and whether the fallback decided it: the one precedence rule.

    The most restrictive effect wins. A referral or refusal decides whatever else matched;
    below that a task must be permitted by some rule, or the fallback refers it; a condition
    turns a permitted deployment into a conditional one.
    """
    if worst >= LEVEL_REFER:
        return worst, False
    if not permitted:
        return LEVEL_REFER, True
    return (LEVEL_CONDITION if worst == LEVEL_CONDITION else LEVEL_PERMIT), False


def _fold(rules: Iterable[Rule], worst: int = -1, permitted: bool = False) -> tuple[int, bool]:
    """The most restrictive level above a permit among ``rules``, and whether any permits."""
    for rule in rules:
        if rule.level is None:
            continue
        if rule.level == LEVEL_PERMIT:
            permitted = True
        elif rule.level > worst:
            worst = rule.level
    return worst, permitted


class _Evaluation:
    """Rules matched for one set of base facts; tasks are evaluated against it on demand."""

    def __init__(self, policy: PolicySet, base: BaseFacts, call_type: CallType | None) -> None:
        self.policy = policy
        self.call_type = call_type
        self.rules = policy.rules_for_call[call_type.code] if call_type is not None else policy.rules_for_unknown
        self.static = _matches(self.rules.static, base, None)
        self.static_worst, self.static_permits = _fold(self.static)
        self.powers_suspended = any(rule.suspends_powers for rule in self.static)
        # Powers the officer cannot use here (e.g. out of uniform) count as not held for the task.
        self.base = replace(base, powers=frozenset()) if self.powers_suspended else base

    def level_for(self, code: str) -> int:
        """Only the decision index for a task: what `_level` would give, without building the match list."""
        facts = _task_facts(self.policy, self.base, self.call_type, code)
        matched = (rule for rule in self.rules.by_task[code] if rule.level is not None and rule.test(self.base, facts))
        return _precedence(*_fold(matched, self.static_worst, self.static_permits))[0]

    def for_task(self, code: str) -> tuple[list[Rule], TaskFacts]:
        facts = _task_facts(self.policy, self.base, self.call_type, code)
        return self.static + _matches(self.rules.by_task[code], self.base, facts), facts


def _citation(rule: Rule, call_type: CallType | None, policy: PolicySet, task: str, base: BaseFacts) -> Citation:
    if rule.citation is not None:
        return rule.citation
    if rule.citation_from == "task":
        return policy.tasks[task].citation
    if rule.citation_from == "described_call_type":
        assert base.described, f"rule {rule.id} cites a described incident type but the description describes none"
        return policy.call_types[base.described[0][0]].citation
    assert call_type is not None, f"rule {rule.id} cites the call type of an unknown call"
    if rule.citation_from == "call_type_support" and call_type.support_citation is not None:
        return call_type.support_citation
    return call_type.citation


def _quoted(words: list[str]) -> str:
    return ", ".join(f'"{word}"' for word in words)


def _message(
    rule: Rule, base: BaseFacts, facts: TaskFacts, policy: PolicySet, call_type: CallType | None, request: AssessmentInput
) -> str:
    if not rule.templated:
        return rule.message
    return rule.message.format_map(_Values(rule, base, facts, policy, call_type, request))


class _Values(dict[str, str]):
    """The values a rule's message may name, each worked out only when the message names it."""

    def __init__(
        self,
        rule: Rule,
        base: BaseFacts,
        facts: TaskFacts,
        policy: PolicySet,
        call_type: CallType | None,
        request: AssessmentInput,
    ) -> None:
        super().__init__()
        self.rule, self.base, self.facts, self.policy, self.call_type, self.request = (
            rule,
            base,
            facts,
            policy,
            call_type,
            request,
        )

    def __missing__(self, key: str) -> str:
        rule, base, policy, officer, location = self.rule, self.base, self.policy, self.request.officer, self.request.location
        if key == "call_type_name":
            return self.call_type.name if self.call_type else self.request.call.type
        if key == "task_name":
            return policy.tasks[self.facts.task].name
        if key == "evidence":
            evidence: list[str] = []
            for watched in sorted(rule.watched_flags | rule.watched_markers):
                evidence.extend(word for word in base.evidence.get(watched, ()) if word not in evidence)
            return f" (the call description says {_quoted(evidence)})" if evidence else ""
        if key == "markers":
            return ", ".join(sorted(rule.watched_markers & base.markers)).replace("_", " ")
        if key == "missing_powers":
            return ", ".join(self.facts.missing_powers)
        if key == "abstraction":
            return (
                f"incident in {location.lpa or '?'} / {location.neighbourhood or '?'}, "
                f"home {officer.home_lpa or '?'} / {officer.home_neighbourhood or '?'}"
            )
        if key == "described":
            return "; ".join(f"{policy.call_types[code].name.lower()} ({_quoted(list(words))})" for code, words in base.described)
        raise KeyError(key)


def _finding(
    rule: Rule, base: BaseFacts, facts: TaskFacts, policy: PolicySet, call_type: CallType | None, request: AssessmentInput
) -> Finding:
    return Finding(
        code=rule.code,
        effect=rule.effect,
        message=_message(rule, base, facts, policy, call_type, request),
        citation=_citation(rule, call_type, policy, facts.task, base),
    )


def _unique(findings: list[Finding]) -> tuple[Finding, ...]:
    seen: set[str] = set()
    kept = []
    for finding in findings:
        if finding.code not in seen:
            seen.add(finding.code)
            kept.append(finding)
    return tuple(kept)


def _power_refs(policy: PolicySet, codes: list[str]) -> tuple[PowerRef, ...]:
    return tuple(PowerRef(code, policy.powers[code].name, policy.powers[code].legal_basis) for code in codes)


def _alternatives(
    policy: PolicySet,
    request: AssessmentInput,
    evaluation: _Evaluation,
    call_type: CallType | None,
    hits: tuple[ScreeningHit, ...],
) -> tuple[Alternative, ...]:
    found: list[Alternative] = []
    candidates = [(evaluation, request.call.phase, "")]
    outside = (
        call_type is not None and call_type.classification == "outside_remit"
    ) or "outside_remit" in evaluation.base.described_classes
    if outside and request.call.phase != "scene_secured":
        secured = _Evaluation(policy, replace(evaluation.base, phase="scene_secured"), call_type)
        candidates.append((secured, "scene_secured", " once officers have secured the scene"))
    for candidate, phase, when in candidates:
        for code in TASKS:
            same = code == request.task and phase == request.call.phase
            if same or any(a.task == code for a in found):
                continue
            level = candidate.level_for(code)
            if level > LEVEL_CONDITION:
                continue
            matched, _facts = candidate.for_task(code)
            permit = next(rule for rule in matched if rule.level == LEVEL_PERMIT)
            found.append(
                Alternative(
                    task=code,
                    phase=phase,
                    decision=DECISIONS[level],
                    message=f"{policy.tasks[code].name}{when}.",
                    citation=_citation(permit, call_type, policy, code, candidate.base),
                )
            )
    return tuple(found)


def _warnings(
    policy: PolicySet,
    call_type: CallType | None,
    base: BaseFacts,
    request: AssessmentInput,
    hits: tuple[ScreeningHit, ...],
    past_review: bool,
) -> tuple[Warning, ...]:
    warnings = []
    if past_review:
        warnings.append(
            Warning(
                "policy_past_review_date",
                f"{policy.document.title} was due for review on {policy.review_due.isoformat()}; "
                "this decision applies the latest published version.",
            )
        )
    if call_type is not None and call_type.classified_by is not None:
        source = policy.classification_sources[call_type.classified_by]
        warnings.append(Warning("classification_not_in_force_document", source.summary, source.citations))
    if policy.checks_abstraction and base.abstracted is None:
        warnings.append(
            Warning(
                "abstraction_not_checked",
                "The officer's home LPA and neighbourhood or the location's were not given, so abstraction was not checked.",
            )
        )
    described = {code for code, _ in base.described}
    added = [
        hit for hit in hits if hit.describes in described or any(base.evidence.get(k) for k in hit.adds_flags + hit.adds_markers)
    ]
    if added:
        parts = "; ".join(f"{_quoted(list(hit.words))} read as {', '.join(_reading(policy, hit, described))}" for hit in added)
        warnings.append(Warning("description_risk_indicators", f"The call description was screened for risk words: {parts}."))
    return tuple(warnings)


def _reading(policy: PolicySet, hit: ScreeningHit, described: set[str]) -> list[str]:
    """What a screening hit added: its flags and markers, and the incident type it describes."""
    reading = list(hit.adds_flags + hit.adds_markers)
    if hit.describes in described:
        reading.append(policy.call_types[hit.describes].name.lower())
    return reading


def decide_outcome(policy: PolicySet, request: AssessmentInput) -> tuple[str, Finding]:
    """Only the decision and its deciding reason: for tables of many decisions (the matrix)."""
    call_type = policy.call_types.get(request.call.type)
    hits = _screen(policy, request)
    evaluation = _Evaluation(policy, _base_facts(policy, request, call_type, hits, request.call.phase), call_type)
    matched, facts = evaluation.for_task(request.task)
    level, by_fallback = _precedence(*_fold(matched))
    deciding = (
        policy.fallback
        if by_fallback
        else max(
            (rule for rule in matched if rule.level is not None and rule.level != LEVEL_CONDITION),
            key=lambda rule: rule.level if rule.level is not None else -1,
        )
    )
    return DECISIONS[level], _finding(deciding, evaluation.base, facts, policy, call_type, request)


def decide(policy: PolicySet, request: AssessmentInput, *, now: datetime) -> Decision:
    """Decide whether the officer may be assigned to the task for this call, and on what terms."""
    call_type = policy.call_types.get(request.call.type)
    hits = _screen(policy, request)
    base = _base_facts(policy, request, call_type, hits, request.call.phase)
    evaluation = _Evaluation(policy, base, call_type)
    matched, facts = evaluation.for_task(request.task)
    base = evaluation.base
    level, by_fallback = _precedence(*_fold(matched))
    if by_fallback:
        matched = matched + [policy.fallback]

    findings = [_finding(rule, base, facts, policy, call_type, request) for rule in matched]
    by_effect: dict[str, list[Finding]] = {}
    for finding in findings:
        by_effect.setdefault(finding.effect, []).append(finding)
    reasons = sorted(
        (f for f in findings if f.effect in ("permit", "refer", "refuse")),
        key=lambda f: ("permit", "refer", "refuse").index(f.effect),
        reverse=True,
    )
    withdrawal = _unique(by_effect.get("withdraw", []))
    transport = _unique(by_effect.get("transport", []))

    relevant = list(dict.fromkeys((call_type.relevant_powers if call_type else ()) + policy.tasks[request.task].relevant_powers))
    held = [code for code in relevant if code in request.officer.designated_powers]
    suspended = evaluation.powers_suspended
    permitted = tuple(code for code in TASKS if evaluation.level_for(code) <= LEVEL_CONDITION)
    may_assign = level <= LEVEL_CONDITION
    past_review = policy.past_review(now.date())

    return Decision(
        decision=DECISIONS[level],
        may_assign=may_assign,
        decided_at=now,
        task=request.task,
        reasons=_unique(reasons),
        conditions=_unique(by_effect.get("condition", [])),
        limits=Limits(
            permitted_tasks=permitted,
            powers_available=() if suspended else _power_refs(policy, held),
            powers_not_held=_power_refs(policy, [code for code in relevant if code not in held]),
            powers_suspended=_power_refs(policy, held) if suspended else (),
            prohibited=_unique(by_effect.get("prohibit", [])),
            withdraw_when=tuple(f"{f.message.rstrip('.')} ({f.citation.label})." for f in withdrawal),
            withdrawal=withdrawal,
            transport="; ".join(f.message for f in transport) + "." if transport else "On foot.",
            transport_basis=transport,
        ),
        alternatives=() if may_assign else _alternatives(policy, request, evaluation, call_type, hits),
        policy=PolicyRef(
            id=policy.id,
            name=policy.name,
            document=policy.document.title,
            version=policy.version,
            effective_from=policy.effective_from,
            review_due=policy.review_due,
            digest=policy.digest,
            past_review_date=past_review,
        ),
        warnings=_warnings(policy, call_type, base, request, hits, past_review),
        screening=hits,
    )
