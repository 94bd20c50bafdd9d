"""Reading policy files: strict JSON, JSON Schema validation, and problems named by file and path."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource


class PolicyLoadError(Exception):
    """The policy directory cannot be loaded; ``problems`` names each file and path at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("policy data is invalid:\n  " + "\n  ".join(problems))


@dataclass(slots=True)
class Problems:
    """Every problem found while loading, so that one run reports them all."""

    items: list[str] = field(default_factory=list)

    def add(self, file: str, pointer: str, message: str) -> None:
        self.items.append(f"{file}: {pointer or '/'}: {message}")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def read_json(path: Path, shown: str, problems: Problems) -> Any:
    """The file's JSON (a duplicate key is an error), or None with the problem recorded."""
    try:
        return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        problems.add(shown, "", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        problems.add(shown, "", f"cannot be read: {exc}")
    return None


def validators(schema_dir: Path) -> dict[str, Draft202012Validator]:
    """A validator per schema file in ``schema_dir``, resolving references between them."""
    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(schema_dir.glob("*.schema.json"))}
    registry: Registry = Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in schemas.values())
    return {name: Draft202012Validator(schema, registry=registry) for name, schema in schemas.items()}


def validate(validator: Draft202012Validator, data: Any, shown: str, problems: Problems) -> bool:
    """Whether ``data`` is valid; each schema error is recorded with its JSON pointer."""
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    for error in errors:
        pointer = "/" + "/".join(str(part) for part in error.absolute_path)
        problems.add(shown, pointer, error.message)
    return not errors


def canonical(data: Any) -> str:
    """The JSON form digests are computed over: sorted keys, no spaces."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
