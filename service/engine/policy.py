"""Frozen, compiled models of a policy set: what the loader builds and the engine reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from service.engine.screening import Screener

# Effects that decide the outcome, by severity (least to most restrictive).
LEVEL_PERMIT = 0
LEVEL_CONDITION = 1
LEVEL_REFER = 2
LEVEL_REFUSE = 3
EFFECT_LEVELS: Mapping[str, int] = {
    "permit": LEVEL_PERMIT,
    "condition": LEVEL_CONDITION,
    "refer": LEVEL_REFER,
    "refuse": LEVEL_REFUSE,
}
# Every effect a rule may have (schemas/rules.schema.json): the deciding four, then the parts of the answer.
EFFECTS = ("permit", "condition", "refer", "refuse", "prohibit", "withdraw", "transport")
DECISIONS = ("deploy", "deploy_with_conditions", "refer_to_supervisor", "do_not_deploy")

TASKS = (
    "attend",
    "scene_guard",
    "house_to_house",
    "cctv_collection",
    "victim_statement",
    "reassurance_patrol",
    "area_search",
    "traffic_control",
    "custody_conveyance",
    "covert_deployment",
)
PHASES = ("in_progress", "recent", "scene_secured")
GRADES = ("emergency", "priority", "scheduled", "resolution_without_deployment")
FLAGS = (
    "weapon_reported",
    "violence_threatened",
    "confrontation_likely",
    "suspect_present",
    "injury_reported",
    "vulnerable_person",
    "safeguarding_concern",
    "multiple_parties",
    "community_sensitive",
    "serious_investigation",
)
MARKERS = (
    "weapons",
    "firearms",
    "violent_person",
    "dangerous_dog",
    "drugs",
    "hazardous_materials",
    "water",
    "live_lane",
    "mental_health_risk",
    "officer_safety",
)
RISK_LEVELS = ("low", "medium", "high")
# Placeholders a rule's message may use; decide() fills exactly these (see decide._message).
MESSAGE_FIELDS: Mapping[str, str] = {
    "call_type_name": "the call type's name from the catalogue (the code, for an unknown call type)",
    "task_name": "the task's name from the catalogue",
    "evidence": "' (the call description says \"...\")' with the words that raised a flag or marker the rule tests, or nothing",
    "markers": "the location markers the rule tests that are present, comma-separated",
    "missing_powers": "the powers the task requires that the officer does not hold, comma-separated",
    "abstraction": "the incident's LPA and neighbourhood against the officer's home LPA and neighbourhood",
    "described": "the outside-remit incident types the call description describes, each with the words that describe it",
}
SETTINGS = ("urban", "rural")
TRAINING_STATUSES = ("foundation", "coaching", "independent")


@dataclass(frozen=True, slots=True)
class Document:
    """A source document that rules cite; legislation carries no text."""

    id: str
    title: str
    publisher: str
    kind: str
    cite_as: str


@dataclass(frozen=True, slots=True)
class Citation:
    """A resolved citation: which set declared it, which document and clause, and the words."""

    policy: str
    document_id: str
    document: str
    clause: str
    quote: str | None
    cite_as: str

    @property
    def label(self) -> str:
        """Short human form, e.g. 'WMP 2.8.3'."""
        return f"{self.cite_as} {self.clause}"


@dataclass(frozen=True, slots=True)
class Power:
    code: str
    name: str
    legal_basis: str
    citation: Citation


@dataclass(frozen=True, slots=True)
class ExcludedPower:
    code: str
    name: str
    legal_basis: str
    citation: Citation


@dataclass(frozen=True, slots=True)
class CallType:
    code: str
    name: str
    group: str
    classification: str
    citation: Citation
    relevant_powers: tuple[str, ...]
    support_tasks: frozenset[str]
    any_phase_tasks: frozenset[str]
    support_citation: Citation | None
    tags: frozenset[str]
    classified_by: str | None


@dataclass(frozen=True, slots=True)
class Task:
    code: str
    name: str
    kind: str
    citation: Citation
    requires_powers: tuple[str, ...]
    relevant_powers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClassificationSource:
    code: str
    summary: str
    citations: tuple[Citation, ...]


# A compiled test over (base facts, task facts); see decide.py for the facts.
Predicate = Callable[[object, object], bool]


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled rule. ``citation`` is None when it comes from the call type or task."""

    id: str
    code: str
    effect: str
    level: int | None
    message: str
    templated: bool
    citation: Citation | None
    citation_from: str | None
    test: Predicate
    task_dependent: bool
    suspends_powers: bool
    fallback: bool
    watched_flags: frozenset[str]
    watched_markers: frozenset[str]
    when: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RuleIndex:
    static: tuple[Rule, ...]
    by_task: Mapping[str, tuple[Rule, ...]]


@dataclass(frozen=True, slots=True)
class PolicySet:
    """One force's policy, merged with the layers it inherits and compiled for lookup."""

    id: str
    name: str
    publisher: str
    document: Document
    version: str
    effective_from: date
    review_due: date
    digest: str
    notes: str
    checks_abstraction: bool
    inherits: tuple[str, ...]
    call_types: Mapping[str, CallType]
    tasks: Mapping[str, Task]
    powers: Mapping[str, Power]
    excluded_powers: Mapping[str, ExcludedPower]
    static_rules: tuple[Rule, ...]
    task_rules: tuple[Rule, ...]
    # Per call type, the rules that can apply to it: (task-independent rules, task -> task rules).
    # Rules limited to other call types are left out, so a decision's cost does not grow with the catalogue.
    rules_for_call: Mapping[str, RuleIndex]
    rules_for_unknown: RuleIndex
    fallback: Rule
    screener: Screener
    classification_sources: Mapping[str, ClassificationSource]
    rule_count: int

    def past_review(self, today: date) -> bool:
        """Whether ``today`` is after the policy's review date."""
        return today > self.review_due


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a force's policy and when it decides: from ``effective_from`` (None: the version
    from the policy directory, in force until an approved version takes over) until ``effective_to``."""

    policy: PolicySet
    effective_from: datetime | None = None
    effective_to: datetime | None = None

    def in_force(self, when: datetime) -> bool:
        started = self.effective_from is None or self.effective_from <= when
        return started and (self.effective_to is None or when < self.effective_to)


@dataclass(frozen=True, slots=True)
class PolicyRegistry:
    """Every force policy set loaded from one policy directory, and the approved versions of each
    force (``versions``, each force's sorted by when it takes effect)."""

    sets: Mapping[str, PolicySet]
    documents: Mapping[str, Document]
    digest: str
    versions: Mapping[str, tuple[Version, ...]] = field(default_factory=dict)

    def get(self, force: str) -> PolicySet | None:
        """The force's version in force now."""
        return self.at(force, datetime.now(UTC))

    def at(self, force: str, when: datetime) -> PolicySet | None:
        """The force's version in force at ``when``: the approved version that took effect last, else the
        policy directory's."""
        chosen = self.sets.get(force)
        for version in self.versions.get(force, ()):  # sorted by (effective_from, digest): the last in force wins
            if version.effective_from is not None and version.in_force(when):
                chosen = version.policy
        return chosen

    def by_digest(self, digest: str) -> PolicySet | None:
        """A version held in memory by its digest (the policy directory's or an approved one)."""
        for policy in self.sets.values():
            if policy.digest == digest:
                return policy
        for versions in self.versions.values():
            for version in versions:
                if version.policy.digest == digest:
                    return version.policy
        return None

    def with_versions(self, versions: Mapping[str, tuple[Version, ...]]) -> PolicyRegistry:
        """This registry with these approved versions (sorted by when they take effect)."""
        ordered = {
            force: tuple(sorted(entries, key=lambda v: (v.effective_from or datetime.min.replace(tzinfo=UTC), v.policy.digest)))
            for force, entries in versions.items()
            if force in self.sets
        }
        return replace(self, versions=MappingProxyType(ordered))
