"""The contract fuzzed: schemathesis generates requests from the committed OpenAPI document and
sends them to the live app with an admin key, with every check it has: no 5xx, no undocumented
status, header or content type, every response matching its declared schema, invalid data
refused, and valid data accepted, except where the operation declares (as `x-refusals`) the
refusal of input the schema cannot rule out, which must then be the declared one."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS as CHECK_REGISTRY
from schemathesis.checks import CheckContext
from schemathesis.core.transport import Response
from schemathesis.specs.openapi import checks as openapi_checks

from service.main import create_app
from tests.helpers import ROOT, headers, make_settings

APP = create_app(make_settings(f"sqlite:///{Path(tempfile.mkdtemp()) / 'fuzz.db'}"))
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi" / "openapi.json")
SCHEMA.app = APP
DOCUMENT = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
DECLARED = {
    operation["operationId"]: set(operation.get("x-refusals", {}))
    for item in DOCUMENT["paths"].values()
    for operation in item.values()
}
# Answers, not refusals of the input: 409 is the service's state (the same policy version uploaded by an earlier case).
ACCEPTED = {200, 201, 401, 403, 404, 409}


@schemathesis.check
def valid_data_is_accepted_or_refused_as_declared(ctx: CheckContext, response: Response, case: schemathesis.Case) -> None:
    """Schema-valid input gets an answer, or a 422 whose every error code the operation declares."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code in ACCEPTED:
        return
    declared = DECLARED.get(case.operation.definition.raw.get("operationId", ""), set())
    codes = {error.get("code") for error in (response.json().get("errors") or [{}])} if response.status_code == 422 else {None}
    assert codes <= declared, (
        f"schema-valid request refused with {response.status_code} {sorted(map(str, codes))}: {response.text[:300]}"
    )


CHECKS = [
    check
    for check in CHECK_REGISTRY.get_all()
    if check is not openapi_checks.positive_data_acceptance and check is not valid_data_is_accepted_or_refused_as_declared
] + [valid_data_is_accepted_or_refused_as_declared]
EXAMPLES_PER_OPERATION = 50


@pytest.fixture(scope="module", autouse=True)
def running_app() -> Iterator[None]:
    with TestClient(APP):
        yield


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_operation_honours_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=headers("admin"), checks=CHECKS)
