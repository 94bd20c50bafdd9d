"""The bundled source documents are the published ones, and every citation quotes them word for word.

Everything here reads policy_data/sources/ only: index.json records each published document's
SHA-256, and the loader refuses a bundled document that differs from it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from service.engine.loader import PolicyLoadError, load_registry
from service.engine.policy import PolicyRegistry
from service.engine.sources import normalise
from tests.helpers import POLICY_DIR, SCHEMA_DIR

SOURCES = POLICY_DIR / "sources"
INDEX = json.loads((SOURCES / "index.json").read_text(encoding="utf-8"))
# The published documents the policy quotes, as bundled; legislation is cited without text.
BUNDLED = {
    "wmp-policy": "wmp-pcso-deployment-policy-v2.0.txt",
    "kent-o38b": "kent-o38b.txt",
    "app-operational-deployment": "app-pcso-operational-deployment.txt",
    "app-role-and-purpose": "app-pcso-role-and-purpose.txt",
    "apprenticeship-standard": "pcso-apprenticeship-standard.txt",
}
WITH_TEXT = [entry for entry in INDEX["documents"] if "file" in entry]


@pytest.mark.parametrize("entry", WITH_TEXT, ids=[entry["file"] for entry in WITH_TEXT])
def test_bundled_document_is_the_published_one(entry: dict) -> None:
    """Each bundled file's SHA-256 is the one the index records for the published document."""
    assert hashlib.sha256((SOURCES / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]


def test_every_document_in_the_index_is_bundled() -> None:
    assert {entry["id"]: entry["file"] for entry in WITH_TEXT} == BUNDLED
    assert all(entry["kind"] == "legislation" for entry in INDEX["documents"] if "file" not in entry)
    on_disk = {path.name for path in SOURCES.iterdir()} - {"index.json"}
    assert on_disk == set(BUNDLED.values())


def test_a_bundled_document_that_differs_from_the_published_one_is_refused(tmp_path: Path) -> None:
    """One word changed in Kent O38b: the loader names the file, the index entry's /sha256, and stops."""
    target = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, target)
    source = target / "sources" / "kent-o38b.txt"
    text = source.read_text(encoding="utf-8")
    assert " will " in text
    source.write_text(text.replace(" will ", " shall ", 1), encoding="utf-8")
    position = next(n for n, entry in enumerate(INDEX["documents"]) if entry["id"] == "kent-o38b")
    with pytest.raises(PolicyLoadError) as caught:
        load_registry(target, SCHEMA_DIR)
    message = str(caught.value)
    assert "kent-o38b.txt" in message, message
    assert f"/documents/{position}/sha256" in message, message
    assert "sources/index.json" in message, message


def _all_citations(registry: PolicyRegistry):
    for policy in registry.sets.values():
        for rule in policy.static_rules + policy.task_rules + (policy.fallback,):
            if rule.citation:
                yield rule.citation
        for call_type in policy.call_types.values():
            yield call_type.citation
        for task in policy.tasks.values():
            yield task.citation


def test_every_quote_appears_in_its_source_document(registry: PolicyRegistry) -> None:
    """Independent of the loader's own check: search the bundled file itself for each quote."""
    checked = 0
    for citation in _all_citations(registry):
        if citation.quote is None:
            assert citation.document_id not in BUNDLED, citation
            continue
        text = normalise((SOURCES / BUNDLED[citation.document_id]).read_text(encoding="utf-8"))
        assert normalise(citation.quote) in text, citation
        checked += 1
    assert checked > 100
