"""A force's policy version as one self-contained bundle: every file its digest covers.

A bundle holds the force's own folder, the layers it inherits and the source documents, as
``{relative path: text}``. Stored beside the version in the database, it rebuilds exactly that
version (same digest) long after the policy directory has moved on, so an old decision can be
decided again with the policy it was decided by.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
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
                files[f"{folder}/{path.name}"] = path.read_text(encoding="utf-8")
    return files


def load_bundle(bundle: Bundle, force: str, schema_dir: Path) -> PolicySet:
    """The version a bundle holds, loaded as start-up loads a policy directory (PolicyLoadError if invalid)."""
    with tempfile.TemporaryDirectory(prefix="policy-version-") as tmp:
        root = Path(tmp) / "policy_data"
        for name, text in bundle.items():
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts or len(path.parts) != 2:
                raise PolicyLoadError([f"{name}: not a file of a policy directory"])
            (root / path.parts[0]).mkdir(parents=True, exist_ok=True)
            (root / path.parts[0] / path.parts[1]).write_text(text, encoding="utf-8")
        registry = load_registry(root, schema_dir)
    policy = registry.sets.get(force)
    if policy is None:
        raise PolicyLoadError([f"the bundle holds no force {force!r}"])
    return policy
