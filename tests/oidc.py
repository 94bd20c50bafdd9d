"""A real OpenID Connect provider process for the identity tests (the oidc-provider-mock package).

The provider is started as its own process, on its own port, the way a developer runs it
(`python -m oidc_provider_mock`). Each start generates a new RSA signing key, so stopping it and
starting it again on the same port is a key rotation at the same issuer. Tokens are obtained
through its authorisation-code flow: the claims a user carries (roles, forces, azp) are set on
the provider first, and the ID token it issues is signed with its key; its audience is the client
id asked for.

The mock leaves the key id (`kid`) out of its token headers; Microsoft Entra ID and most
providers put it in. ``kid=True`` starts the same provider through tests/oidc_provider.py, which
only adds the key id its JWKS already publishes to each token header, so both shapes are tested.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import httpx

from tests.servers import free_port

LAUNCHER = Path(__file__).resolve().parent / "oidc_provider.py"
CLIENT_ID = "pcso-deployment"
REDIRECT_URI = "http://localhost/signed-in"


class IdentityProvider:
    """One provider process at a fixed issuer URL; ``restart`` rotates its signing key."""

    def __init__(self, *, kid: bool = True, token_max_age: int = 3600) -> None:
        self.port = free_port()
        self.kid = kid
        self.token_max_age = token_max_age
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="oidc-provider-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> IdentityProvider:
        command = [sys.executable, str(LAUNCHER)] if self.kid else [sys.executable, "-m", "oidc_provider_mock"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--token-max-age", str(self.token_max_age)]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the identity provider exited: {Path(self.log.name).read_text(errors='replace')}")
            try:
                if httpx.get(self.issuer + "/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("the identity provider did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        """Stop and start again at the same issuer: a new signing key (a new kid)."""
        self.stop()
        self.start()

    def key_ids(self) -> list[str]:
        return [key["kid"] for key in httpx.get(self.issuer + "/jwks", timeout=5).json()["keys"]]

    def token(self, subject: str, claims: dict[str, object], *, client_id: str = CLIENT_ID) -> str:
        """An ID token for ``subject`` carrying ``claims``, issued to ``client_id`` (its audience)."""
        response = httpx.put(f"{self.issuer}/users/{urllib.parse.quote(subject, safe='')}", json=claims, timeout=5)
        assert response.status_code == 204, response.text
        query = {"client_id": client_id, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": "openid"}
        response = httpx.post(f"{self.issuer}/oauth2/authorize?{urllib.parse.urlencode(query)}", data={"sub": subject}, timeout=5)
        assert response.status_code == 302, response.text
        code = urllib.parse.parse_qs(urllib.parse.urlparse(response.headers["location"]).query)["code"][0]
        response = httpx.post(
            f"{self.issuer}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": client_id,
                "client_secret": "any",
            },
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["id_token"])
