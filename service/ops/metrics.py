"""Prometheus metrics: decisions, latency, audit write failures, and the policy loaded."""

from __future__ import annotations

import os
from datetime import date

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from service.engine.policy import PolicyRegistry

disable_created_metrics()
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """One registry per app. With several worker processes, set PROMETHEUS_MULTIPROC_DIR so that
    /metrics adds up every worker's figures."""

    def __init__(self) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter(
            "pcso_decisions_total", "Decisions answered, by force and outcome.", ["force", "decision"], registry=self.registry
        )
        self.latency = Histogram(
            "pcso_request_duration_seconds",
            "Request latency by route.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.audit_failures = Counter(
            "pcso_audit_write_failures_total",
            "Decisions not answered because they could not be recorded.",
            registry=self.registry,
        )
        self.policy = Gauge(
            "pcso_policy_info",
            "The policy loaded, per force (value 1).",
            ["force", "version", "digest"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        self.policy_past_review = Gauge(
            "pcso_policy_past_review",
            "1 when a force's policy is past its review date.",
            ["force"],
            registry=self.registry,
            multiprocess_mode="max",
        )

    def policy_loaded(self, registry: PolicyRegistry, *, today: date) -> None:
        # A reload replaces what was loaded: a removed force or a superseded version stops showing.
        self.policy.clear()
        self.policy_past_review.clear()
        for force, policy in registry.sets.items():
            self.policy.labels(force=force, version=policy.version, digest=policy.digest).set(1)
            self.policy_past_review.labels(force=force).set(1 if policy.past_review(today) else 0)

    def render(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined)
            return generate_latest(combined), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
