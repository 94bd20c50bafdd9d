"""Policy sets: resolve a force's set, describe its catalogues, reload the policy directory."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from service.actions.access import Caller
from service.api.schemas.common import CitationOut
from service.api.schemas.policies import (
    CallTypeOut,
    ClassificationSourceOut,
    DocumentOut,
    PolicyDetail,
    PolicyReloadOut,
    PolicyReloadRequest,
    PolicySummary,
    PowerCatalogue,
    PowerCatalogueEntry,
    TaskOut,
)
from service.engine.loader import PolicyLoadError, load_registry
from service.engine.policy import PolicyRegistry, PolicySet
from service.errors import InvalidRequest, NotFound, PolicyRejected, ReloadWouldRemoveForce


def policy_for(registry: PolicyRegistry, force: str, *, field: str | None = None) -> PolicySet:
    """The force's policy set, or a 404 problem naming the known forces (and ``field``, for a body field)."""
    policy = registry.get(force)
    if policy is None:
        known = ", ".join(sorted(registry.sets))
        errors = (
            [{"field": field, "message": f"Unknown force '{force}'; known: {known}.", "code": "unknown_force"}] if field else None
        )
        raise NotFound(f"No policy set for force '{force}'. Known forces: {known}.", errors=errors)
    return policy


# How far from now a call's received_at may be: a CAD queue replayed after an outage, or clocks a little apart.
RECEIVED_BEFORE = timedelta(hours=24)
RECEIVED_AFTER = timedelta(minutes=5)


def call_time(received_at: datetime | None, now: datetime, *, field: str = "call.received_at") -> datetime:
    """When the call was received, the time that picks the policy version: now, or a time near it (else a 422)."""
    if received_at is None:
        return now
    when = received_at if received_at.tzinfo is not None else received_at.replace(tzinfo=UTC)
    if not now - RECEIVED_BEFORE <= when <= now + RECEIVED_AFTER:
        raise InvalidRequest(
            "call.received_at must lie within 24 hours before now and 5 minutes after.",
            errors=[
                {"field": field, "message": "outside 24 hours before now to 5 minutes after", "code": "received_at_out_of_window"}
            ],
        )
    return when


def policy_at(registry: PolicyRegistry, force: str, when: datetime, *, field: str | None = None) -> PolicySet:
    """The force's policy version in force at ``when``, or a 404 problem naming the known forces."""
    policy = registry.at(force, when)
    return policy if policy is not None else policy_for(registry, force, field=field)


def within_scope(policy: PolicySet, caller: Caller) -> PolicySet:
    """The policy set, for reads of a force's records or of what its policy decides (the matrix, an
    impact replay); a 404 for a force the caller does not act for, as if it were not loaded."""
    if not caller.acts_for(policy.id):
        raise NotFound(f"No policy set for force '{policy.id}' among the forces this caller acts for ({caller.scope or 'none'}).")
    return policy


def policy_summary(policy: PolicySet, *, today: date) -> PolicySummary:
    return PolicySummary(**_summary_fields(policy, today))


def _summary_fields(policy: PolicySet, today: date) -> dict:
    return {
        "id": policy.id,
        "name": policy.name,
        "publisher": policy.publisher,
        "document": policy.document.title,
        "version": policy.version,
        "effective_from": policy.effective_from,
        "review_due": policy.review_due,
        "past_review_date": policy.past_review(today),
        "digest": policy.digest,
        "inherits": list(policy.inherits),
        "rule_count": policy.rule_count,
        "call_type_count": len(policy.call_types),
    }


def policy_detail(policy: PolicySet, registry: PolicyRegistry, *, today: date) -> PolicyDetail:
    cited = {policy.document.id}
    for call_type in policy.call_types.values():
        cited.add(call_type.citation.document_id)
    for rule in policy.static_rules + policy.task_rules + (policy.fallback,):
        if rule.citation is not None:
            cited.add(rule.citation.document_id)
    for task in policy.tasks.values():
        cited.add(task.citation.document_id)
    for power in list(policy.powers.values()) + list(policy.excluded_powers.values()):
        cited.add(power.citation.document_id)
    return PolicyDetail(
        **_summary_fields(policy, today),
        notes=policy.notes,
        checks_abstraction=policy.checks_abstraction,
        classification_sources=[
            ClassificationSourceOut.model_validate(source, from_attributes=True)
            for source in policy.classification_sources.values()
        ],
        documents=[DocumentOut.model_validate(registry.documents[d], from_attributes=True) for d in sorted(cited)],
    )


def call_type_entries(policy: PolicySet) -> list[CallTypeOut]:
    return [
        CallTypeOut(
            code=c.code,
            name=c.name,
            group=c.group,
            classification=c.classification,
            classified_by=c.classified_by,
            citation=CitationOut.model_validate(c.citation, from_attributes=True),
            support_citation=CitationOut.model_validate(c.support_citation, from_attributes=True) if c.support_citation else None,
            relevant_powers=list(c.relevant_powers),
            support_tasks=sorted(c.support_tasks),
            any_phase_tasks=sorted(c.any_phase_tasks),
            tags=sorted(c.tags),
        )
        for c in policy.call_types.values()
    ]


def task_entries(policy: PolicySet) -> list[TaskOut]:
    return [TaskOut.model_validate(task, from_attributes=True) for task in policy.tasks.values()]


def power_catalogue(policy: PolicySet) -> PowerCatalogue:
    return PowerCatalogue(
        powers=[PowerCatalogueEntry.model_validate(p, from_attributes=True) for p in policy.powers.values()],
        excluded=[PowerCatalogueEntry.model_validate(p, from_attributes=True) for p in policy.excluded_powers.values()],
    )


def reload_policy(
    current: PolicyRegistry, request: PolicyReloadRequest, *, policy_dir: Path, schema_dir: Path
) -> tuple[PolicyRegistry, PolicyReloadOut]:
    """Load the policy directory afresh, all or nothing: the new registry and what changed, or a 409 naming every
    problem, or every loaded force the directory no longer holds that the request does not allow to be removed (the
    caller keeps ``current``)."""
    try:
        registry = load_registry(policy_dir, schema_dir)
    except PolicyLoadError as exc:
        raise PolicyRejected(
            f"{len(exc.problems)} problem(s) in the policy directory; the loaded policy is unchanged.",
            errors=[
                {"field": problem.split(": ", 1)[0], "message": problem, "code": "invalid_policy"} for problem in exc.problems
            ],
        ) from exc
    removed = sorted(set(current.sets) - set(registry.sets))
    refused = [force for force in removed if force not in request.allow_removal]
    if refused:
        # A force that disappears would have every call for it answered 404: a deployment slip (a directory not
        # copied), not a decision, unless the administrator names it.
        named = ", ".join(refused)
        raise ReloadWouldRemoveForce(
            f"POLICY_DIR no longer holds {named}, loaded now; the loaded policy is unchanged. To stop deciding for "
            f"{'it' if len(refused) == 1 else 'them'}, reload with allow_removal naming {named}.",
            errors=[
                {
                    "field": "allow_removal",
                    "message": f"'{force}' is loaded now and POLICY_DIR no longer holds it; name it here to remove it",
                    "code": "reload_would_remove_force",
                }
                for force in refused
            ],
        )
    changed = sorted(
        force
        for force, policy in registry.sets.items()
        if (before := current.sets.get(force)) is not None and before.digest != policy.digest
    )
    answer = PolicyReloadOut(
        policies={force: policy.digest for force, policy in sorted(registry.sets.items())},
        changed=changed,
        added=sorted(set(registry.sets) - set(current.sets)),
        removed=removed,
    )
    return registry, answer
