"""Reloading the policy directory: all or nothing, the loaded policy kept on any fault."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.api.schemas import PolicyReloadOut
from service.config import Settings
from service.engine.loader import PolicyLoadError, load_registry
from service.errors import PolicyRejected


def reload_policy(state: Any, settings: Settings) -> PolicyReloadOut:
    """Load POLICY_DIR afresh and swap it in; on any fault keep the current policy and say why."""
    try:
        registry = load_registry(settings.policy_dir, settings.schema_dir)
    except PolicyLoadError as exc:
        raise PolicyRejected(
            f"{len(exc.problems)} problem(s) in the policy directory; the loaded policy is unchanged.",
            errors=[{"field": problem.split(": ", 1)[0], "message": problem, "code": "invalid_policy"} for problem in exc.problems],
        ) from exc
    previous = state.registry
    state.registry = registry  # one reference swap: requests in flight keep the set they started with
    state.metrics.policy_loaded(registry, today=datetime.now(UTC).date())
    return PolicyReloadOut(
        policies={force: policy.digest for force, policy in sorted(registry.sets.items())},
        changed=sorted(force for force, policy in registry.sets.items() if previous.get(force) is None or previous.get(force).digest != policy.digest),
    )
