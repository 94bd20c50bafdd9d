"""What a caller sends never reaches the store unless the store can hold it: cursors, months, date-times, sequence
ranges, identifiers and free text are checked first and refused with a 422 problem naming the field, on SQLite and
PostgreSQL alike; nothing a caller sends answers 500 or 503."""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from service.api.schemas.common import FREE_TEXT_PATTERN, IDENTIFIER_PATTERN, text_problem
from tests.helpers import POLICY_DIR, Clock, headers

ASSESSMENT: dict[str, Any] = {
    "force": "west-midlands",
    "call": {"type": "asb.nuisance", "reference": "WMP-1", "description": "Youths shouting"},
    "location": {"risk_level": "low", "lpa": "birmingham-west", "neighbourhood": "ladywood"},
    "officer": {
        "id": "PCSO 1",
        "designated_powers": [],
        "training_status": "independent",
        "in_uniform": True,
        "home_lpa": "birmingham-west",
        "home_neighbourhood": "ladywood",
    },
}
ABSTRACTION: dict[str, Any] = {
    "force": "west-midlands",
    "officer_id": "PCSO 1",
    "home_lpa": "birmingham-west",
    "home_neighbourhood": "ladywood",
    "lpa": "birmingham-east",
    "neighbourhood": "nechells",
    "reason": "other",
    "description": "Cover for a community event",
    "started_at": "2026-11-01T10:00:00Z",
}


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of body with the dotted path (list indexes as numbers) set to value."""
    changed = copy.deepcopy(body)
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    target: Any = changed
    for part in parents:
        target = target[part]
    target[last] = value
    return changed


def problem_fields(response: Any) -> list[tuple[str, str]]:
    """(field, code) of each error in a 422 problem."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/validation-error") and problem["status"] == 422
    return [(error["field"], error["code"]) for error in problem["errors"]]


def recorded(client: TestClient) -> int:
    """How many entries the audit chains hold, all of them intact."""
    report = client.get("/v1/audit/verify", headers=headers("auditor")).json()
    assert report["status"] == "intact", report
    return report["checked"]


def exported_entries(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [line for line in map(json.loads, response.text.splitlines()) if line["type"] == "entry"]


def decide(client: TestClient) -> dict[str, Any]:
    response = client.post("/v1/assessments", json=ASSESSMENT, headers=headers("dispatcher"))
    assert response.status_code == 200, response.text
    return response.json()


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- list cursor ------------------------------------------------------------------------------------------------

BAD_CURSORS = [
    cursor_of({"before": True}),  # eyJiZWZvcmUiOiB0cnVlfQ: a bool is not a sequence number
    cursor_of({"before": False}),
    cursor_of({"before": 0}),
    cursor_of({"before": -5}),
    cursor_of({"before": 2**63}),
    cursor_of({"before": 2.5}),
    cursor_of({"before": "7"}),
    cursor_of({"before": None}),
    cursor_of({"before": [7]}),
    cursor_of({"before": 7, "after": 1}),
    cursor_of({}),
    cursor_of([7]),
    cursor_of(7),
    base64.urlsafe_b64encode(b"\xff\xfe not json").decode(),
    "!!!",
    "Zm9v\u00e9",
    "a",
]


def test_every_cursor_field_is_checked(client: TestClient) -> None:
    assert "eyJiZWZvcmUiOiB0cnVlfQ" in BAD_CURSORS
    decide(client)
    for cursor in BAD_CURSORS:
        response = client.get("/v1/assessments", params={"cursor": cursor}, headers=headers("auditor"))
        assert problem_fields(response) == [("cursor", "invalid_cursor")], cursor
    issued = client.get("/v1/assessments", params={"cursor": cursor_of({"before": 2**63 - 1})}, headers=headers("auditor"))
    assert issued.status_code == 200 and len(issued.json()["items"]) == 1


# --- monthly report ---------------------------------------------------------------------------------------------


def test_report_month_is_bounded(client: TestClient) -> None:
    for month in ("9999-12", "2026-13", "2026-00", "1999-12", "2100-01", "0000-01", "2026-1", "2026-11x"):
        response = client.get("/v1/reports/abstractions", params={"month": month}, headers=headers("planner"))
        assert problem_fields(response) == [("query.month", "string_pattern_mismatch")], month
    for month in ("2000-01", "2026-11", "2099-12"):
        response = client.get("/v1/reports/abstractions", params={"month": month}, headers=headers("planner"))
        assert response.status_code == 200 and response.json()["month"] == month, response.text


# --- date-time query parameters -----------------------------------------------------------------------------------

OUT_OF_RANGE = [
    "0001-01-01T00:00:00+14:00",  # year 0 in UTC: no datetime can hold it
    "9999-12-31T23:59:59-14:00",
    "1999-12-31T23:59:59Z",
    "2000-01-01T09:59:59+10:00",  # 1999-12-31T23:59:59Z once converted to UTC
    "2100-01-01T00:00:01Z",
    "2099-12-31T23:00:00-02:00",  # 2100-01-01T01:00:00Z
]
IN_RANGE = ["2000-01-01T00:00:00Z", "2000-01-01T10:00:00+10:00", "2100-01-01T00:00:00Z", "2026-11-01T00:00:00"]
WINDOW_ROUTES = ["/v1/assessments", "/v1/audit/export"]


def test_date_time_query_parameters_are_bounded_in_utc(client: TestClient) -> None:
    decide(client)
    for route in WINDOW_ROUTES:
        for parameter in ("from", "to"):
            for value in OUT_OF_RANGE:
                response = client.get(route, params={parameter: value}, headers=headers("auditor"))
                assert problem_fields(response) == [(f"query.{parameter}", "datetime_out_of_range")], (route, parameter, value)
            for value in IN_RANGE:
                response = client.get(route, params={parameter: value}, headers=headers("auditor"))
                assert response.status_code == 200, (route, parameter, value, response.text)
    everything = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    assert len(client.get("/v1/assessments", params=everything, headers=headers("auditor")).json()["items"]) == 1
    assert len(exported_entries(client.get("/v1/audit/export", params=everything, headers=headers("auditor")))) == 1


def test_date_time_query_parameters_are_strings_not_unix_time(sqlite_client: TestClient) -> None:
    for route in WINDOW_ROUTES:
        for value in ("1764000000", "0.5", "-1"):
            response = sqlite_client.get(route, params={"to": value}, headers=headers("auditor"))
            assert problem_fields(response) == [("query.to", "datetime_type")], (route, value)


def test_a_window_that_ends_before_it_starts_is_a_422(client: TestClient) -> None:
    decide(client)
    backwards = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    # The same instant written in two offsets is an empty window, not a backwards one.
    empty = {"from": "2026-11-01T01:00:00+01:00", "to": "2026-11-01T00:00:00Z"}
    # A naive date-time is read as UTC, so it compares with an offset one instead of failing.
    mixed = {"from": "2026-11-02T00:00:00", "to": "2026-11-01T00:00:00+00:00"}
    for route in WINDOW_ROUTES:
        assert problem_fields(client.get(route, params=backwards, headers=headers("auditor"))) == [("query.to", "window_order")]
        assert problem_fields(client.get(route, params=mixed, headers=headers("auditor"))) == [("query.to", "window_order")]
        assert client.get(route, params=empty, headers=headers("auditor")).status_code == 200
    assert client.get("/v1/assessments", params=empty, headers=headers("auditor")).json()["items"] == []
    assert exported_entries(client.get("/v1/audit/export", params=empty, headers=headers("auditor"))) == []


# --- control characters in query and path parameters -------------------------------------------------------------------

QUERY_AND_PATH = [
    ("/v1/assessments?officer_id=%00", "query.officer_id", "control_character"),
    ("/v1/assessments?officer_id=PCSO%0A1", "query.officer_id", "control_character"),
    ("/v1/assessments?officer_id=%E2%80%AEPCSO", "query.officer_id", "bidi_control"),
    ("/v1/assessments?force=west%00midlands", "query.force", "control_character"),
    ("/v1/assessments?force=%20%20", "query.force", "blank"),
    ("/v1/assessments/%00", "path.assessment_id", "control_character"),
    ("/v1/assessments/%09", "path.assessment_id", "control_character"),
    ("/v1/reports/abstractions?month=2026-11&lpa=birmingham%00west", "query.lpa", "control_character"),
    ("/v1/policies/west-midlands/matrix?powers=%00", "query.powers[0]", "control_character"),
    ("/v1/policies/kent%00", "path.force", "control_character"),
]


def test_control_characters_in_query_and_path_parameters_are_refused(client: TestClient) -> None:
    decide(client)
    for url, field, code in QUERY_AND_PATH:
        assert problem_fields(client.get(url, headers=headers("admin"))) == [(field, code)], url
    authorise = client.post(
        "/v1/abstractions/%00/authorisation", json={"authorised_by": "PS 1", "justification": "cover"}, headers=headers("admin")
    )
    assert problem_fields(authorise) == [("path.abstraction_id", "control_character")]
    escalate = client.post("/v1/assessments/%00/escalations", json={"risk_level": "high"}, headers=headers("dispatcher"))
    assert problem_fields(escalate) == [("path.assessment_id", "control_character")]
    assert recorded(client) == 1


# --- audit verification ranges ------------------------------------------------------------------------------------------


def test_verify_ranges_lie_within_the_chain(client: TestClient) -> None:
    def verify(query: str) -> Any:
        return client.get(f"/v1/audit/verify?force=west-midlands&{query}", headers=headers("auditor"))

    decide(client)  # west-midlands
    kent = with_value(ASSESSMENT, "force", "kent")
    assert client.post("/v1/assessments", json=kent, headers=headers("dispatcher")).status_code == 200
    for _ in range(2):
        decide(client)
    assert problem_fields(verify("from_seq=100000")) == [("query.from_seq", "beyond_head")]
    assert problem_fields(verify("from_seq=4")) == [("query.from_seq", "beyond_head")]
    assert problem_fields(verify("to_seq=4")) == [("query.to_seq", "beyond_head")]
    assert problem_fields(verify("from_seq=5&to_seq=9")) == [("query.from_seq", "beyond_head"), ("query.to_seq", "beyond_head")]
    assert problem_fields(verify("from_seq=3&to_seq=2")) == [("query.to_seq", "invalid_range")]
    assert problem_fields(verify("from_seq=-1")) == [("query.from_seq", "greater_than_equal")]
    assert problem_fields(verify("from_seq=0")) == [("query.from_seq", "greater_than_equal")]
    assert problem_fields(verify("to_seq=-3")) == [("query.to_seq", "greater_than_equal")]
    assert problem_fields(verify("from_seq=99999999999999999999")) == [("query.from_seq", "less_than_equal")]
    assert "ends at entry 3" in verify("from_seq=100000").json()["detail"]
    # Kent's chain holds one entry: its own head bounds its ranges.
    kent_range = client.get("/v1/audit/verify?force=kent&from_seq=2", headers=headers("auditor"))
    assert problem_fields(kent_range) == [("query.from_seq", "beyond_head")]
    for query, checked in (("from_seq=3", 1), ("from_seq=1&to_seq=3", 3), ("from_seq=2&to_seq=2", 1), ("to_seq=3", 3)):
        response = verify(query)
        assert response.status_code == 200 and response.json()["status"] == "intact", (query, response.text)
        assert response.json()["checked"] == checked, query


def test_verify_range_cannot_start_in_purged_entries(clocked: tuple[TestClient, Clock]) -> None:
    client, clock = clocked
    for _ in range(2):
        decide(client)
    clock.now = datetime(2026, 11, 1, tzinfo=UTC)
    decide(client)
    purge = client.post("/v1/audit/purge", json={"reason": "Retention schedule"}, headers=headers("admin"))
    assert purge.status_code == 200 and purge.json()["purged"] == 2, purge.text
    response = client.get("/v1/audit/verify", params={"force": "west-midlands", "from_seq": 2}, headers=headers("auditor"))
    assert problem_fields(response) == [("query.from_seq", "purged")]
    assert "start at 3" in response.json()["errors"][0]["message"]
    kept = client.get("/v1/audit/verify", params={"force": "west-midlands", "from_seq": 3}, headers=headers("auditor")).json()
    assert kept["status"] == "intact" and kept["checked"] == 2


# --- date-times in bodies ---------------------------------------------------------------------------------------------------


def test_body_date_times_are_bounded_and_nothing_is_written(client: TestClient) -> None:
    for value in OUT_OF_RANGE:
        response = client.post("/v1/abstractions", json={**ABSTRACTION, "started_at": value}, headers=headers("planner"))
        assert problem_fields(response) == [("started_at", "datetime_out_of_range")], value
    assert recorded(client) == 0
    # The batch after a refused body still writes: nothing unstorable reached the writer.
    accepted = client.post("/v1/abstractions", json=ABSTRACTION, headers=headers("planner"))
    assert accepted.status_code == 201, accepted.text
    assert recorded(client) == 1
    decide(client)
    impact = "/v1/policies/west-midlands/impact"
    files = {"west-midlands/policy.json": json.loads((POLICY_DIR / "west-midlands" / "policy.json").read_text(encoding="utf-8"))}
    for field in ("from", "to"):
        response = client.post(impact, json={"files": files, field: OUT_OF_RANGE[0]}, headers=headers("planner"))
        assert problem_fields(response) == [(field, "datetime_out_of_range")]
    backwards = {"files": files, "from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    assert problem_fields(client.post(impact, json=backwards, headers=headers("planner"))) == [("to", "window_order")]
    window = {"files": files, "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    replayed = client.post(impact, json=window, headers=headers("planner"))
    assert replayed.status_code == 200 and replayed.json()["replayed"] == 1, replayed.text


# --- strings in bodies ------------------------------------------------------------------------------------------------------

ASSESSMENT_STRINGS = [
    "force",
    "call.type",
    "call.reference",
    "call.description",
    "location.lpa",
    "location.neighbourhood",
    "officer.id",
    "officer.home_lpa",
    "officer.home_neighbourhood",
]
ABSTRACTION_STRINGS = ["force", "officer_id", "home_lpa", "home_neighbourhood", "lpa", "neighbourhood", "description"]


def test_no_stored_string_in_a_body_may_hold_nul(client: TestClient) -> None:
    def refused(url: str, body: dict[str, Any], field: str, who: str = "admin") -> None:
        assert problem_fields(client.post(url, json=body, headers=headers(who))) == [(field, "control_character")], (url, field)

    for path in ASSESSMENT_STRINGS:
        refused("/v1/assessments", with_value(ASSESSMENT, path, "W\x00MP"), path)
    refused(
        "/v1/assessments", with_value(ASSESSMENT, "officer.designated_powers", ["dispersal\x00"]), "officer.designated_powers[0]"
    )
    candidates = {**{k: v for k, v in ASSESSMENT.items() if k != "officer"}, "officers": [ASSESSMENT["officer"]]}
    refused("/v1/candidates", with_value(candidates, "officers.0.id", "PCSO\x001"), "officers[0].id")
    refused("/v1/candidates", with_value(candidates, "force", "\x00"), "force")
    for path in ABSTRACTION_STRINGS:
        refused("/v1/abstractions", with_value(ABSTRACTION, path, "x\x00y"), path)
    refused("/v1/audit/purge", {"older_than_days": 3650, "reason": "Retention\x00"}, "reason")
    impact = {"files": {"west-midlands/rules\x00.json": {}}}
    response = client.post("/v1/policies/west-midlands/impact", json=impact, headers=headers("planner"))
    assert [code for _, code in problem_fields(response)] == ["control_character"]
    decided = decide(client)
    refused(
        f"/v1/assessments/{decided['assessment_id']}/escalations", {"description": "now \x00 armed"}, "description", "dispatcher"
    )
    abstraction = client.post("/v1/abstractions", json=ABSTRACTION, headers=headers("planner")).json()
    url = f"/v1/abstractions/{abstraction['id']}/authorisation"
    refused(url, {"authorised_by": "PS\x00 1", "justification": "cover"}, "authorised_by")
    refused(url, {"authorised_by": "PS 1", "justification": "cover\x00"}, "justification")
    # Only the decision and the abstraction above were written.
    assert recorded(client) == 2


# --- identifiers and free text ----------------------------------------------------------------------------------------------

REFUSED_IDENTIFIERS = [
    ("   ", "blank"),
    ("\u3000", "blank"),  # ideographic space
    ("PCSO\t1", "control_character"),
    ("PCSO\n1", "control_character"),
    ("PCSO 1\r", "control_character"),
    ("PCSO\x001", "control_character"),
    ("PCSO\x1b[31m1", "control_character"),
    ("PCSO\x7f1", "control_character"),
    ("PCSO\x851", "control_character"),  # C1 next line
    ("PCSO\u202e1", "bidi_control"),
    ("PCSO\u202a1", "bidi_control"),
    ("PCSO\u20661", "bidi_control"),
    ("PCSO\u20691", "bidi_control"),
    ("PCSO\u200e1", "bidi_control"),
    ("PCSO\u200f1", "bidi_control"),
    ("PCSO\u061c1", "bidi_control"),
]
ACCEPTED_IDENTIFIERS = ["PCSO 4521", "O'Brien-Smith", "Zoë Ω-7", "سارة 12", "WMP/2026/11/0042", " padded "]


def test_identifiers_refuse_blank_control_and_bidi_characters(sqlite_client: TestClient) -> None:
    for value, code in REFUSED_IDENTIFIERS:
        for path in ("officer.id", "call.reference", "force"):
            response = sqlite_client.post(
                "/v1/assessments", json=with_value(ASSESSMENT, path, value), headers=headers("dispatcher")
            )
            assert problem_fields(response) == [(path, code)], (path, value)
    for value in ACCEPTED_IDENTIFIERS:
        for path in ("officer.id", "call.reference"):
            response = sqlite_client.post(
                "/v1/assessments", json=with_value(ASSESSMENT, path, value), headers=headers("dispatcher")
            )
            assert response.status_code == 200, (path, value, response.text)
    abstraction = sqlite_client.post("/v1/abstractions", json=ABSTRACTION, headers=headers("planner")).json()
    url = f"/v1/abstractions/{abstraction['id']}/authorisation"
    for value, code in REFUSED_IDENTIFIERS:
        response = sqlite_client.post(url, json={"authorised_by": value, "justification": "cover"}, headers=headers("planner"))
        assert problem_fields(response) == [("authorised_by", code)], value
    # The empty string keeps its own error.
    empty = sqlite_client.post("/v1/assessments", json=with_value(ASSESSMENT, "officer.id", ""), headers=headers("dispatcher"))
    assert problem_fields(empty) == [("officer.id", "string_too_short")]


def test_a_refusal_names_the_character_and_where_it_is(sqlite_client: TestClient) -> None:
    response = sqlite_client.post(
        "/v1/assessments", json=with_value(ASSESSMENT, "officer.id", "PCSO\u202e1"), headers=headers("dispatcher")
    )
    assert response.json()["errors"][0]["message"] == "Bidirectional-text control U+202E at position 4 is not allowed here."


def test_free_text_keeps_lines_and_tabs_but_refuses_nul_and_bidi_overrides(sqlite_client: TestClient) -> None:
    kept = "Caller says:\n\tyouths shouting\r\nnear the \u200fمسجد\u200f, \u200bno weapons \U0001f642"
    response = sqlite_client.post(
        "/v1/assessments", json=with_value(ASSESSMENT, "call.description", kept), headers=headers("dispatcher")
    )
    assert response.status_code == 200, response.text
    stored = sqlite_client.get(f"/v1/assessments/{response.json()['assessment_id']}", headers=headers("auditor")).json()
    assert stored["request"]["call"]["description"] == kept
    for value, code in (
        ("a\x00b", "control_character"),
        ("a\x1bb", "control_character"),
        ("a\x7fb", "control_character"),
        ("a\u202eb", "bidi_control"),
        ("a\u202db", "bidi_control"),
        ("a\u2067b", "bidi_control"),
    ):
        response = sqlite_client.post(
            "/v1/assessments", json=with_value(ASSESSMENT, "call.description", value), headers=headers("dispatcher")
        )
        assert problem_fields(response) == [("call.description", code)], value
    abstraction = sqlite_client.post(
        "/v1/abstractions", json={**ABSTRACTION, "description": "Event:\n\tstewarding"}, headers=headers("planner")
    )
    assert abstraction.status_code == 201, abstraction.text
    url = f"/v1/abstractions/{abstraction.json()['id']}/authorisation"
    refused = sqlite_client.post(url, json={"authorised_by": "PS 1", "justification": "\u202ecover"}, headers=headers("planner"))
    assert problem_fields(refused) == [("justification", "bidi_control")]
    authorised = sqlite_client.post(
        url, json={"authorised_by": "PS 1", "justification": "Cover:\nstaffing gap"}, headers=headers("planner")
    )
    assert authorised.status_code == 200 and authorised.json()["justification"] == "Cover:\nstaffing gap"


def test_openapi_documents_the_patterns_that_are_enforced(sqlite_client: TestClient) -> None:
    document = sqlite_client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["OfficerIn"]["properties"]["id"]["pattern"] == IDENTIFIER_PATTERN
    assert schemas["OfficerIn"]["properties"]["designated_powers"]["items"]["pattern"] == IDENTIFIER_PATTERN
    assert schemas["AuthorisationIn"]["properties"]["authorised_by"]["pattern"] == IDENTIFIER_PATTERN
    reference = schemas["CallIn"]["properties"]["reference"]["anyOf"][0]
    assert reference["pattern"] == IDENTIFIER_PATTERN and reference["maxLength"] == 64
    assert schemas["CallIn"]["properties"]["description"]["anyOf"][0]["pattern"] == FREE_TEXT_PATTERN
    assert schemas["AuthorisationIn"]["properties"]["justification"]["pattern"] == FREE_TEXT_PATTERN
    parameters = {p["name"]: p for p in document["paths"]["/v1/assessments"]["get"]["parameters"]}
    assert parameters["officer_id"]["schema"]["anyOf"][0]["pattern"] == IDENTIFIER_PATTERN
    assert "2000-01-01T00:00:00Z" in parameters["from"]["description"]
    path_parameter = document["paths"]["/v1/assessments/{assessment_id}"]["get"]["parameters"][0]
    assert path_parameter["schema"]["pattern"] == IDENTIFIER_PATTERN
    month = {p["name"]: p for p in document["paths"]["/v1/reports/abstractions"]["get"]["parameters"]}["month"]
    assert re.fullmatch(month["schema"]["pattern"].strip("^$"), "2099-12") and not re.search(
        month["schema"]["pattern"], "2100-01"
    )


def test_the_documented_patterns_agree_with_the_explanations() -> None:
    """Python's re (as a client or the contract fuzzer reads the OpenAPI pattern) and the service agree on every sample."""
    for value, code in REFUSED_IDENTIFIERS:
        assert re.search(IDENTIFIER_PATTERN, value) is None, value
        explained = text_problem(IDENTIFIER_PATTERN, value)
        assert explained is not None and explained[0] == code, value
    for value in ACCEPTED_IDENTIFIERS:
        assert re.search(IDENTIFIER_PATTERN, value) is not None, value
    assert re.search(FREE_TEXT_PATTERN, "line\n\tline\r\n\u200f") is not None
    assert re.search(FREE_TEXT_PATTERN, "nul\x00") is None and re.search(FREE_TEXT_PATTERN, "\u2066x") is None
    assert text_problem("^other$", "x") is None


def test_unknown_query_parameters_are_refused_not_ignored(sqlite_client: TestClient) -> None:
    # A typo such as ?forse=kent must not quietly widen a read to every force.
    for route, who in (
        ("/v1/audit/verify", "auditor"),
        ("/v1/audit/export", "auditor"),
        ("/v1/assessments", "auditor"),
        ("/v1/reports/abstractions?month=2026-11", "planner"),
        ("/v1/policies/west-midlands/matrix", "planner"),
    ):
        separator = "&" if "?" in route else "?"
        response = sqlite_client.get(f"{route}{separator}forse=kent", headers=headers(who))
        assert response.status_code == 422, (route, response.text)
        assert any(error["field"].endswith("forse") for error in response.json()["errors"]), route
