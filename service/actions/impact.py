"""Policy impact: replay recorded decisions through a candidate policy and report what would change."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from service.actions.policies import policy_for
from service.api.schemas.assessments import AssessmentRequest
from service.api.schemas.policies import ImpactByCallType, ImpactOut, ImpactRequest, ImpactTransition
from service.engine.decide import check_request, decide
from service.engine.loader import PolicyLoadError, load_registry
from service.engine.policy import PolicyRegistry, PolicySet
from service.errors import InvalidRequest
from service.store.records import AuditStore

EXAMPLES_PER_TRANSITION = 5


@contextmanager
def overlaid(policy_dir: Path, files: dict[str, dict[str, Any]]) -> Iterator[Path]:
    """A temporary copy of the policy directory with candidate files written over it."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "policy_data"
        shutil.copytree(policy_dir, target)
        for name, content in files.items():
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts or len(path.parts) != 2 or path.suffix != ".json":
                raise InvalidRequest(
                    "Candidate files are named '<policy set>/<file>.json'.",
                    errors=[{"field": f"files.{name}", "message": "expected '<policy set>/<file>.json'", "code": "invalid_path"}],
                )
            (target / path.parts[0]).mkdir(exist_ok=True)
            (target / path.parts[0] / path.parts[1]).write_text(json.dumps(content), encoding="utf-8")
        yield target


def load_candidate(target: Path, schema_dir: Path) -> PolicyRegistry:
    """An overlaid directory loaded as start-up would load it, or a 422 naming every problem."""
    try:
        return load_registry(target, schema_dir)
    except PolicyLoadError as exc:
        raise InvalidRequest(
            "The candidate policy is not valid.",
            errors=[
                {"field": "files", "message": problem.replace(str(target.parent) + "/", ""), "code": "invalid_policy"}
                for problem in exc.problems
            ],
        ) from exc


def candidate_registry(policy_dir: Path, schema_dir: Path, files: dict[str, dict[str, Any]]) -> PolicyRegistry:
    """The current policy directory overlaid with candidate files, loaded as start-up would load it."""
    with overlaid(policy_dir, files) as target:
        return load_candidate(target, schema_dir)


def replay(
    current: PolicySet, candidate: PolicySet, records: Iterable[tuple[str, str, str, str, datetime]], *, limit: int
) -> ImpactOut:
    """Decide each recorded request under the candidate at the time it was recorded, and compare."""
    transitions: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_call: dict[str, Counter[str]] = defaultdict(Counter)
    replayed = changed = rejected = 0
    for record_id, call_type, recorded, request_json, recorded_at in records:
        try:
            request = AssessmentRequest.model_validate_json(request_json).to_engine()
        except ValidationError:
            rejected += 1
            continue
        if check_request(candidate, request):
            rejected += 1
            continue
        outcome = decide(candidate, request, now=recorded_at).decision
        replayed += 1
        by_call[call_type]["replayed"] += 1
        if outcome != recorded:
            changed += 1
            key = (recorded, outcome)
            transitions[key] += 1
            by_call[call_type]["changed"] += 1
            by_call[call_type][f"{recorded}->{outcome}"] += 1
            if len(examples[key]) < EXAMPLES_PER_TRANSITION:
                examples[key].append(record_id)
    return ImpactOut(
        force=candidate.id,
        current_digest=current.digest,
        candidate_digest=candidate.digest,
        replayed=replayed,
        changed=changed,
        not_replayable=rejected,
        truncated=replayed + rejected >= limit,
        transitions=[
            ImpactTransition(from_decision=a, to_decision=b, count=n, examples=examples[(a, b)])
            for (a, b), n in transitions.most_common()
        ],
        by_call_type=[
            ImpactByCallType(
                call_type=call_type,
                replayed=counts["replayed"],
                changed=counts["changed"],
                transitions={k: v for k, v in counts.items() if "->" in k},
            )
            for call_type, counts in sorted(by_call.items(), key=lambda item: (-item[1]["changed"], item[0]))
        ],
    )


def policy_impact(current: PolicySet, body: ImpactRequest, *, store: AuditStore, policy_dir: Path, schema_dir: Path) -> ImpactOut:
    """Replay the force's recorded decisions in the window through the candidate files; nothing is recorded."""
    candidate = policy_for(candidate_registry(policy_dir, schema_dir, body.files), current.id)
    records = store.decisions_for_replay(force=current.id, recorded_from=body.from_, recorded_to=body.to, limit=body.limit)
    return replay(current, candidate, records, limit=body.limit)
