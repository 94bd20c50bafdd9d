"""Policy versions: upload a candidate, approve it with a second pair of eyes, let it take effect at
its time on every worker, list them, and explain an old decision with the version that made it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from service.actions.access import Caller, require_force
from service.actions.assessments import visible_record
from service.actions.documents import decision_document, to_json
from service.actions.escalations import redecide_escalation
from service.actions.impact import load_candidate, overlaid, replay
from service.api.schemas.assessments import AssessmentRequest
from service.api.schemas.versions import ExplanationOut, VersionApproval, VersionOut, VersionUpload
from service.engine.bundles import bundle_of, file_text, load_bundle, materialized
from service.engine.decide import decide
from service.engine.loader import PolicyLoadError
from service.engine.policy import PolicyRegistry, PolicySet, Version
from service.engine.proofs import prove, report_json, source_texts
from service.errors import Forbidden, InvalidRequest, NotFound, ServiceError
from service.store.chain import NewEntry
from service.store.records import AuditStore
from service.store.versions import VersionStore

logger = logging.getLogger("service.policy")
VERSION_LENGTH = 64

SERVICE_ACTOR = {
    "caller_role": "service",
    "caller_key_id": "service",
    "caller_subject": None,
    "caller_client_id": None,
    "caller_scope": "*",
}


class SelfApproval(Forbidden):
    slug = "self-approval"
    title = "A candidate cannot be approved by the person who uploaded it"


class ApprovalRefused(ServiceError):
    status_code = 409
    slug = "approval-refused"
    title = "The candidate cannot be approved"


@dataclass(frozen=True, slots=True)
class Governance:
    """What the version actions need besides their input."""

    versions: VersionStore
    store: AuditStore
    registry: PolicyRegistry
    policy_dir: Path
    schema_dir: Path
    approval_lead: timedelta
    now: datetime


def _entry(
    kind: str,
    policy_id: str,
    version: str,
    digest: str,
    actor: dict[str, Any],
    request: Any,
    response: Any,
    now: datetime,
    new_id: Callable[[], str],
) -> NewEntry:
    return NewEntry(
        id=new_id(),
        kind=kind,
        recorded_at=now,
        force=policy_id,
        policy_id=policy_id,
        policy_version=version,
        policy_digest=digest,
        request_json=json.dumps(request, sort_keys=True, default=str),
        response_json=json.dumps(response, sort_keys=True, default=str),
        **actor,
    )


def _rules_by_id(text: str | None) -> dict[str, str]:
    if text is None:
        return {}
    return {rule["id"]: json.dumps(rule, sort_keys=True) for rule in json.loads(text).get("rules", [])}


def changed_rules(before: dict[str, str], after: dict[str, str], force: str) -> list[str]:
    """What changed between two bundles: each rule added, removed or changed (by id, in any rules file
    of the version), and each other file that differs (by path)."""
    changed: set[str] = set()
    for name in sorted(before.keys() | after.keys()):
        if before.get(name) == after.get(name):
            continue
        old_text, new_text = file_text(before, name), file_text(after, name)
        if name.endswith("/rules.json"):
            old, new = _rules_by_id(old_text), _rules_by_id(new_text)
            changed |= {rule_id for rule_id in old.keys() | new.keys() if old.get(rule_id) != new.get(rule_id)}
        elif not (name.endswith(".json") and old_text and new_text and json.loads(old_text) == json.loads(new_text)):
            changed.add(name)
    return sorted(changed)


def _held(force: str, digest: str, *, caller: Caller, governance: Governance) -> dict[str, Any]:
    """A version of ``force`` the store holds (a 404 otherwise), for a caller who acts for the force (a 403 otherwise)."""
    row = governance.versions.get(digest)
    if row is None or row["force"] != force:
        raise NotFound(f"No version {digest} of {force}.")
    require_force(caller, force)
    return row


def _as_stored(digest: str, governance: Governance, *, state: str) -> VersionOut:
    """A version as the store now holds it, after a change of state."""
    stored = governance.versions.get(digest)
    assert stored is not None
    return version_out(stored, state=state)


# --- upload -------------------------------------------------------------------------------------------


def upload_version(
    current: PolicySet, body: VersionUpload, *, caller: Caller, governance: Governance, new_id: Callable[[], str]
) -> VersionOut:
    """Validate, prove and replay a candidate version, and keep it (with its upload entry) for approval."""
    force, now = current.id, governance.now
    require_force(caller, force)
    outside = sorted(name for name in body.files if not name.startswith(f"{force}/"))
    if outside:
        raise InvalidRequest(
            f"A version of {force} changes only {force}'s own files.",
            errors=[
                {"field": f"files.{name}", "message": f"not a file of {force}", "code": "not_this_force"} for name in outside
            ],
        )
    if body.effective_from <= now:
        raise InvalidRequest(
            "effective_from must be in the future: a version takes effect after it is approved.",
            errors=[{"field": "effective_from", "message": "not after now", "code": "effective_not_future"}],
        )
    if body.effective_to is not None and body.effective_to <= body.effective_from:
        raise InvalidRequest(
            "effective_to must be after effective_from.",
            errors=[{"field": "effective_to", "message": "not after effective_from", "code": "window_order"}],
        )
    # The candidate is the version in force now with the uploaded files over it (not whatever is on disk).
    base = governance.versions.get(current.digest, with_bundle=True)
    before = json.loads(base["bundle"]) if base is not None else bundle_of(governance.policy_dir, force)
    with materialized(before) as base_dir, overlaid(base_dir, body.files) as target:
        loaded = load_candidate(target, governance.schema_dir)
        if force not in loaded.sets:
            raise InvalidRequest(
                f"The files do not make a force policy set {force!r}.",
                errors=[{"field": f"files.{force}/policy.json", "message": "not a force set", "code": "invalid_policy"}],
            )
        candidate = loaded.sets[force]
        bundle = bundle_of(target, force)
        report = prove(candidate, source_texts(target, governance.schema_dir), baseline=current)
    if len(candidate.version) > VERSION_LENGTH:
        raise InvalidRequest(
            f"A version label is at most {VERSION_LENGTH} characters.",
            errors=[{"field": f"files.{force}/policy.json", "message": "version label too long", "code": "invalid_policy"}],
        )
    try:  # what is stored must rebuild exactly this version, on any worker, years from now
        load_bundle(bundle, force, governance.schema_dir, digest=candidate.digest)
    except PolicyLoadError as exc:
        raise InvalidRequest(
            "The candidate does not rebuild from its own files.",
            errors=[{"field": "files", "message": problem, "code": "invalid_policy"} for problem in exc.problems],
        ) from exc
    changed = changed_rules(before, bundle, force)
    records = governance.store.decisions_for_replay(
        force=force, recorded_from=now - timedelta(days=body.impact_days), recorded_to=None, limit=10_000
    )
    impact = replay(current, candidate, records, limit=10_000)
    proof = report_json(report)
    row = {
        "digest": candidate.digest,
        "force": force,
        "version": candidate.version,
        "source": "upload",
        "status": "candidate",
        "effective_from": body.effective_from,
        "effective_to": body.effective_to,
        "bundle": json.dumps(bundle, sort_keys=True),
        "note": body.note,
        "proof": json.dumps(proof),
        "impact": impact.model_dump_json(),
        "changed_rules": json.dumps(changed),
        "uploaded_by": caller.key_id,
        "uploaded_subject": caller.subject,
        "uploaded_at": now,
    }
    entry = _entry(
        "policy_upload",
        force,
        candidate.version,
        candidate.digest,
        dict(caller.audit_fields()),
        {
            "files": sorted(body.files),
            "effective_from": body.effective_from,
            "effective_to": body.effective_to,
            "note": body.note,
        },
        {"status": "candidate", "proof_holds": report.holds, "changed_rules": changed, "impact_changed": impact.changed},
        now,
        new_id,
    )
    governance.versions.add_candidate(row, entry)
    logger.info("policy candidate %s for %s uploaded (proofs %s)", candidate.digest, force, "hold" if report.holds else "fail")
    return _as_stored(candidate.digest, governance, state="candidate")


# --- approval -----------------------------------------------------------------------------------------


def approve_version(
    force: str, digest: str, body: VersionApproval, *, caller: Caller, governance: Governance, new_id: Callable[[], str]
) -> VersionOut:
    """A second person with the admin role approves a candidate whose proofs hold, ahead of its time."""
    row = _held(force, digest, caller=caller, governance=governance)
    if row["status"] != "candidate":
        raise ApprovalRefused(
            f"Version {digest} is not a candidate (it is {row['status']}).",
            errors=[{"field": "digest", "message": f"the version is {row['status']}", "code": "not_a_candidate"}],
        )
    if row["uploaded_by"] == caller.key_id or (caller.subject is not None and row["uploaded_subject"] == caller.subject):
        raise SelfApproval(
            "The person who uploaded a candidate cannot approve it: another administrator must.",
            errors=[{"field": "digest", "message": "uploaded by this caller", "code": "self_approval"}],
        )
    # The proofs are run again now, on the files that would go live, by the code that would decide with them.
    stored_bundle = governance.versions.get(digest, with_bundle=True)
    assert stored_bundle is not None
    try:
        candidate = load_bundle(json.loads(stored_bundle["bundle"]), force, governance.schema_dir, digest=digest)
    except PolicyLoadError as exc:
        raise ApprovalRefused(
            "The candidate's stored files do not rebuild it.",
            errors=[{"field": "digest", "message": "; ".join(exc.problems[:3]), "code": "proof_failed"}],
        ) from exc
    with materialized(json.loads(stored_bundle["bundle"])) as target:
        texts = source_texts(target, governance.schema_dir)
    current = governance.registry.at(force, governance.now)
    proof = report_json(prove(candidate, texts, baseline=current))
    if not proof.get("holds"):
        failures = [
            {
                "field": "proof." + result["name"],
                "message": "; ".join(
                    [
                        f"rule(s) {', '.join(c['rule_ids'])}: {c['explanation']}; counterexample request {json.dumps(c['request'])}"
                        for c in result["counterexamples"][:3]
                    ]
                    + result["unproved"][:3]
                ),
                "code": "proof_failed",
            }
            for result in proof.get("properties", [])
            if not result["holds"]
        ]
        raise ApprovalRefused(
            f"The candidate's proofs do not hold ({', '.join(f['field'].removeprefix('proof.') for f in failures)}); fix the rules and upload it again.",
            errors=failures or [{"field": "proof", "message": "no proof recorded", "code": "proof_failed"}],
        )
    taken = [
        other["digest"]
        for other in governance.versions.for_force(force)
        if other["status"] == "approved" and other["effective_from"] == row["effective_from"] and other["digest"] != digest
    ]
    if taken:
        raise ApprovalRefused(
            f"Version {taken[0]} already takes effect at {row['effective_from'].isoformat()}: two versions cannot start together.",
            errors=[
                {"field": "effective_from", "message": "another approved version starts then", "code": "effective_time_taken"}
            ],
        )
    earliest = governance.now + governance.approval_lead
    if row["effective_from"] < earliest:
        raise ApprovalRefused(
            f"The candidate takes effect at {row['effective_from'].isoformat()}, too soon for every worker to hold it: "
            f"approve it at least {int(governance.approval_lead.total_seconds())} s ahead, or upload it with a later effective_from.",
            errors=[{"field": "effective_from", "message": "too soon after approval", "code": "effective_too_soon"}],
        )
    changes = {
        "status": "approved",
        "approved_by": caller.key_id,
        "approved_subject": caller.subject,
        "approved_at": governance.now,
    }
    entry = _entry(
        "policy_approve",
        force,
        row["version"],
        digest,
        dict(caller.audit_fields()),
        {"digest": digest, "note": body.note, "uploaded_by": row["uploaded_by"]},
        {"status": "approved", "effective_from": row["effective_from"], "effective_to": row["effective_to"]},
        governance.now,
        new_id,
    )
    if not governance.versions.approve(digest, changes=changes, entry=entry, now=governance.now):
        raise ApprovalRefused(
            f"Version {digest} was approved by someone else first.",
            errors=[{"field": "digest", "message": "already approved", "code": "not_a_candidate"}],
        )
    logger.info("policy version %s for %s approved, effective %s", digest, force, row["effective_from"])
    return _as_stored(digest, governance, state="approved")


def withdraw_version(
    force: str, digest: str, body: VersionApproval, *, caller: Caller, governance: Governance, new_id: Callable[[], str]
) -> VersionOut:
    """Stop a candidate, or an approved version before it takes effect (no later than the approval lead before)."""
    row = _held(force, digest, caller=caller, governance=governance)
    if row["status"] not in ("candidate", "approved") or row["activated_at"] is not None:
        raise ApprovalRefused(
            f"Version {digest} cannot be withdrawn: it is {state_of(row, governance.registry, governance.now)}. "
            "A version in force is replaced by approving a new one.",
            errors=[
                {"field": "digest", "message": "not a candidate or a version waiting for its time", "code": "not_withdrawable"}
            ],
        )
    if row["status"] == "approved" and row["effective_from"] < governance.now + governance.approval_lead:
        raise ApprovalRefused(
            "The version takes effect too soon to be withdrawn from every worker in time; approve a replacement instead.",
            errors=[{"field": "digest", "message": "takes effect too soon", "code": "effective_too_soon"}],
        )
    entry = _entry(
        "policy_withdraw",
        force,
        row["version"],
        digest,
        dict(caller.audit_fields()),
        {"digest": digest, "note": body.note, "was": row["status"]},
        {"status": "withdrawn"},
        governance.now,
        new_id,
    )
    if not governance.versions.withdraw(digest, entry=entry, now=governance.now):
        raise ApprovalRefused(
            f"Version {digest} changed state meanwhile; it was not withdrawn.",
            errors=[{"field": "digest", "message": "changed state", "code": "not_withdrawable"}],
        )
    return _as_stored(digest, governance, state="withdrawn")


# --- reading --------------------------------------------------------------------------------------------


def state_of(row: dict[str, Any], registry: PolicyRegistry, now: datetime) -> str:
    if row["status"] in ("candidate", "withdrawn"):
        return str(row["status"])
    current = registry.at(row["force"], now)
    if current is not None and current.digest == row["digest"]:
        return "active"
    if row["status"] == "approved" and row["effective_from"] is not None and row["effective_from"] > now:
        return "approved"
    return "retired"


def version_out(row: dict[str, Any], *, state: str) -> VersionOut:
    return VersionOut.model_validate(
        {
            **row,
            "state": state,
            "changed_rules": json.loads(row["changed_rules"] or "[]"),
            "proof": json.loads(row["proof"]) if row["proof"] else None,
            "impact": json.loads(row["impact"]) if row["impact"] else None,
        }
    )


def list_versions(
    force: str, *, caller: Caller, versions: VersionStore, registry: PolicyRegistry, now: datetime
) -> list[VersionOut]:
    if not caller.acts_for(force) or force not in registry.sets:
        raise NotFound(f"No policy set for force '{force}' among the forces this caller acts for ({caller.scope or 'none'}).")
    return [version_out(row, state=state_of(row, registry, now)) for row in versions.for_force(force)]


# --- keeping every worker's registry in step ---------------------------------------------------------


def record_directory_versions(registry: PolicyRegistry, policy_dir: Path, versions: VersionStore, now: datetime) -> None:
    """Keep each of the policy directory's versions in the store, so that it stays loadable by its digest."""
    for force, policy in registry.sets.items():
        versions.record_directory(
            {
                "digest": policy.digest,
                "force": force,
                "version": policy.version,
                "source": "directory",
                "status": "directory",
                "effective_from": None,
                "bundle": json.dumps(bundle_of(policy_dir, force), sort_keys=True),
                "uploaded_at": now,
                "activated_at": now,
            }
        )


class VersionBook:
    """The approved versions this worker holds, loaded once each from their bundles."""

    def __init__(self, versions: VersionStore, schema_dir: Path) -> None:
        self.versions = versions
        self.schema_dir = schema_dir
        self.loaded: dict[str, Version] = {}

    def refresh(self, registry: PolicyRegistry) -> PolicyRegistry | None:
        """A registry with the store's approved versions, or None when this worker already holds them all."""
        digests = self.versions.approved_digests()
        if digests == set(self.loaded) and all(
            self.loaded[d] in registry.versions.get(self.loaded[d].policy.id, ()) for d in digests
        ):
            return None
        for row in self.versions.approved():
            if row["digest"] in self.loaded:
                continue
            try:
                policy = load_bundle(json.loads(row["bundle"]), row["force"], self.schema_dir, digest=row["digest"])
            except PolicyLoadError as exc:  # never expected: it loaded when uploaded; logged, and the rest still load
                logger.error("approved version %s of %s does not load: %s", row["digest"], row["force"], exc.problems[:3])
                continue
            self.loaded[row["digest"]] = Version(policy, row["effective_from"], row["effective_to"])
        for digest in set(self.loaded) - digests:
            del self.loaded[digest]
        by_force: dict[str, list[Version]] = {}
        for version in self.loaded.values():
            by_force.setdefault(version.policy.id, []).append(version)
        return registry.with_versions({force: tuple(entries) for force, entries in by_force.items()})

    def policy(self, digest: str, registry: PolicyRegistry) -> PolicySet | None:
        """Any version that ever decided, by digest: held in memory, or rebuilt from its stored bundle."""
        held = registry.by_digest(digest)
        if held is not None:
            return held
        row = self.versions.get(digest, with_bundle=True)
        if row is None:
            return None
        try:
            return load_bundle(json.loads(row["bundle"]), row["force"], self.schema_dir, digest=digest)
        except PolicyLoadError as exc:
            logger.error("version %s does not rebuild from its stored files: %s", digest, exc.problems[:3])
            return None


def activate_due(registry: PolicyRegistry, versions: VersionStore, now: datetime, new_id: Callable[[], str]) -> list[str]:
    """Record, once across all workers, each approved version that has taken effect and the one it retired."""
    activated = []
    for force in registry.sets:
        current = registry.at(force, now)
        if current is None:
            continue
        row = versions.get(current.digest)
        if row is None or row["activated_at"] is not None:
            continue
        started = row["effective_from"] or now
        previous = registry.at(force, started - timedelta(microseconds=1))
        previous_digest = previous.digest if previous is not None and previous.digest != current.digest else None
        entries = [
            _entry(
                "policy_activate",
                force,
                current.version,
                current.digest,
                SERVICE_ACTOR,
                {"effective_from": started},
                {"state": "active"},
                now,
                new_id,
            )
        ]
        if previous is not None and previous_digest is not None:
            entries.append(
                _entry(
                    "policy_retire",
                    force,
                    previous.version,
                    previous.digest,
                    SERVICE_ACTOR,
                    {"superseded_by": current.digest},
                    {"state": "retired"},
                    now,
                    new_id,
                )
            )
        if versions.activate(current.digest, previous=previous_digest, entries=entries, now=now):
            logger.info("policy version %s for %s took effect", current.digest, force)
            activated.append(current.digest)
    return activated


# --- explanation ----------------------------------------------------------------------------------------


def _differences(recorded: Any, redecided: Any, path: str = "") -> list[str]:
    if isinstance(recorded, dict) and isinstance(redecided, dict):
        found = []
        for key in sorted(recorded.keys() | redecided.keys()):
            found += _differences(recorded.get(key), redecided.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(recorded, list) and isinstance(redecided, list) and len(recorded) == len(redecided):
        return [d for n, (a, b) in enumerate(zip(recorded, redecided, strict=True)) for d in _differences(a, b, f"{path}[{n}]")]
    return [] if recorded == redecided else [path or "answer"]


def explain(
    assessment_id: str, *, caller: Caller, store: AuditStore, book: VersionBook, registry: PolicyRegistry, now: datetime
) -> ExplanationOut:
    """Decide the recorded request again with the exact version that decided it, and compare."""
    stored = visible_record(store, assessment_id, caller=caller)
    digest = stored.response["policy"]["digest"]
    policy = book.policy(digest, registry)
    if policy is None:
        raise NotFound(f"The version {digest} that decided '{assessment_id}' is not held; it cannot be decided again.")
    request = AssessmentRequest.model_validate(stored.request)
    parent = store.get(stored.parent_id) if stored.kind == "escalation" and stored.parent_id else None
    if parent is not None:  # an escalation is decided as escalate_assessment decided it: held unless risk was lowered
        decision = redecide_escalation(policy, parent, request, now=stored.recorded_at)
    else:
        decision = decide(policy, request.to_engine(), now=stored.recorded_at)
    recorded = stored.response
    redecided = json.loads(
        to_json(
            decision_document(
                decision,
                assessment_id=stored.id,
                officer_id=request.officer.id,
                call_reference=request.call.reference,
                abstraction_id=recorded.get("abstraction_id"),
                candidates_id=recorded.get("candidates_id"),
                escalation=recorded.get("escalation"),
            )
        )
    )
    differences = _differences(recorded, redecided)
    rows = book.versions.get(digest)
    return ExplanationOut(
        assessment_id=stored.id,
        kind=stored.kind,
        recorded_at=stored.recorded_at,
        policy_id=policy.id,
        policy_version=policy.version,
        policy_digest=digest,
        version_state=state_of(rows, registry, now) if rows is not None else None,
        matches=not differences,
        differences=differences,
        recorded_decision=recorded["decision"],
        redecided_decision=decision.decision,
    )


def now_utc() -> datetime:
    return datetime.now(UTC)
