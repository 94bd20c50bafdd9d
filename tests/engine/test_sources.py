"""The bundled source documents are the published ones, and every citation quotes them word for word."""

from __future__ import annotations

import json

import pytest

from conftest import POLICY_DIR
from service.engine.policy import PolicyRegistry
from service.engine.sources import normalise

SEEDS = POLICY_DIR.parents[1] / "shared" / "seeds"
SEED_FOR = {
    "wmp-pcso-deployment-policy-v2.0.txt": "003_9088c4bc996ed5fc.txt",
    "kent-o38b.txt": "000_030879e812ce1f12.txt",
    "app-pcso-operational-deployment.txt": "001_68e551f27183bf09.txt",
    "app-pcso-role-and-purpose.txt": "002_62cd554dddeb4933.txt",
    "pcso-apprenticeship-standard.txt": "004_ecb71c6907e3925a.txt",
}


@pytest.mark.parametrize("bundled", sorted(SEED_FOR))
def test_bundled_document_matches_the_published_seed(bundled: str) -> None:
    seed = SEEDS / SEED_FOR[bundled]
    if not seed.exists():
        pytest.fail(f"the shared seed documents are missing beside the project: {seed}")
    assert (POLICY_DIR / "sources" / bundled).read_bytes() == seed.read_bytes()


def test_every_document_in_the_index_is_bundled() -> None:
    index = json.loads((POLICY_DIR / "sources" / "index.json").read_text(encoding="utf-8"))
    files = {d["file"] for d in index["documents"] if "file" in d}
    assert files == set(SEED_FOR)


def _all_citations(registry: PolicyRegistry):
    for policy in registry.sets.values():
        for rule in policy.static_rules + policy.task_rules + (policy.fallback,):
            if rule.citation:
                yield rule.citation
        for call_type in policy.call_types.values():
            yield call_type.citation
        for task in policy.tasks.values():
            yield task.citation


def test_every_quote_appears_in_its_seed_document(registry: PolicyRegistry) -> None:
    """Independent of the loader's own check: search the seed file itself for each quote."""
    by_document = {
        "wmp-policy": "003_9088c4bc996ed5fc.txt",
        "kent-o38b": "000_030879e812ce1f12.txt",
        "app-operational-deployment": "001_68e551f27183bf09.txt",
        "app-role-and-purpose": "002_62cd554dddeb4933.txt",
        "apprenticeship-standard": "004_ecb71c6907e3925a.txt",
    }
    checked = 0
    for citation in _all_citations(registry):
        if citation.quote is None:
            assert citation.document_id not in by_document, citation
            continue
        text = normalise((SEEDS / by_document[citation.document_id]).read_text(encoding="utf-8"))
        assert normalise(citation.quote) in text, citation
        checked += 1
    assert checked > 100
