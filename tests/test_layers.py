"""The layers of service/ import only what they may, the import graph has no cycle, and nothing sits
loose at the top of the package.

The checker parses every service/**/*.py with ast and resolves each import to the module it names
(``from x import y`` is x.y when x.y is a module; relative imports are made absolute). The rules are
the table RULES; the tests at the bottom feed the checker small synthetic trees that break each rule,
so that none of them can pass vacuously.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT

SERVICE = ROOT / "service"

# Third-party packages the pure decision logic must not touch: web framework, database, HTTP, settings, metrics.
IMPURE = (
    "fastapi",
    "starlette",
    "sqlmodel",
    "sqlalchemy",
    "httpx",
    "httpx2",
    "psycopg",
    "uvicorn",
    "requests",
    "alembic",
    "pydantic_settings",
    "prometheus_client",
)


@dataclass(frozen=True)
class Rule:
    """Modules under ``layer`` may not import anything under ``forbidden`` unless it is under ``allowed``."""

    layer: str
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...]
    why: str


# fmt: off
RULES = (
    #    layer                   may not import                                                           unless under
    Rule("service.engine",      ("service", *IMPURE),                                                      ("service.engine",),
         "the engine is pure decision logic"),
    Rule("service.store",       ("service.api", "service.actions", "service.ops", "service.main", "service.cli"), (),
         "the store knows nothing of the use cases or the web"),
    Rule("service.actions",     ("fastapi", "starlette", "service.main", "service.cli", "service.api"),    ("service.api.schemas",),
         "use cases are framework-free; of the API they share only the wire schemas"),
    Rule("service.api.schemas", ("service",),                                                              ("service.api.schemas", "service.engine.policy", "service.engine.assessment"),
         "wire schemas are a leaf: the engine's vocabulary and each other"),
    Rule("service.ops",         ("service.api", "service.actions", "service.store", "service.main"),       (),
         "operational modules serve every layer and depend on none of them"),
)
# fmt: on

# What may sit at the top of service/: these modules, and these packages (the layers).
TOP_MODULES = frozenset({"__init__.py", "__main__.py", "main.py", "config.py", "errors.py"})
TOP_PACKAGES = frozenset({"engine", "store", "actions", "api", "ops", "cli"})


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# --- the checker ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    target: str  # the module imported, absolute
    line: int
    module_level: bool  # runs when the importing module is imported (not inside a function or `if TYPE_CHECKING:`)


def discover(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under ``package_dir`` (named after the folder)."""
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = (package_dir.name, *path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: Iterable[str]) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.known = set(known)
        self.deferred = 0
        self.found: list[Import] = []

    def _add(self, target: str, node: ast.stmt) -> None:
        found = Import(target, node.lineno, self.deferred == 0)
        if found not in self.found:  # `from x import a, b` imports x once
            self.found.append(found)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            if node.level - 1 >= len(base):
                raise ValueError(f"line {node.lineno}: relative import beyond the top-level package")
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            self._add(submodule if alias.name != "*" and submodule in self.known else source, node)

    def _deferred(self, node: ast.AST) -> None:
        self.deferred += 1
        self.generic_visit(node)
        self.deferred -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _deferred

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        type_checking = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if not type_checking:
            self.generic_visit(node)
            return
        self.deferred += 1
        for child in node.body:
            self.visit(child)
        self.deferred -= 1
        for child in node.orelse:
            self.visit(child)


def imports_of(path: Path, module: str, known: Iterable[str] = ()) -> list[Import]:
    """Every import in one file, resolved to absolute module names."""
    collector = _ImportCollector(module, path.name == "__init__.py", known)
    collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return collector.found


def import_graph(package_dir: Path) -> dict[str, list[Import]]:
    """Module -> the imports in it, for every module under ``package_dir``."""
    modules = discover(package_dir)
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def layer_offences(graph: dict[str, list[Import]], rules: Iterable[Rule] = RULES) -> list[str]:
    offences = []
    for module, imports in sorted(graph.items()):
        for rule in rules:
            if not _under(module, rule.layer):
                continue
            for item in imports:
                forbidden = any(_under(item.target, prefix) for prefix in rule.forbidden)
                if forbidden and not any(_under(item.target, prefix) for prefix in rule.allowed):
                    offences.append(f"{module}:{item.line} imports {item.target}: {rule.layer} may not ({rule.why})")
    return offences


def _runtime_edges(graph: dict[str, list[Import]]) -> dict[str, set[str]]:
    """Module-level imports inside the package, with the parent packages an import also runs."""
    edges: dict[str, set[str]] = {module: set() for module in graph}
    for module, imports in graph.items():
        own_packages = {module.rsplit(".", n)[0] for n in range(module.count(".") + 1)}
        for item in imports:
            if not item.module_level or item.target not in graph:
                continue
            parts = item.target.split(".")
            for depth in range(1, len(parts) + 1):
                target = ".".join(parts[:depth])
                if target in graph and target not in own_packages:
                    edges[module].add(target)
    return edges


def find_cycle(graph: dict[str, list[Import]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    edges = _runtime_edges(graph)
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(edges):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def loose_modules(package_dir: Path) -> list[str]:
    """Anything at the top of the package that is neither an allowed module nor a known layer package."""
    loose = []
    for entry in sorted(package_dir.iterdir()):
        if entry.name.startswith((".", "__pycache__")):
            continue
        if entry.is_dir():
            if entry.name not in TOP_PACKAGES and any(entry.rglob("*.py")):
                loose.append(f"{entry.name}/: not a known layer ({', '.join(sorted(TOP_PACKAGES))}); add it to the rules")
        elif entry.suffix == ".py" and entry.name not in TOP_MODULES:
            loose.append(f"{entry.name}: a module at the top of {package_dir.name}/ belongs in a layer")
    return loose


# --- the service obeys the rules ------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    return import_graph(SERVICE)


def test_every_rule_governs_modules_that_exist(graph: dict[str, list[Import]]) -> None:
    """A renamed layer must not leave its rule checking nothing."""
    assert len(graph) > 50
    for rule in RULES:
        assert any(_under(module, rule.layer) for module in graph), rule.layer
    assert len(discover(SERVICE / "engine")) >= 8


@pytest.mark.parametrize("rule", RULES, ids=[rule.layer for rule in RULES])
def test_layer_imports_only_what_it_may(graph: dict[str, list[Import]], rule: Rule) -> None:
    offences = layer_offences(graph, [rule])
    assert not offences, "\n".join(offences)


def test_the_import_graph_has_no_cycle(graph: dict[str, list[Import]]) -> None:
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_module_sits_loose_at_the_top_of_service() -> None:
    loose = loose_modules(SERVICE)
    assert not loose, "\n".join(loose)


# --- the checker can fail -------------------------------------------------------------------------


def module_of(file: str) -> str:
    """'engine/bad.py' -> 'service.engine.bad'."""
    return "service." + file.removesuffix(".py").replace("/", ".")


def make_tree(root: Path, files: dict[str, str]) -> Path:
    """A synthetic service/ package under ``root``; every folder on the way gets an empty __init__.py."""
    package = root / "service"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in [path.parent, *path.parent.parents]:
            if folder == root:
                break
            (folder / "__init__.py").touch()
        path.write_text(text, encoding="utf-8")
    return package


# Files shared by every synthetic tree: one module per layer that the offending imports can name.
BASE_TREE = {
    "main.py": "",
    "config.py": "",
    "errors.py": "",
    "engine/policy.py": "",
    "engine/assessment.py": "",
    "engine/decide.py": "from service.engine import policy\n",
    "store/records.py": "",
    "actions/decisions.py": "",
    "api/deps.py": "",
    "api/schemas/common.py": "",
    "ops/context.py": "",
    "cli/policy.py": "",
}


def test_the_checker_reads_imports_as_python_resolves_them(tmp_path: Path) -> None:
    """The AST helper's self-check: plain, dotted, from-module, from-package-of-a-module, relative, deferred."""
    package = make_tree(
        tmp_path,
        {
            **BASE_TREE,
            "engine/sample.py": (
                "from __future__ import annotations\n"
                "from typing import TYPE_CHECKING\n"
                "from fastapi import FastAPI\n"
                "import sqlalchemy.orm\n"
                "from service.engine import policy, MISSING\n"
                "from . import decide\n"
                "from ..store.records import AuditStore\n"
                "if TYPE_CHECKING:\n"
                "    from service.ops import context\n"
                "def later():\n"
                "    import service.cli.policy\n"
            ),
        },
    )
    modules = discover(package)
    found = [(i.target, i.module_level) for i in imports_of(modules["service.engine.sample"], "service.engine.sample", modules)]
    assert found == [
        ("__future__", True),
        ("typing", True),
        ("fastapi", True),
        ("sqlalchemy.orm", True),
        ("service.engine.policy", True),
        ("service.engine", True),
        ("service.engine.decide", True),
        ("service.store.records", True),
        ("service.ops.context", False),
        ("service.cli.policy", False),
    ]
    init = imports_of(package / "engine" / "__init__.py", "service.engine", modules)
    assert init == []
    (package / "engine" / "__init__.py").write_text("from . import policy\nfrom .decide import x\n", encoding="utf-8")
    assert [i.target for i in imports_of(package / "engine" / "__init__.py", "service.engine", modules)] == [
        "service.engine.policy",
        "service.engine.decide",
    ]


def test_a_tree_that_follows_the_rules_passes(tmp_path: Path) -> None:
    package = make_tree(
        tmp_path,
        {
            **BASE_TREE,
            "engine/rules.py": "import json\nfrom service.engine.policy import X\nfrom .assessment import Y\n",
            "store/chain.py": "import sqlalchemy\nfrom service.engine import policy\nfrom service.config import S\nfrom service.store import records\n",
            "actions/assessments.py": "from service.api.schemas.common import A\nfrom service.store.records import R\nfrom service.ops.context import C\n",
            "api/schemas/assessments.py": "import pydantic\nfrom service.engine.policy import P\nfrom service.engine.assessment import A\nfrom .common import C\n",
            "api/routes.py": "import fastapi\nfrom service.actions.decisions import D\n",
            "ops/metrics.py": "import prometheus_client\nfrom service.engine.policy import P\nfrom service.ops import context\n",
        },
    )
    graph = import_graph(package)
    assert layer_offences(graph) == []
    assert find_cycle(graph) is None
    assert loose_modules(package) == []


# (label, the offending file, its text, the import the checker must name)
# fmt: off
BREAKS = [
    ("engine imports fastapi", "engine/bad.py", "from fastapi import FastAPI\n", "service.engine.bad:1 imports fastapi"),
    ("engine imports starlette", "engine/bad.py", "import starlette.responses\n", "imports starlette.responses"),
    ("engine imports sqlalchemy", "engine/bad.py", "from sqlalchemy.orm import Session\n", "imports sqlalchemy.orm"),
    ("engine imports sqlmodel", "engine/bad.py", "import sqlmodel\n", "imports sqlmodel"),
    ("engine imports httpx", "engine/bad.py", "import httpx\n", "imports httpx"),
    ("engine imports httpx2", "engine/bad.py", "import httpx2\n", "imports httpx2"),
    ("engine imports psycopg", "engine/bad.py", "import psycopg\n", "imports psycopg"),
    ("engine imports uvicorn", "engine/bad.py", "import uvicorn\n", "imports uvicorn"),
    ("engine imports requests", "engine/bad.py", "import requests\n", "imports requests"),
    ("engine imports alembic", "engine/bad.py", "from alembic import op\n", "imports alembic"),
    ("engine imports pydantic_settings", "engine/bad.py", "from pydantic_settings import BaseSettings\n", "imports pydantic_settings"),
    ("engine imports prometheus_client", "engine/bad.py", "import prometheus_client\n", "imports prometheus_client"),
    ("engine imports the store", "engine/bad.py", "from service.store import records\n", "imports service.store.records"),
    ("engine imports config", "engine/bad.py", "from service.config import Settings\n", "imports service.config"),
    ("engine imports errors", "engine/bad.py", "import service.errors\n", "imports service.errors"),
    ("engine imports the API relatively", "engine/bad.py", "from ..api.schemas import common\n", "imports service.api.schemas.common"),
    ("engine imports actions in a function", "engine/bad.py", "def f():\n    from service.actions import decisions\n", "service.engine.bad:2 imports service.actions.decisions"),
    ("store imports actions", "store/bad.py", "from service.actions.decisions import record\n", "imports service.actions.decisions"),
    ("store imports the API", "store/bad.py", "from service.api import deps\n", "imports service.api.deps"),
    ("store imports ops", "store/bad.py", "from service.ops.context import x\n", "imports service.ops.context"),
    ("store imports main", "store/bad.py", "import service.main\n", "imports service.main"),
    ("store imports the CLI", "store/bad.py", "from service.cli import policy\n", "imports service.cli.policy"),
    ("actions import fastapi", "actions/bad.py", "from fastapi import Depends\n", "imports fastapi"),
    ("actions import starlette", "actions/bad.py", "from starlette.requests import Request\n", "imports starlette.requests"),
    ("actions import the API", "actions/bad.py", "from service.api.deps import get_store\n", "imports service.api.deps"),
    ("actions import main", "actions/bad.py", "from service.main import create_app\n", "imports service.main"),
    ("actions import the CLI", "actions/bad.py", "import service.cli.policy\n", "imports service.cli.policy"),
    ("schemas import the store", "api/schemas/bad.py", "from service.store.records import AuditStore\n", "imports service.store.records"),
    ("schemas import decide", "api/schemas/bad.py", "from service.engine.decide import decide\n", "imports service.engine.decide"),
    ("schemas import actions", "api/schemas/bad.py", "from service.actions import decisions\n", "imports service.actions.decisions"),
    ("schemas import the rest of the API", "api/schemas/bad.py", "from ..deps import get_store\n", "imports service.api.deps"),
    ("schemas import errors", "api/schemas/bad.py", "from service.errors import InvalidRequest\n", "imports service.errors"),
    ("ops import the API", "ops/bad.py", "from service.api.deps import get_store\n", "imports service.api.deps"),
    ("ops import actions", "ops/bad.py", "from service.actions.decisions import record\n", "imports service.actions.decisions"),
    ("ops import the store", "ops/bad.py", "from service.store.records import AuditStore\n", "imports service.store.records"),
    ("ops import main", "ops/bad.py", "from service import main\n", "imports service.main"),
]
# fmt: on


@pytest.mark.parametrize(("label", "file", "text", "expected"), BREAKS, ids=[b[0] for b in BREAKS])
def test_the_checker_reports_each_forbidden_import(tmp_path: Path, label: str, file: str, text: str, expected: str) -> None:
    package = make_tree(tmp_path, {**BASE_TREE, file: text})
    offences = layer_offences(import_graph(package))
    assert len(offences) == 1 and expected in offences[0], offences


def test_every_rule_and_every_impure_package_has_a_breaking_case() -> None:
    layers = {rule.layer for rule in RULES for _label, file, _text, _expected in BREAKS if _under(module_of(file), rule.layer)}
    assert layers == {rule.layer for rule in RULES}
    named = [expected for *_rest, expected in BREAKS]
    for name in IMPURE:
        assert any(f"imports {name}" in expected for expected in named), name


def test_the_checker_reports_a_module_level_cycle(tmp_path: Path) -> None:
    package = make_tree(
        tmp_path,
        {
            **BASE_TREE,
            "actions/first.py": "from service.actions.second import b\n",
            "actions/second.py": "from service.actions import third\n",
            "actions/third.py": "import service.actions.first\n",
        },
    )
    assert find_cycle(import_graph(package)) == [
        "service.actions.first",
        "service.actions.second",
        "service.actions.third",
        "service.actions.first",
    ]


def test_the_checker_reports_a_cycle_through_a_package_init(tmp_path: Path) -> None:
    """Importing service.engine.policy runs service/engine/__init__.py: an import there is part of the graph."""
    package = make_tree(
        tmp_path,
        {
            **BASE_TREE,
            "engine/__init__.py": "from service.store import records\n",
            "store/records.py": "from service.engine.policy import P\n",
        },
    )
    assert find_cycle(import_graph(package)) == ["service.engine", "service.store.records", "service.engine"]


def test_a_deferred_import_is_not_a_cycle(tmp_path: Path) -> None:
    package = make_tree(
        tmp_path,
        {
            **BASE_TREE,
            "actions/first.py": "from service.actions import second\n",
            "actions/second.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from service.actions import first\ndef f():\n    from service.actions import first\n",
        },
    )
    assert find_cycle(import_graph(package)) is None


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"helpers.py": ""}, "helpers.py: a module at the top of service/ belongs in a layer"),
        ({"utils/text.py": ""}, "utils/: not a known layer"),
    ],
    ids=["loose module", "unknown package"],
)
def test_the_checker_reports_a_loose_module(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    package = make_tree(tmp_path, {**BASE_TREE, **files})
    loose = loose_modules(package)
    assert len(loose) == 1 and loose[0].startswith(expected), loose
