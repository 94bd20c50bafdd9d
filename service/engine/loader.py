"""policy_data/ -> JSON Schema check -> citation check -> frozen PolicyRegistry (fails loudly)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from service.engine import rules as rule_compiler
from service.engine.policy import (
    TASKS,
    CallType,
    Citation,
    ClassificationSource,
    Document,
    ExcludedPower,
    Indicator,
    PolicyRegistry,
    PolicySet,
    Power,
    Rule,
    RuleIndex,
    Task,
)
from service.engine.sources import SourceText, normalise, parse_headed, parse_numbered

SOURCES_DIR = "sources"
SCHEMA_FOR_FILE = {
    "policy.json": "policy.schema.json",
    "call-types.json": "call-types.schema.json",
    "tasks.json": "tasks.schema.json",
    "powers.json": "powers.schema.json",
    "rules.json": "rules.schema.json",
    "screening.json": "screening.schema.json",
}


class PolicyLoadError(Exception):
    """The policy directory cannot be loaded; ``problems`` names each file and path at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("policy data is invalid:\n  " + "\n  ".join(problems))


@dataclass(slots=True)
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, file: str, pointer: str, message: str) -> None:
        self.items.append(f"{file}: {pointer or '/'}: {message}")


@dataclass(slots=True)
class _RawSet:
    id: str
    directory: Path
    files: dict[str, Any]


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _read_json(path: Path, shown: str, problems: _Problems) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        problems.add(shown, "", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        problems.add(shown, "", f"cannot be read: {exc}")
    return None


def _validators(schema_dir: Path) -> dict[str, Draft202012Validator]:
    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(schema_dir.glob("*.schema.json"))}
    registry: Registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    return {name: Draft202012Validator(schema, registry=registry) for name, schema in schemas.items()}


def _validate(validator: Draft202012Validator, data: Any, shown: str, problems: _Problems) -> bool:
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    for error in errors:
        pointer = "/" + "/".join(str(part) for part in error.absolute_path)
        problems.add(shown, pointer, error.message)
    return not errors


def _pointer_for(shown_root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(shown_root.parent))
    except ValueError:
        return str(path)


class _Context:
    """State shared while one policy directory is loaded."""

    def __init__(self, policy_dir: Path, schema_dir: Path) -> None:
        self.policy_dir = policy_dir
        self.problems = _Problems()
        self.validators = _validators(schema_dir)
        self.documents: dict[str, Document] = {}
        self.texts: dict[str, SourceText] = {}
        self.structures: dict[str, str] = {}
        self.source_digest_parts: dict[str, str] = {}

    def shown(self, path: Path) -> str:
        return _pointer_for(self.policy_dir, path)

    def citation(self, raw: dict[str, Any], *, policy: str, file: str, pointer: str) -> Citation | None:
        """Resolve and check one citation; records a problem and returns None when it is wrong."""
        document = self.documents.get(raw["document"])
        if document is None:
            self.problems.add(file, pointer + "/document", f"unknown document {raw['document']!r}")
            return None
        clause = raw["clause"]
        quote = raw.get("quote")
        if document.kind != "legislation":
            if quote is None:
                self.problems.add(file, pointer, f"a citation of {document.cite_as} must quote the words it rests on")
                return None
            text = self.texts[document.id].clause_text(clause)
            if text is None:
                self.problems.add(file, pointer + "/clause", f"{document.cite_as} has no clause {clause!r}")
                return None
            if normalise(quote) not in text:
                self.problems.add(
                    file, pointer + "/quote", f"quote not found word for word in {document.cite_as} {clause}: {quote!r}"
                )
                return None
        return Citation(
            policy=policy,
            document_id=document.id,
            document=document.title,
            clause=clause,
            quote=quote,
            cite_as=document.cite_as,
        )


def _load_sources(ctx: _Context) -> None:
    directory = ctx.policy_dir / SOURCES_DIR
    index_path = directory / "index.json"
    shown = ctx.shown(index_path)
    if not index_path.is_file():
        ctx.problems.add(shown, "", "missing: the index of source documents is required")
        return
    index = _read_json(index_path, shown, ctx.problems)
    if index is None or not _validate(ctx.validators["sources.schema.json"], index, shown, ctx.problems):
        return
    for position, entry in enumerate(index["documents"]):
        pointer = f"/documents/{position}"
        if entry["id"] in ctx.documents:
            ctx.problems.add(shown, pointer + "/id", f"duplicate document id {entry['id']!r}")
            continue
        document = Document(entry["id"], entry["title"], entry["publisher"], entry["kind"], entry["cite_as"])
        if entry["kind"] != "legislation":
            text_path = directory / entry["file"]
            try:
                text = text_path.read_text(encoding="utf-8")
            except OSError as exc:
                ctx.problems.add(shown, pointer + "/file", f"cannot read {entry['file']}: {exc}")
                continue
            try:
                if entry["structure"] == "numbered":
                    parsed = parse_numbered(entry["id"], text)
                else:
                    parsed = parse_headed(entry["id"], text, entry.get("sections", []))
            except ValueError as exc:
                ctx.problems.add(shown, pointer + "/sections", str(exc))
                continue
            ctx.texts[entry["id"]] = parsed
            ctx.source_digest_parts[entry["file"]] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        ctx.documents[entry["id"]] = document
    ctx.source_digest_parts["index.json"] = _canonical(index)


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _read_sets(ctx: _Context) -> dict[str, _RawSet]:
    sets: dict[str, _RawSet] = {}
    for directory in sorted(p for p in ctx.policy_dir.iterdir() if p.is_dir() and p.name != SOURCES_DIR):
        if directory.name.startswith("."):
            continue
        files: dict[str, Any] = {}
        for path in sorted(directory.iterdir()):
            shown = ctx.shown(path)
            schema_name = SCHEMA_FOR_FILE.get(path.name)
            if schema_name is None:
                ctx.problems.add(shown, "", f"unexpected file; a policy set holds only {', '.join(SCHEMA_FOR_FILE)}")
                continue
            data = _read_json(path, shown, ctx.problems)
            if data is not None and _validate(ctx.validators[schema_name], data, shown, ctx.problems):
                files[path.name] = data
        policy = files.get("policy.json")
        if policy is None:
            if not (directory / "policy.json").exists():
                ctx.problems.add(ctx.shown(directory / "policy.json"), "", "missing: every policy set needs one")
            continue
        if policy["id"] != directory.name:
            ctx.problems.add(ctx.shown(directory / "policy.json"), "/id", f"must equal the folder name {directory.name!r}")
            continue
        for document_id in policy["documents"] + ([policy["document"]] if "document" in policy else []):
            if document_id not in ctx.documents:
                ctx.problems.add(ctx.shown(directory / "policy.json"), "/documents", f"unknown document {document_id!r}")
        sets[policy["id"]] = _RawSet(policy["id"], directory, files)
    return sets


def _lineage(raw: _RawSet, sets: dict[str, _RawSet], ctx: _Context) -> list[_RawSet]:
    """The layers a set inherits, in order, then the set itself."""
    chain: list[_RawSet] = []
    for parent_id in raw.files["policy.json"].get("inherits", []):
        parent = sets.get(parent_id)
        shown = ctx.shown(raw.directory / "policy.json")
        if parent is None:
            ctx.problems.add(shown, "/inherits", f"unknown policy set {parent_id!r}")
            continue
        if parent.files["policy.json"]["kind"] != "layer":
            ctx.problems.add(shown, "/inherits", f"{parent_id!r} is a force set; only layers can be inherited")
            continue
        chain.extend(p for p in _lineage(parent, sets, ctx) if p not in chain)
    chain.append(raw)
    return chain


def _merge_catalogue(chain: Iterable[_RawSet], file: str, key: str, ident: str) -> list[tuple[_RawSet, int, dict]]:
    """Entries of one catalogue across the lineage; a later set replaces an entry with the same id in place."""
    merged: dict[str, tuple[_RawSet, int, dict]] = {}
    for raw in chain:
        for position, entry in enumerate(raw.files.get(file, {}).get(key, [])):
            merged[entry[ident]] = (raw, position, entry)
    return list(merged.values())


def _legal_basis(citation: Citation) -> str:
    return f"{citation.document}, {citation.clause}"


def _build_set(raw: _RawSet, sets: dict[str, _RawSet], ctx: _Context) -> PolicySet | None:
    before = len(ctx.problems.items)
    meta = raw.files["policy.json"]
    chain = _lineage(raw, sets, ctx)

    def shown(owner: _RawSet, file: str) -> str:
        return ctx.shown(owner.directory / file)

    powers: dict[str, Power] = {}
    for owner, position, entry in _merge_catalogue(chain, "powers.json", "powers", "code"):
        citation = ctx.citation(
            entry["legal_basis"], policy=owner.id, file=shown(owner, "powers.json"), pointer=f"/powers/{position}/legal_basis"
        )
        if citation:
            powers[entry["code"]] = Power(entry["code"], entry["name"], _legal_basis(citation), citation)
    excluded: dict[str, ExcludedPower] = {}
    for owner, position, entry in _merge_catalogue(chain, "powers.json", "excluded", "code"):
        citation = ctx.citation(
            entry["legal_basis"], policy=owner.id, file=shown(owner, "powers.json"), pointer=f"/excluded/{position}/legal_basis"
        )
        if "also" in entry:
            ctx.citation(entry["also"], policy=owner.id, file=shown(owner, "powers.json"), pointer=f"/excluded/{position}/also")
        if citation:
            excluded[entry["code"]] = ExcludedPower(entry["code"], entry["name"], _legal_basis(citation), citation)
        if entry["code"] in powers:
            ctx.problems.add(shown(owner, "powers.json"), f"/excluded/{position}/code", "a power cannot be both designatable and excluded")

    tasks: dict[str, Task] = {}
    for owner, position, entry in _merge_catalogue(chain, "tasks.json", "tasks", "code"):
        file = shown(owner, "tasks.json")
        citation = ctx.citation(entry["citation"], policy=owner.id, file=file, pointer=f"/tasks/{position}/citation")
        for field_name in ("requires_powers", "relevant_powers"):
            for number, code in enumerate(entry.get(field_name, [])):
                if code not in powers:
                    ctx.problems.add(file, f"/tasks/{position}/{field_name}/{number}", f"unknown power {code!r}")
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
        ctx.problems.add(shown(raw, "tasks.json"), "/tasks", f"the task catalogue lacks {', '.join(missing_tasks)}")

    classification_sources: dict[str, ClassificationSource] = {}
    for code, source in meta.get("classification_sources", {}).items():
        citations = [
            ctx.citation(c, policy=raw.id, file=shown(raw, "policy.json"), pointer=f"/classification_sources/{code}/citations/{n}")
            for n, c in enumerate(source["citations"])
        ]
        classification_sources[code] = ClassificationSource(code, source["summary"], tuple(c for c in citations if c))

    call_types: dict[str, CallType] = {}
    for owner, position, entry in _merge_catalogue(chain, "call-types.json", "call_types", "code"):
        file = shown(owner, "call-types.json")
        pointer = f"/call_types/{position}"
        citation = ctx.citation(entry["citation"], policy=owner.id, file=file, pointer=pointer + "/citation")
        support_citation = None
        if "support_citation" in entry:
            support_citation = ctx.citation(entry["support_citation"], policy=owner.id, file=file, pointer=pointer + "/support_citation")
        for number, code in enumerate(entry["relevant_powers"]):
            if code not in powers:
                ctx.problems.add(file, f"{pointer}/relevant_powers/{number}", f"unknown power {code!r}")
        classified_by = entry.get("classified_by")
        if classified_by is not None and classified_by not in classification_sources:
            ctx.problems.add(file, pointer + "/classified_by", f"not a classification source of {raw.id!r}: {classified_by!r}")
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
        ctx.problems.add(shown(raw, "call-types.json"), "/call_types", "a force needs a call-type catalogue")

    indicators: list[Indicator] = []
    for _owner, _position, entry in _merge_catalogue(chain, "screening.json", "indicators", "category"):
        indicators.append(
            Indicator(
                category=entry["category"],
                pattern=_indicator_pattern(entry["terms"]),
                implies_flags=frozenset(entry.get("implies_flags", ())),
                implies_markers=frozenset(entry.get("implies_markers", ())),
            )
        )

    compiled = []
    for owner, position, entry in _merge_catalogue(chain, "rules.json", "rules", "id"):
        file = shown(owner, "rules.json")
        pointer = f"/rules/{position}"
        named = owner.files["rules.json"].get("citations", {})
        citation = None
        if "cite" in entry:
            if entry["cite"] not in named:
                ctx.problems.add(file, pointer + "/cite", f"no citation named {entry['cite']!r} in this file's 'citations'")
                continue
            citation = ctx.citation(named[entry["cite"]], policy=owner.id, file=file, pointer=f"/citations/{entry['cite']}")
        elif "citation" in entry:
            citation = ctx.citation(entry["citation"], policy=owner.id, file=file, pointer=pointer + "/citation")
        elif entry["citation_from"] == "call_type_support" and entry["when"].get("task_any_phase_for_call") is not True:
            ctx.problems.add(file, pointer + "/citation_from", "call_type_support needs task_any_phase_for_call: true")
        if citation is None and "citation_from" not in entry:
            continue
        for number, code in enumerate(entry["when"].get("call_types", [])):
            if code not in call_types:
                ctx.problems.add(file, f"{pointer}/when/call_types/{number}", f"unknown call type {code!r}")
        compiled.append(rule_compiler.compile_rule(entry, citation))

    fallbacks = [r for r in compiled if r.fallback]
    if len(fallbacks) != 1:
        ctx.problems.add(shown(raw, "rules.json"), "/rules", f"exactly one fallback rule is needed, found {len(fallbacks)}")
    if len(ctx.problems.items) > before:
        return None

    indexes, unknown = _rule_indexes(compiled, tasks, call_types)
    digest_input = {
        "sets": {owner.id: owner.files for owner in chain},
        "sources": {k: ctx.source_digest_parts[k] for k in sorted(ctx.source_digest_parts)},
    }
    return PolicySet(
        id=raw.id,
        name=meta["name"],
        publisher=meta["publisher"],
        document=ctx.documents[meta["document"]],
        version=meta["version"],
        effective_from=date.fromisoformat(meta["effective_from"]),
        review_due=date.fromisoformat(meta["review_due"]),
        digest="sha256:" + hashlib.sha256(_canonical(digest_input).encode("utf-8")).hexdigest(),
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
        indicators=tuple(indicators),
        classification_sources=MappingProxyType(classification_sources),
        rule_count=len(compiled),
    )


def _rule_indexes(compiled: list[Rule], tasks: dict[str, Task], call_types: Iterable[str]) -> tuple[dict[str, RuleIndex], RuleIndex]:
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
                    code: tuple(r for r in rules if r.task_dependent and rule_compiler.admits_task(r.when, code, tasks[code].kind))
                    for code in TASKS
                }
            ),
        )

    unknown = index([rule for _, rule in general])
    indexes = {
        code: index([rule for _, rule in sorted(general + specific[code], key=lambda item: item[0])]) if code in specific else unknown
        for code in call_types
    }
    return indexes, unknown


def _indicator_pattern(terms: list[str]) -> re.Pattern[str]:
    alternatives = sorted(terms, key=len, reverse=True)
    body = "|".join(re.escape(term).replace(r"\ ", r"\s+").replace(r"\-", r"[\s-]?") for term in alternatives)
    return re.compile(rf"\b(?:{body})\b", re.IGNORECASE)


def load_registry(policy_dir: Path, schema_dir: Path) -> PolicyRegistry:
    """Load, validate and compile every policy set; raise PolicyLoadError naming each fault."""
    if not policy_dir.is_dir():
        raise PolicyLoadError([f"{policy_dir}: not a directory"])
    ctx = _Context(policy_dir, schema_dir)
    _load_sources(ctx)
    if ctx.problems.items:
        raise PolicyLoadError(ctx.problems.items)
    raw_sets = _read_sets(ctx)
    sets: dict[str, PolicySet] = {}
    for set_id, raw in raw_sets.items():
        if raw.files["policy.json"]["kind"] != "force":
            continue
        built = _build_set(raw, raw_sets, ctx)
        if built is not None:
            sets[set_id] = built
    if not sets and not ctx.problems.items:
        ctx.problems.add(str(policy_dir), "", "no force policy set found")
    if ctx.problems.items:
        raise PolicyLoadError(ctx.problems.items)
    digest = hashlib.sha256(_canonical({k: v.digest for k, v in sorted(sets.items())}).encode()).hexdigest()
    return PolicyRegistry(sets=MappingProxyType(sets), documents=MappingProxyType(dict(ctx.documents)), digest="sha256:" + digest)
