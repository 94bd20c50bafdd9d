"""The contract fuzzed: schemathesis generates requests from the committed OpenAPI document and
sends them to the live app with an admin key; no 5xx, no undocumented status or content type,
every response matching its declared schema."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks as general_checks
from schemathesis.specs.openapi import checks as openapi_checks

from service.main import create_app
from tests.helpers import ROOT, headers, make_settings

APP = create_app(make_settings(f"sqlite:///{Path(tempfile.mkdtemp()) / 'fuzz.db'}"))
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi" / "openapi.json")
SCHEMA.app = APP
CHECKS = [
    general_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]
EXAMPLES_PER_OPERATION = 50


@pytest.fixture(scope="module", autouse=True)
def running_app() -> Iterator[None]:
    with TestClient(APP):
        yield


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_honours_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=headers("admin"), checks=CHECKS)
