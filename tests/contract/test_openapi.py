"""The committed OpenAPI document is exactly what the app generates, with examples for the docs page."""

from __future__ import annotations

import json

from scripts.export_openapi import render
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
