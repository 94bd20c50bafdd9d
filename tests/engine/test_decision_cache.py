"""Decisions kept by fact signature, and the wire text rendered from a template: the same answers, to the byte,
as deciding and serialising every request afresh."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.actions.decisions import DecisionCache, fact_signature
from service.actions.documents import WireTemplate, decision_document, escalation_document, to_json
from service.api.schemas.assessments import AssessmentRequest
from service.engine.assessment import AssessmentInput, Decision
from service.engine.decide import decide
from service.engine.escalate import escalate
from service.engine.policy import PolicySet
from tests.engine.test_properties import PROPERTY_SETTINGS, REGISTRY, requests
from tests.helpers import FIXED_NOW, load_cases

CASES = load_cases()
IDS = [case[0] for case in CASES]
# Values a template's gaps must take as the full document would: quotes, escapes, non-ASCII, NUL, None.
AWKWARD = ['PCSO "4521"', "back\\slash", "Ünïcødé 🚓", "\x00pcso-slot\x00", "line\nbreak", "</script>"]


def full_text(decision: Decision, **values: object) -> str:
    return to_json(decision_document(decision, **values))  # type: ignore[arg-type]


def documents_equal_but_time(cached: Decision, fresh: Decision) -> None:
    assert replace(cached, decided_at=fresh.decided_at) == fresh


@pytest.mark.parametrize(("name", "request_body", "expect"), CASES, ids=IDS)
def test_template_renders_the_same_bytes_as_the_document(name: str, request_body: dict, expect: dict) -> None:
    body = AssessmentRequest.model_validate(request_body)
    decision = decide(REGISTRY.sets[body.force], body.to_engine(), now=FIXED_NOW)
    template = WireTemplate.of(decision)
    assert len(template.pieces) == 8  # split at every gap: the fast path is the one taken
    later = FIXED_NOW + timedelta(minutes=7, microseconds=123)
    values = {
        "assessment_id": "8f0c2d9e-4b1a-4c7e-9a55-2f3e1d7c6b10",
        "officer_id": body.officer.id,
        "call_reference": body.call.reference,
        "abstraction_id": None,
        "candidates_id": None,
        "escalation": None,
    }
    assert template.render(decided_at=decision.decided_at, **values) == full_text(decision, **values)  # type: ignore[arg-type]
    # Another request's ids and time in the same template: what the full document of that request would be.
    for awkward in AWKWARD:
        other = {**values, "officer_id": awkward, "call_reference": awkward, "abstraction_id": awkward, "candidates_id": awkward}
        expected = full_text(replace(decision, decided_at=later), **other)
        assert template.render(decided_at=later, **other) == expected  # type: ignore[arg-type]


def test_template_of_an_escalation_renders_the_escalation_document() -> None:
    policy = REGISTRY.sets["west-midlands"]
    body = AssessmentRequest.model_validate(CASES[0][1] | {"force": "west-midlands"}).to_engine()
    after = replace(body, call=replace(body.call, flags=body.call.flags | {"weapons"}))
    decision, escalation = escalate(policy, parent_id="p-1", before=body, previous_decision="deploy", after=after, now=FIXED_NOW)
    document = escalation_document(escalation)
    values = {
        "assessment_id": "e-1",
        "officer_id": "PCSO 1",
        "call_reference": "R",
        "abstraction_id": "a-1",
        "escalation": document,
    }
    assert WireTemplate.of(decision).render(decided_at=FIXED_NOW, **values) == full_text(decision, **values)  # type: ignore[arg-type]


def test_a_gap_marker_inside_the_decision_falls_back_to_the_whole_document() -> None:
    """A value that is exactly the marker would split the text once too often: the template is then not split, and
    every render builds the whole document, still the same bytes."""
    policy = REGISTRY.sets["west-midlands"]
    request = AssessmentRequest.model_validate(CASES[0][1] | {"force": "west-midlands"}).to_engine()
    decision = decide(policy, request, now=FIXED_NOW)
    forged = replace(decision, task="\x00pcso-slot\x00")
    template = WireTemplate.of(forged)
    assert template.pieces == ()
    assert template.render(decided_at=FIXED_NOW, assessment_id="x", officer_id="o", call_reference=None) == full_text(
        forged, assessment_id="x", officer_id="o", call_reference=None
    )


def _input(**changes: object) -> AssessmentInput:
    base = AssessmentRequest.model_validate(
        {
            "force": "west-midlands",
            "call": {"type": "asb.nuisance", "reference": "WMP-1", "description": "Youths drinking and shouting by the shops"},
            "location": {"risk_level": "low", "lpa": "birmingham-west", "neighbourhood": "ladywood"},
            "officer": {"id": "PCSO 4521", "training_status": "independent", "in_uniform": True},
        }
    ).to_engine()
    return replace(base, **changes)  # type: ignore[arg-type]


def test_ids_and_wording_that_screening_reads_alike_share_a_decision() -> None:
    cache = DecisionCache()
    policy = REGISTRY.sets["west-midlands"]
    first = _input()
    cache.decide(policy, first, now=FIXED_NOW)
    same_facts = _input(
        call=replace(first.call, reference="WMP-2", description="Youths shouting and drinking near the shops"),
        officer=replace(first.officer, id="PCSO 9999"),
    )
    later = FIXED_NOW + timedelta(minutes=1)
    kept = cache.decide(policy, same_facts, now=later)
    assert (cache.hits, cache.misses) == (1, 1)
    assert kept.decision.decided_at == later
    assert kept.decision == decide(policy, same_facts, now=later)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: replace(r, call=replace(r.call, flags=frozenset({"weapons"}))),
        lambda r: replace(r, location=replace(r.location, risk_level="high")),
        lambda r: replace(r, call=replace(r.call, description="He has a knife and is threatening staff")),
        lambda r: replace(r, officer=replace(r.officer, home_lpa="coventry", home_neighbourhood="foleshill")),
        lambda r: replace(r, officer=replace(r.officer, training_status="foundation")),
        lambda r: replace(r, task="scene_guard"),
    ],
    ids=["flag", "risk", "described-knife", "abstraction", "training", "task"],
)
def test_any_other_fact_is_decided_afresh(change) -> None:  # type: ignore[no-untyped-def]
    cache = DecisionCache()
    policy = REGISTRY.sets["west-midlands"]
    first = _input()
    cache.decide(policy, first, now=FIXED_NOW)
    changed = change(first)
    assert fact_signature(policy, changed, now=FIXED_NOW) != fact_signature(policy, first, now=FIXED_NOW)
    got = cache.decide(policy, changed, now=FIXED_NOW)
    assert (cache.hits, cache.misses) == (0, 2)
    assert got.decision == decide(policy, changed, now=FIXED_NOW)


def test_passing_the_review_date_and_another_version_are_other_signatures() -> None:
    cache = DecisionCache()
    policy = REGISTRY.sets["west-midlands"]
    request = _input()
    before_review = cache.decide(policy, request, now=FIXED_NOW.replace(year=2020))
    after_review = cache.decide(policy, request, now=FIXED_NOW.replace(year=2040))
    assert before_review.decision.policy.past_review_date is False
    assert after_review.decision.policy.past_review_date is True
    other_version: PolicySet = replace(policy, version="2.1", digest="sha256:" + "1" * 64)
    assert cache.decide(other_version, request, now=FIXED_NOW.replace(year=2020)).decision.policy.version == "2.1"
    assert cache.misses == 3 and cache.hits == 0


def test_the_least_recently_used_decision_is_dropped_first() -> None:
    cache = DecisionCache(size=2)
    policy = REGISTRY.sets["west-midlands"]
    a, b, c = (_input(task=task) for task in ("attend", "scene_guard", "house_to_house"))
    for request in (a, b, a, c):  # a is used again, so b is the oldest when c arrives
        cache.decide(policy, request, now=FIXED_NOW)
    assert len(cache) == 2
    cache.decide(policy, a, now=FIXED_NOW)
    assert cache.hits == 2
    cache.decide(policy, b, now=FIXED_NOW)
    assert cache.misses == 4


def test_a_cache_of_size_zero_decides_every_request() -> None:
    cache = DecisionCache(size=0)
    policy = REGISTRY.sets["west-midlands"]
    for _ in range(3):
        cache.decide(policy, _input(), now=FIXED_NOW)
    assert len(cache) == 0 and cache.hits == 0


@PROPERTY_SETTINGS
@given(request=requests(), officer=st.text(max_size=20), reference=st.one_of(st.none(), st.text(max_size=20)))
def test_a_kept_decision_is_the_decision_and_document_decide_gives(
    request: AssessmentInput, officer: str, reference: str | None
) -> None:
    """Over the input space: whatever was decided before for the same facts, the answer given is the one deciding
    afresh gives, to the byte."""
    policy = REGISTRY.sets[request.force]
    cache = DecisionCache()
    cache.decide(policy, request, now=FIXED_NOW)
    renamed = replace(request, call=replace(request.call, reference=reference), officer=replace(request.officer, id=officer))
    later = FIXED_NOW + timedelta(seconds=90)
    kept = cache.decide(policy, renamed, now=later)
    assert cache.hits == 1
    fresh = decide(policy, renamed, now=later)
    assert kept.decision == fresh
    values = {"assessment_id": "id", "officer_id": officer, "call_reference": reference}
    assert kept.wire.render(decided_at=later, **values) == full_text(fresh, **values)  # type: ignore[arg-type]
