"""Compile one force's policy: merge the catalogues of its lineage, check every citation, compile
the rules and index them by call type and task, and freeze the result as a PolicySet."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from service.engine import rules as rule_compiler
from service.engine.citations import Sources
from service.engine.files import Problems, canonical
from service.engine.policy import (
    TASKS,
    CallType,
    Citation,
    ClassificationSource,
    ExcludedPower,
    PolicySet,
    Power,
    Rule,
    RuleIndex,
    Task,
)
from service.engine.screening import PatternCompiler, PatternError, Screener, compile_screener


@dataclass(slots=True)
class RawSet:
    """One folder of policy_data/ as read and schema-checked: file name -> JSON."""

    id: str
    directory: Path
    files: dict[str, Any]


def _merge_catalogue(chain: Iterable[RawSet], file: str, key: str, ident: str) -> list[tuple[RawSet, int, dict]]:
    """Entries of one catalogue across the lineage; a later set replaces an entry with the same id in place."""
    merged: dict[str, tuple[RawSet, int, dict]] = {}
    for raw in chain:
        for position, entry in enumerate(raw.files.get(file, {}).get(key, [])):
            merged[entry[ident]] = (raw, position, entry)
    return list(merged.values())


def _legal_basis(citation: Citation) -> str:
    return f"{citation.document}, {citation.clause}"


def compile_set(
    raw: RawSet, chain: list[RawSet], sources: Sources, problems: Problems, shown: Callable[[Path], str]
) -> PolicySet | None:
    """The frozen, indexed PolicySet for a force and the layers it inherits (``chain``, the force last);
    None, with every problem recorded, when anything is wrong."""
    before = len(problems.items)
    meta = raw.files["policy.json"]

    def where(owner: RawSet, file: str) -> str:
        return shown(owner.directory / file)

    powers: dict[str, Power] = {}
    for owner, position, entry in _merge_catalogue(chain, "powers.json", "powers", "code"):
        citation = sources.cite(
            entry["legal_basis"], policy=owner.id, file=where(owner, "powers.json"), pointer=f"/powers/{position}/legal_basis"
        )
        if citation:
            powers[entry["code"]] = Power(entry["code"], entry["name"], _legal_basis(citation), citation)
    excluded: dict[str, ExcludedPower] = {}
    for owner, position, entry in _merge_catalogue(chain, "powers.json", "excluded", "code"):
        citation = sources.cite(
            entry["legal_basis"], policy=owner.id, file=where(owner, "powers.json"), pointer=f"/excluded/{position}/legal_basis"
        )
        if "also" in entry:
            sources.cite(entry["also"], policy=owner.id, file=where(owner, "powers.json"), pointer=f"/excluded/{position}/also")
        if citation:
            excluded[entry["code"]] = ExcludedPower(entry["code"], entry["name"], _legal_basis(citation), citation)
        if entry["code"] in powers:
            problems.add(
                where(owner, "powers.json"), f"/excluded/{position}/code", "a power cannot be both designatable and excluded"
            )

    tasks: dict[str, Task] = {}
    for owner, position, entry in _merge_catalogue(chain, "tasks.json", "tasks", "code"):
        file = where(owner, "tasks.json")
        citation = sources.cite(entry["citation"], policy=owner.id, file=file, pointer=f"/tasks/{position}/citation")
        for field_name in ("requires_powers", "relevant_powers"):
            for number, code in enumerate(entry.get(field_name, [])):
                if code not in powers:
                    problems.add(file, f"/tasks/{position}/{field_name}/{number}", f"unknown power {code!r}")
        if citation:
            tasks[entry["code"]] = Task(
                code=entry["code"],
                name=entry["name"],
                kind=entry["kind"],
                citation=citation,
                requires_powers=tuple(entry.get("requires_powers", ())),
                relevant_powers=tuple(entry.get("relevant_powers", entry.get("requires_powers", ()))),
            )
    missing_tasks = [code for code in TASKS if code not in tasks]
    if missing_tasks:
        problems.add(where(raw, "tasks.json"), "/tasks", f"the task catalogue lacks {', '.join(missing_tasks)}")

    classification_sources: dict[str, ClassificationSource] = {}
    for code, source in meta.get("classification_sources", {}).items():
        citations = [
            sources.cite(
                c, policy=raw.id, file=where(raw, "policy.json"), pointer=f"/classification_sources/{code}/citations/{n}"
            )
            for n, c in enumerate(source["citations"])
        ]
        classification_sources[code] = ClassificationSource(code, source["summary"], tuple(c for c in citations if c))

    call_types: dict[str, CallType] = {}
    for owner, position, entry in _merge_catalogue(chain, "call-types.json", "call_types", "code"):
        file = where(owner, "call-types.json")
        pointer = f"/call_types/{position}"
        citation = sources.cite(entry["citation"], policy=owner.id, file=file, pointer=pointer + "/citation")
        support_citation = None
        if "support_citation" in entry:
            support_citation = sources.cite(
                entry["support_citation"], policy=owner.id, file=file, pointer=pointer + "/support_citation"
            )
        for number, code in enumerate(entry["relevant_powers"]):
            if code not in powers:
                problems.add(file, f"{pointer}/relevant_powers/{number}", f"unknown power {code!r}")
        classified_by = entry.get("classified_by")
        if classified_by is not None and classified_by not in classification_sources:
            problems.add(file, pointer + "/classified_by", f"not a classification source of {raw.id!r}: {classified_by!r}")
        if citation:
            call_types[entry["code"]] = CallType(
                code=entry["code"],
                name=entry["name"],
                group=entry["group"],
                classification=entry["classification"],
                citation=citation,
                relevant_powers=tuple(entry["relevant_powers"]),
                support_tasks=frozenset(entry["support_tasks"]),
                any_phase_tasks=frozenset(entry.get("any_phase_tasks", ())),
                support_citation=support_citation,
                tags=frozenset(entry.get("tags", ())),
                classified_by=classified_by,
            )
    if not call_types:
        problems.add(where(raw, "call-types.json"), "/call_types", "a force needs a call-type catalogue")

    screener = _compile_screener(chain, call_types, problems, where)

    compiled = []
    for owner, position, entry in _merge_catalogue(chain, "rules.json", "rules", "id"):
        file = where(owner, "rules.json")
        pointer = f"/rules/{position}"
        named = owner.files["rules.json"].get("citations", {})
        citation = None
        if "cite" in entry:
            if entry["cite"] not in named:
                problems.add(file, pointer + "/cite", f"no citation named {entry['cite']!r} in this file's 'citations'")
                continue
            citation = sources.cite(named[entry["cite"]], policy=owner.id, file=file, pointer=f"/citations/{entry['cite']}")
        elif "citation" in entry:
            citation = sources.cite(entry["citation"], policy=owner.id, file=file, pointer=pointer + "/citation")
        elif entry["citation_from"] == "call_type_support" and entry["when"].get("task_any_phase_for_call") is not True:
            problems.add(file, pointer + "/citation_from", "call_type_support needs task_any_phase_for_call: true")
        elif entry["citation_from"] == "described_call_type" and not entry["when"].get("described_classes"):
            # Only a rule that fires on a described incident type has one to cite.
            problems.add(file, pointer + "/citation_from", "described_call_type needs a described_classes test")
        elif entry["citation_from"] in ("call_type", "call_type_support") and (
            not (entry["when"].get("call_types") or entry["when"].get("call_classes"))
            or "unknown" in entry["when"].get("call_classes", ())
        ):
            # An unknown call type has no catalogue entry to cite: the rule must fire only on known ones.
            problems.add(file, pointer + "/citation_from", f"{entry['citation_from']} needs a call_types or call_classes test")
        if citation is None and "citation_from" not in entry:
            continue
        for message_problem in rule_compiler.message_problems(entry["message"]):
            problems.add(file, pointer + "/message", message_problem)
        for number, code in enumerate(entry["when"].get("call_types", [])):
            if code not in call_types:
                problems.add(file, f"{pointer}/when/call_types/{number}", f"unknown call type {code!r}")
        compiled.append(rule_compiler.compile_rule(entry, citation))

    fallbacks = [r for r in compiled if r.fallback]
    if len(fallbacks) != 1:
        problems.add(where(raw, "rules.json"), "/rules", f"exactly one fallback rule is needed, found {len(fallbacks)}")
    if len(problems.items) > before:
        return None

    indexes, unknown = _rule_indexes(compiled, tasks, call_types)
    digest_input = {
        "sets": {owner.id: owner.files for owner in chain},
        "sources": {k: sources.digest_parts[k] for k in sorted(sources.digest_parts)},
    }
    return PolicySet(
        id=raw.id,
        name=meta["name"],
        publisher=meta["publisher"],
        document=sources.documents[meta["document"]],
        version=meta["version"],
        effective_from=date.fromisoformat(meta["effective_from"]),
        review_due=date.fromisoformat(meta["review_due"]),
        digest="sha256:" + hashlib.sha256(canonical(digest_input).encode("utf-8")).hexdigest(),
        notes=meta.get("notes", ""),
        checks_abstraction=meta.get("checks_abstraction", False),
        inherits=tuple(p.id for p in chain[:-1]),
        call_types=MappingProxyType(call_types),
        tasks=MappingProxyType({code: tasks[code] for code in TASKS}),
        powers=MappingProxyType(powers),
        excluded_powers=MappingProxyType(excluded),
        static_rules=tuple(r for r in compiled if not r.task_dependent and not r.fallback),
        task_rules=tuple(r for r in compiled if r.task_dependent and not r.fallback),
        rules_for_call=MappingProxyType(indexes),
        rules_for_unknown=unknown,
        fallback=fallbacks[0],
        screener=screener,
        classification_sources=MappingProxyType(classification_sources),
        rule_count=len(compiled),
    )


def _rule_indexes(
    compiled: list[Rule], tasks: dict[str, Task], call_types: Iterable[str]
) -> tuple[dict[str, RuleIndex], RuleIndex]:
    """Per call type, the rules that can apply to it, in policy order; and those for an unknown call type."""
    general: list[tuple[int, Rule]] = []
    specific: dict[str, list[tuple[int, Rule]]] = {}
    for position, rule in enumerate(compiled):
        if rule.fallback:
            continue
        limited = rule.when.get("call_types")
        if limited is None:
            general.append((position, rule))
        else:
            for code in limited:
                specific.setdefault(code, []).append((position, rule))

    def index(rules: list[Rule]) -> RuleIndex:
        return RuleIndex(
            static=tuple(rule for rule in rules if not rule.task_dependent),
            by_task=MappingProxyType(
                {
                    code: tuple(
                        r for r in rules if r.task_dependent and rule_compiler.admits_task(r.when, code, tasks[code].kind)
                    )
                    for code in TASKS
                }
            ),
        )

    unknown = index([rule for _, rule in general])
    indexes = {
        code: index([rule for _, rule in sorted(general + specific[code], key=lambda item: item[0])])
        if code in specific
        else unknown
        for code in call_types
    }
    return indexes, unknown


def _compile_screener(
    chain: list[RawSet], call_types: dict[str, CallType], problems: Problems, where: Callable[[RawSet, str], str]
) -> Screener:
    """The screening list of the lineage: categories merged by code (a later set replaces one in
    place); negators, irregular forms and harmless phrases gathered from every layer."""
    settings: dict[str, Any] = {"negators": [], "irregular": {}, "harmless": [], "common_words": []}
    for owner in chain:
        data = owner.files.get("screening.json", {})
        settings["negators"] += data.get("negators", [])
        settings["common_words"] += data.get("common_words", [])
        settings["irregular"].update(data.get("irregular", {}))
        settings["harmless"] += data.get("harmless", [])
    compiler = PatternCompiler(settings["irregular"])
    entries = []
    for owner, position, entry in _merge_catalogue(chain, "screening.json", "categories", "category"):
        file, pointer = where(owner, "screening.json"), f"/categories/{position}"
        for key, codes in (
            ("describes", [entry["describes"]] if "describes" in entry else []),
            ("inherent_to", entry.get("inherent_to", [])),
        ):
            for code in codes:
                if code not in call_types:
                    problems.add(file, f"{pointer}/{key}", f"unknown call type {code!r}")
        if (
            entry.get("describes")
            and call_types.get(entry["describes"])
            and call_types[entry["describes"]].classification != "outside_remit"
        ):
            problems.add(
                file,
                pointer + "/describes",
                f"{entry['describes']!r} is within the remit; only outside-remit incident types are described",
            )
        for key in ("patterns", "requires", "except"):
            for number, text in enumerate(entry.get(key, [])):
                try:
                    compiler.compile(text)
                except PatternError as exc:
                    problems.add(file, f"{pointer}/{key}/{number}", str(exc))
        entries.append(entry)
    for owner in chain:
        for number, text in enumerate(owner.files.get("screening.json", {}).get("harmless", [])):
            try:
                compiler.compile(text)
            except PatternError as exc:
                problems.add(where(owner, "screening.json"), f"/harmless/{number}", str(exc))
    try:
        return compile_screener(entries, settings, compiler)
    except PatternError:
        return Screener((), (), ())  # every faulty pattern is already a problem; the set is not built
