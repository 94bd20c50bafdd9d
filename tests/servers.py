"""Start the service as a real uvicorn process for tests, the way a user starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import ROOT, SIGNING_KEY, api_keys

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "API_KEYS", "ENVIRONMENT", "POLICY_DIR", "MIGRATE_ON_START", "AUDIT_SIGNING_KEY")
    }
    env.update(
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        API_KEYS=api_keys(),
        AUDIT_SIGNING_KEY=SIGNING_KEY,
        DATABASE_URL=database_url,
    )
    env.update(extra)
    return env


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}: {_log_of(process)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


def _log_of(process: subprocess.Popen) -> str:
    return Path(process.log_path).read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def start_uvicorn(env: dict[str, str], *, workers: int = 1) -> subprocess.Popen:
    """uvicorn service.main:app in its own process group, on env['PORT'].

    Its log goes to a file, not a pipe: a pipe nobody reads fills up and stalls the server.
    """
    command = [
        str(VENV_BIN / "uvicorn"),
        "service.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        env["PORT"],
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    log = tempfile.NamedTemporaryFile("w", prefix="uvicorn-", suffix=".log", delete=False)  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True, start_new_session=True
    )
    log.close()
    process.log_path = log.name  # type: ignore[attr-defined]
    try:
        wait_ready(int(env["PORT"]), process)
    except AssertionError:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Signal the whole process group (workers included), reap it, and keep what it wrote to stderr."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)
    process.stderr_text = _log_of(process)  # type: ignore[attr-defined]
    Path(process.log_path).unlink(missing_ok=True)  # type: ignore[attr-defined]


@contextmanager
def running(database_url: str, *, workers: int = 1, **extra: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """A running server; yields its base URL and process."""
    port = free_port()
    process = start_uvicorn(server_env(database_url, port, **extra), workers=workers)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            stop(process)
