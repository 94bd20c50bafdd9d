"""Safety properties over the input space: exhaustive where it is small enough, hypothesis where it is not."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.engine.assessment import AssessmentInput, CallInput, Decision, LocationInput, OfficerInput
from service.engine.decide import decide, decide_outcome
from service.engine.loader import load_registry
from service.engine.policy import DECISIONS, FLAGS, MARKERS, PHASES, RISK_LEVELS, SETTINGS, TASKS, TRAINING_STATUSES
from service.engine.sources import normalise
from tests.helpers import FIXED_NOW, POLICY_DIR, SCHEMA_DIR

REGISTRY = load_registry(POLICY_DIR, SCHEMA_DIR)
SOURCES = POLICY_DIR / "sources"
INDEX = json.loads((SOURCES / "index.json").read_text(encoding="utf-8"))
# The text of every document the index bundles ("file"), read from policy_data/sources; a missing file fails here, loudly.
TEXTS = {
    entry["id"]: normalise((SOURCES / entry["file"]).read_text(encoding="utf-8"))
    for entry in INDEX["documents"]
    if "file" in entry
}
OUTSIDE_2_8_3 = sorted(
    code for code, c in REGISTRY.sets["west-midlands"].call_types.items() if c.classification == "outside_remit"
)
DESCRIPTIONS = [
    None,
    "Youths shouting outside the shops",
    "Man waving a KNIFE, says no weapons though",
    "elderly woman confused, possible dementia",
    "threatening to jump from the canal bridge",
    "Gas leak smell and smoke by the flats",
    "ﬁght (ligature) \u202e reversed text \U0001f52a emoji",
]
GRADE_ORDER = (None, "resolution_without_deployment", "scheduled", "priority", "emergency")

forces = st.sampled_from(sorted(REGISTRY.sets))


@st.composite
def requests(draw: st.DrawFn) -> AssessmentInput:
    force = draw(forces)
    policy = REGISTRY.sets[force]
    call_type = draw(st.sampled_from(sorted(policy.call_types) + ["unknown.call_type", "asb"]))
    powers = draw(st.sets(st.sampled_from(sorted(policy.powers)), max_size=6))
    return AssessmentInput(
        force=force,
        task=draw(st.sampled_from(TASKS)),
        call=CallInput(
            type=call_type,
            phase=draw(st.sampled_from(PHASES)),
            grade=draw(st.sampled_from(GRADE_ORDER)),
            flags=frozenset(draw(st.sets(st.sampled_from(FLAGS)))),
            description=draw(st.one_of(st.sampled_from(DESCRIPTIONS), st.text(max_size=300))),
        ),
        location=LocationInput(
            risk_level=draw(st.sampled_from(RISK_LEVELS)),
            markers=frozenset(draw(st.sets(st.sampled_from(MARKERS)))),
            setting=draw(st.sampled_from(SETTINGS)),
            lpa=draw(st.sampled_from([None, "birmingham-west", "coventry"])),
            neighbourhood=draw(st.sampled_from([None, "ladywood", "foleshill"])),
        ),
        officer=OfficerInput(
            id="PCSO 1",
            designated_powers=tuple(sorted(powers)),
            training_status=draw(st.sampled_from(TRAINING_STATUSES)),
            in_uniform=draw(st.booleans()),
            authorised_driver=draw(st.booleans()),
            cycle_trained=draw(st.booleans()),
            home_lpa=draw(st.sampled_from([None, "birmingham-west", "coventry"])),
            home_neighbourhood=draw(st.sampled_from([None, "ladywood", "foleshill"])),
        ),
    )


def stricter(request: AssessmentInput, draw: st.DrawFn) -> AssessmentInput:
    """One more piece of risk information."""
    call, location = request.call, request.location
    choice = draw(st.sampled_from(["flag", "marker", "risk", "grade", "phase", "description"]))
    if choice == "flag":
        return replace(request, call=replace(call, flags=call.flags | {draw(st.sampled_from(FLAGS))}))
    if choice == "marker":
        return replace(request, location=replace(location, markers=location.markers | {draw(st.sampled_from(MARKERS))}))
    if choice == "risk":
        higher = RISK_LEVELS[RISK_LEVELS.index(location.risk_level) :]
        return replace(request, location=replace(location, risk_level=draw(st.sampled_from(higher))))
    if choice == "grade":
        higher = GRADE_ORDER[GRADE_ORDER.index(call.grade) :]
        return replace(request, call=replace(call, grade=draw(st.sampled_from(higher))))
    if choice == "phase":
        order = ("scene_secured", "recent", "in_progress")
        return replace(request, call=replace(call, phase=draw(st.sampled_from(order[order.index(call.phase) :]))))
    return replace(
        request, call=replace(call, description=(call.description or "") + " " + draw(st.sampled_from(DESCRIPTIONS[1:])))
    )


def conditions_and_prohibitions(decision: Decision) -> set[str]:
    return {c.code for c in decision.conditions} | {p.code for p in decision.limits.prohibited}


PROPERTY_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(data=st.data())
def test_new_risk_information_never_loosens(data: st.DataObject) -> None:
    request = data.draw(requests())
    policy = REGISTRY.sets[request.force]
    before = decide(policy, request, now=FIXED_NOW)
    after = decide(policy, stricter(request, data.draw), now=FIXED_NOW)
    assert DECISIONS.index(after.decision) >= DECISIONS.index(before.decision)
    if after.may_assign:
        assert conditions_and_prohibitions(before) <= conditions_and_prohibitions(after)


@PROPERTY_SETTINGS
@given(request=requests())
def test_every_decision_is_explained_by_quoted_clauses(request: AssessmentInput) -> None:
    decision = decide(REGISTRY.sets[request.force], request, now=FIXED_NOW)
    assert decision.decision in DECISIONS and decision.reasons
    findings = decision.reasons + decision.conditions + decision.limits.prohibited + decision.limits.withdrawal
    for finding in findings:
        citation = finding.citation
        if REGISTRY.documents[citation.document_id].kind == "legislation":
            assert citation.quote is None and citation.clause, citation
        else:
            assert citation.quote and normalise(citation.quote) in TEXTS[citation.document_id], citation


@PROPERTY_SETTINGS
@given(request=requests(), call_type=st.sampled_from(OUTSIDE_2_8_3))
def test_2_8_3_incident_types_are_never_a_first_response(request: AssessmentInput, call_type: str) -> None:
    attend = replace(request, task="attend", call=replace(request.call, type=call_type))
    assert decide(REGISTRY.sets[request.force], attend, now=FIXED_NOW).decision == "do_not_deploy"


def test_2_8_3_exhaustively_over_the_other_dimensions() -> None:
    """Every 2.8.3 type, both forces, every phase, grade, risk, training, uniform, driver, setting, no/all flags and markers."""
    checked = 0
    for force, policy in REGISTRY.sets.items():
        for call_type, phase, grade, risk, training, uniform, driver, setting, flags, markers in itertools.product(
            OUTSIDE_2_8_3,
            PHASES,
            GRADE_ORDER,
            RISK_LEVELS,
            TRAINING_STATUSES,
            (True, False),
            (True, False),
            SETTINGS,
            (frozenset(), frozenset(FLAGS)),
            (frozenset(), frozenset(MARKERS)),
        ):
            request = AssessmentInput(
                force=force,
                task="attend",
                call=CallInput(type=call_type, phase=phase, grade=grade, flags=flags),
                location=LocationInput(risk_level=risk, markers=markers, setting=setting),
                officer=OfficerInput(id="P", training_status=training, in_uniform=uniform, authorised_driver=driver),
            )
            decision, deciding = decide_outcome(policy, request)
            assert decision == "do_not_deploy", (force, call_type, deciding.code)
            checked += 1
    print(f"2.8.3 first response: {checked} combinations enumerated")
    assert checked == 2 * len(OUTSIDE_2_8_3) * 3 * 5 * 3 * 3 * 2 * 2 * 2 * 2 * 2


def test_every_quoted_document_has_its_text() -> None:
    """Every document that is not legislation is bundled, so every quote above was searched for."""
    quoted = {doc_id for doc_id, document in REGISTRY.documents.items() if document.kind != "legislation"}
    assert (
        set(TEXTS)
        == quoted
        == {"wmp-policy", "kent-o38b", "app-operational-deployment", "app-role-and-purpose", "apprenticeship-standard"}
    )
    assert all(TEXTS.values())
