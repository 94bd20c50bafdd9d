"""The engine never imports the web framework, the database layer or an HTTP client."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "service" / "engine"
FORBIDDEN = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "httpx", "httpx2", "psycopg", "uvicorn", "requests", "service.api", "service.store", "service.main")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_engine_modules_import_nothing_impure() -> None:
    files = sorted(ENGINE.glob("*.py"))
    assert len(files) >= 5
    offending = {
        f"{path.name}: {name}"
        for path in files
        for name in imported_modules(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert not offending


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from fastapi import FastAPI\nimport sqlalchemy.orm\n", encoding="utf-8")
    assert imported_modules(sample) == ["fastapi", "sqlalchemy.orm"]
