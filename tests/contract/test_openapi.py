"""The committed OpenAPI document is exactly what the app generates, with examples for the docs page."""

from __future__ import annotations

import json
import re
from typing import Any

from scripts.export_openapi import render
from service.engine.policy import (
    DECISIONS,
    EFFECTS,
    FLAGS,
    GRADES,
    MARKERS,
    PHASES,
    RISK_LEVELS,
    SETTINGS,
    TASKS,
    TRAINING_STATUSES,
)
from tests.helpers import ROOT


def test_committed_openapi_matches_the_app() -> None:
    committed = (ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8")
    assert committed == render(), "openapi/openapi.json is stale: run `make openapi`"


def test_every_operation_is_documented_with_errors() -> None:
    document = json.loads(render())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary") and operation.get("description"), (method, path)
            if path not in ("/healthz", "/metrics"):
                assert any(code.startswith(("4", "5")) for code in operation["responses"]), (method, path)


def test_assessment_examples_are_named_and_realistic() -> None:
    document = json.loads(render())
    examples = document["paths"]["/v1/assessments"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    summaries = {example["summary"] for example in examples.values()}
    assert {
        "ASB call, deployable with powers",
        "Knife crime, refused (WMP 2.8.3)",
        "Burglary after the scene is secured, house-to-house allowed (WMP 2.8.2)",
        "Officer in coaching",
        "Kent officer not in uniform",
        "Unknown call type referred",
    } <= summaries
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


def _enums_outside_components(node: object, path: str = "") -> list[str]:
    """Paths of the inline `enum`s of the document, outside the named components that declare one."""
    found: list[str] = []
    if isinstance(node, dict):
        if "enum" in node and path.count("/") != 3:
            found.append(path)
        for key, value in node.items():
            found += _enums_outside_components(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _enums_outside_components(value, f"{path}/{index}")
    return found


def _at(document: dict[str, Any], path: str) -> dict[str, Any]:
    node: Any = document
    for part in path.strip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return dict(node)


def test_every_operation_has_a_readable_unique_id() -> None:
    document = json.loads(render())
    ids = [operation["operationId"] for item in document["paths"].values() for operation in item.values()]
    assert len(ids) == len(set(ids)), ids
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", operation_id) for operation_id in ids), ids
    assert {
        "create_assessment",
        "list_assessments",
        "get_assessment",
        "create_escalation",
        "rank_candidates",
        "verify_audit",
        "export_audit",
        "purge_audit",
        "get_public_keys",
        "record_abstraction",
        "get_abstraction",
        "authorise_abstraction",
        "abstraction_report",
        "get_matrix",
        "get_matrix_page",
        "replay_impact",
        "reload_policies",
        "list_policies",
        "get_policy",
        "healthz",
        "readyz",
        "metrics",
    } <= set(ids)


def test_each_vocabulary_is_one_named_component() -> None:
    document = json.loads(render())
    schemas = document["components"]["schemas"]
    vocabularies = {
        "DecisionCode": DECISIONS,
        "Task": TASKS,
        "Phase": PHASES,
        "Grade": GRADES,
        "Flag": FLAGS,
        "Marker": MARKERS,
        "RiskLevel": RISK_LEVELS,
        "Setting": SETTINGS,
        "TrainingStatus": TRAINING_STATUSES,
        "Effect": EFFECTS,
    }
    for name, values in vocabularies.items():
        assert schemas[name] == {"type": "string", "enum": list(values)}, name
    # Enums repeated across fields are referred to, never written out again; the few left inline are each used once.
    inline = _enums_outside_components(document)
    assert all(path.startswith("/components/schemas/") for path in inline), inline
    named = [tuple(schema["enum"]) for schema in schemas.values() if "enum" in schema]
    written_out = [tuple(_at(document, path)["enum"]) for path in inline]
    assert len(set(named + written_out)) == len(named) + len(written_out), written_out
    assert schemas["AssessmentRecordOut"]["properties"]["request"]["$ref"] == "#/components/schemas/AssessmentRequest"


def test_refusals_of_schema_valid_input_are_declared_per_operation() -> None:
    from service.api.openapi import REFUSALS

    document = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    operations = {op["operationId"]: op for item in document["paths"].values() for op in item.values()}
    assert set(REFUSALS) <= set(operations)
    for name, refusals in REFUSALS.items():
        assert operations[name]["x-refusals"] == dict(sorted(refusals.items()))
        assert all(f"`{code}`" in operations[name]["responses"]["422"]["description"] for code in refusals)


def test_every_operation_shows_an_example_on_the_docs_page() -> None:
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    bare = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if '"example' not in json.dumps(operation)
    ]
    assert bare == []
