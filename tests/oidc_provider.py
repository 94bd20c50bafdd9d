"""Run oidc-provider-mock with the key id in each token header, as Entra ID and most providers send it.

Same command line as `python -m oidc_provider_mock`. The only change: the ID token's header names
the key that signed it (the `kid` the provider's JWKS already publishes).
"""

from __future__ import annotations

from typing import Any

import oidc_provider_mock._app as provider
from oidc_provider_mock.__main__ import run

_config = provider.OpenIDCode.get_jwt_config


def _config_with_kid(self: Any, grant: Any, client: object = None) -> dict[str, Any]:
    config = _config(self, grant, client)
    return {**config, "kid": config["key"]["kid"]}


provider.OpenIDCode.get_jwt_config = _config_with_kid  # type: ignore[method-assign]

if __name__ == "__main__":
    run()
