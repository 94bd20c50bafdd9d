"""A force's policy version as one self-contained bundle: every file its digest covers.

A bundle holds the force's own folder, the layers it inherits and the source documents, as
``{relative path: base64 of the file's bytes}`` (bytes, not text: a source document's SHA-256 is
of its bytes as published, line endings included). Stored beside the version in the database, it rebuilds exactly that
version (same digest) long after the policy directory has moved on, so an old decision can be
decided again with the policy it was decided by.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from service.engine.citations import SOURCES_DIR
from service.engine.loader import PolicyLoadError, load_registry
from service.engine.policy import PolicySet

Bundle = Mapping[str, str]


def bundle_of(policy_dir: Path, force: str) -> dict[str, str]:
    """The files of ``force``'s version in ``policy_dir``: its folder, the layers it inherits, the sources."""
    folders = [force]
    pending = [force]
    while pending:
        meta = json.loads((policy_dir / pending.pop() / "policy.json").read_text(encoding="utf-8"))
        for parent in meta.get("inherits", []):
            if parent not in folders:
                folders.append(parent)
                pending.append(parent)
    files: dict[str, str] = {}
    for folder in [*folders, SOURCES_DIR]:
        for path in sorted((policy_dir / folder).iterdir()):
            if path.is_file():
                files[f"{folder}/{path.name}"] = base64.b64encode(path.read_bytes()).decode("ascii")
    return files


def file_text(bundle: Bundle, name: str) -> str | None:
    """One file of a bundle as text (None when the bundle has no such file)."""
    encoded = bundle.get(name)
    return None if encoded is None else base64.b64decode(encoded).decode("utf-8", errors="replace")


@contextmanager
def materialized(bundle: Bundle) -> Iterator[Path]:
    """A temporary policy directory holding a bundle's files."""
    with tempfile.TemporaryDirectory(prefix="policy-version-") as tmp:
        root = Path(tmp) / "policy_data"
        for name, encoded in bundle.items():
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts or len(path.parts) != 2:
                raise PolicyLoadError([f"{name}: not a file of a policy directory"])
            (root / path.parts[0]).mkdir(parents=True, exist_ok=True)
            (root / path.parts[0] / path.parts[1]).write_bytes(base64.b64decode(encoded))
        yield root


def load_bundle(bundle: Bundle, force: str, schema_dir: Path, *, digest: str | None = None) -> PolicySet:
    """The version a bundle holds, loaded as start-up loads a policy directory; PolicyLoadError if it is
    invalid, or (given ``digest``) if what it rebuilds is not that version."""
    with materialized(bundle) as root:
        registry = load_registry(root, schema_dir)
    policy = registry.sets.get(force)
    if policy is None:
        raise PolicyLoadError([f"the bundle holds no force {force!r}"])
    if digest is not None and policy.digest != digest:
        raise PolicyLoadError([f"the bundle rebuilds {policy.digest}, not {digest}"])
    return policy
