"""policy_data/ -> JSON Schema check -> citation check -> frozen PolicyRegistry (fails loudly).

Reading and validating files is here; checking citations against the source documents is in
citations.py, and compiling a force's catalogues and rules in compile.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import MappingProxyType

from service.engine.citations import SOURCES_DIR, Sources
from service.engine.compile import RawSet, compile_set
from service.engine.files import PolicyLoadError, Problems, canonical, read_json, validate, validators
from service.engine.policy import PolicyRegistry, PolicySet

__all__ = ["PolicyLoadError", "load_registry"]

SCHEMA_FOR_FILE = {
    "policy.json": "policy.schema.json",
    "call-types.json": "call-types.schema.json",
    "tasks.json": "tasks.schema.json",
    "powers.json": "powers.schema.json",
    "rules.json": "rules.schema.json",
    "screening.json": "screening.schema.json",
}


class _Loading:
    """State shared while one policy directory is loaded."""

    def __init__(self, policy_dir: Path, schema_dir: Path) -> None:
        self.policy_dir = policy_dir
        self.problems = Problems()
        self.validators = validators(schema_dir)
        self.sources = Sources(self.problems)

    def shown(self, path: Path) -> str:
        """A path as problems name it: relative to the folder that holds the policy directory."""
        try:
            return str(path.relative_to(self.policy_dir.parent))
        except ValueError:
            return str(path)

    def read_sets(self) -> dict[str, RawSet]:
        """Every policy set folder, its files schema-checked."""
        sets: dict[str, RawSet] = {}
        for directory in sorted(p for p in self.policy_dir.iterdir() if p.is_dir() and p.name != SOURCES_DIR):
            if directory.name.startswith("."):
                continue
            files: dict[str, object] = {}
            for path in sorted(directory.iterdir()):
                shown = self.shown(path)
                schema_name = SCHEMA_FOR_FILE.get(path.name)
                if schema_name is None:
                    self.problems.add(shown, "", f"unexpected file; a policy set holds only {', '.join(SCHEMA_FOR_FILE)}")
                    continue
                data = read_json(path, shown, self.problems)
                if data is not None and validate(self.validators[schema_name], data, shown, self.problems):
                    files[path.name] = data
            policy = files.get("policy.json")
            if not isinstance(policy, dict):
                if not (directory / "policy.json").exists():
                    self.problems.add(self.shown(directory / "policy.json"), "", "missing: every policy set needs one")
                continue
            if policy["id"] != directory.name:
                self.problems.add(self.shown(directory / "policy.json"), "/id", f"must equal the folder name {directory.name!r}")
                continue
            unknown = [
                document_id
                for document_id in policy["documents"] + ([policy["document"]] if "document" in policy else [])
                if document_id not in self.sources.documents
            ]
            for document_id in unknown:
                self.problems.add(self.shown(directory / "policy.json"), "/documents", f"unknown document {document_id!r}")
            if unknown:
                continue  # a set citing documents that are not bundled cannot be compiled
            sets[policy["id"]] = RawSet(policy["id"], directory, files)
        return sets

    def lineage(self, raw: RawSet, sets: dict[str, RawSet]) -> list[RawSet]:
        """The layers a set inherits, in order, then the set itself."""
        chain: list[RawSet] = []
        for parent_id in raw.files["policy.json"].get("inherits", []):
            parent = sets.get(parent_id)
            shown = self.shown(raw.directory / "policy.json")
            if parent is None:
                self.problems.add(shown, "/inherits", f"unknown policy set {parent_id!r}")
                continue
            if parent.files["policy.json"]["kind"] != "layer":
                self.problems.add(shown, "/inherits", f"{parent_id!r} is a force set; only layers can be inherited")
                continue
            chain.extend(p for p in self.lineage(parent, sets) if p not in chain)
        chain.append(raw)
        return chain


def load_registry(policy_dir: Path, schema_dir: Path) -> PolicyRegistry:
    """Load, validate and compile every policy set; raise PolicyLoadError naming each fault."""
    if not policy_dir.is_dir():
        raise PolicyLoadError([f"{policy_dir}: not a directory"])
    loading = _Loading(policy_dir, schema_dir)
    sources_dir = policy_dir / SOURCES_DIR
    loading.sources.load(sources_dir, loading.shown(sources_dir / "index.json"), loading.validators["sources.schema.json"])
    if loading.problems.items:
        raise PolicyLoadError(loading.problems.items)
    raw_sets = loading.read_sets()
    sets: dict[str, PolicySet] = {}
    for set_id, raw in raw_sets.items():
        if raw.files["policy.json"]["kind"] != "force":
            continue
        built = compile_set(raw, loading.lineage(raw, raw_sets), loading.sources, loading.problems, loading.shown)
        if built is not None:
            sets[set_id] = built
    if not sets and not loading.problems.items:
        loading.problems.add(str(policy_dir), "", "no force policy set found")
    if loading.problems.items:
        raise PolicyLoadError(loading.problems.items)
    digest = hashlib.sha256(canonical({k: v.digest for k, v in sorted(sets.items())}).encode()).hexdigest()
    return PolicyRegistry(
        sets=MappingProxyType(sets), documents=MappingProxyType(dict(loading.sources.documents)), digest="sha256:" + digest
    )
