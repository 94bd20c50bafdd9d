"""Write openapi/openapi.json from the app, deterministically."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.config import Settings  # noqa: E402
from service.main import create_app  # noqa: E402


def render() -> str:
    """The OpenAPI document as committed: indented, key order as generated, trailing newline."""
    app = create_app(Settings(environment="development", api_keys=""))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = ROOT / "openapi" / "openapi.json"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
