"""The service started the way a user starts it: its server command, the README's environment, the Dockerfile's CMD."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import KEYS, ROOT
from tests.servers import VENV_BIN, free_port, server_env, wait_ready

SERVER_MODULE = "service.ops.server"

pytestmark = pytest.mark.server


def file_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    return server_env(f"sqlite:///{tmp_path / 'server.db'}", port, **extra)


def dockerfile_instruction(name: str) -> list[str]:
    """The exec-form argument list of a Dockerfile instruction (CMD, or the command of HEALTHCHECK)."""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith(name + " "):
            return json.loads(line[line.index("CMD") + 3 :].strip() if name == "HEALTHCHECK" else line[len(name) :].strip())
    raise AssertionError(f"no {name} in Dockerfile")


@pytest.fixture
def dockerfile_server(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    port = free_port()
    env = file_env(
        tmp_path, port, WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"), HEADER_TIMEOUT_SECONDS="1"
    )
    log = tmp_path / "server.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            dockerfile_instruction("CMD"), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=handle, text=True
        )
    process.log_path = str(log)  # type: ignore[attr-defined]
    try:
        wait_ready(port, process)
        yield port, env
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_dockerfile_cmd_serves_decisions_and_healthcheck_passes(dockerfile_server: tuple[int, dict[str, str]]) -> None:
    port, env = dockerfile_server
    body = {
        "force": "west-midlands",
        "call": {"type": "violence.knife_crime"},
        "location": {"risk_level": "low"},
        "officer": {"id": "PCSO 1", "training_status": "independent", "in_uniform": True},
    }
    answer = httpx.post(
        f"http://127.0.0.1:{port}/v1/assessments", json=body, headers={"Authorization": f"Bearer {KEYS['dispatcher']}"}
    )
    assert answer.status_code == 200
    assert answer.json()["decision"] == "do_not_deploy"
    check = subprocess.run(dockerfile_instruction("HEALTHCHECK"), cwd=ROOT, env=env, capture_output=True, timeout=10)
    assert check.returncode == 0
    # The server's deadlines apply: a request head left unfinished is answered 408 and closed.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as stalled:
        stalled.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert stalled.recv(65536).startswith(b"HTTP/1.1 408 ")


def test_the_container_and_make_run_use_the_server_command() -> None:
    """Both start `python -m service.ops.server` (uvicorn with the connection deadlines), not bare uvicorn."""
    command = dockerfile_instruction("CMD")
    assert command[:2] == ["sh", "-c"]
    assert command[2].startswith('rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && exec ')
    assert f'exec python -m {SERVER_MODULE} --host 0.0.0.0 --port "$PORT" --workers "$WEB_CONCURRENCY"' in command[2]
    run_local = (ROOT / "scripts" / "run-local").read_text()
    assert f"exec .venv/bin/python -m {SERVER_MODULE} " in run_local
    assert "uvicorn service.main:app" not in command[2] + run_local


def test_healthcheck_fails_when_nothing_listens(tmp_path: Path) -> None:
    env = file_env(tmp_path, free_port())
    check = subprocess.run(dockerfile_instruction("HEALTHCHECK"), cwd=ROOT, env=env, capture_output=True, timeout=10)
    assert check.returncode == 1


def test_dockerfile_shape() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("# ") and "FROM python:3.11-slim" in text
    assert "USER pcso" in text and "COPY policy_data" in text and "COPY schemas" in text
    assert text.index("pip install") < text.index("COPY service")


def test_server_refuses_to_start_with_broken_policy(tmp_path: Path) -> None:
    policy = tmp_path / "policy_data"
    shutil.copytree(ROOT / "policy_data", policy)
    rules = policy / "kent" / "rules.json"
    data = json.loads(rules.read_text())
    data["rules"][0]["when"]["phases"] = ["over"]
    rules.write_text(json.dumps(data))
    port = free_port()
    env = file_env(tmp_path, port, POLICY_DIR=str(policy))
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-m", SERVER_MODULE, "--port", str(port)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "kent/rules.json: /rules/0/when/phases/0" in result.stderr


def test_readme_run_command_prints_a_key_and_serves_the_docs(tmp_path: Path) -> None:
    port = free_port()
    env = file_env(tmp_path, port, PORT=str(port))
    del env["API_KEYS"]
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_ready(port, process)
        docs = httpx.get(f"http://127.0.0.1:{port}/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        admin = httpx.get(f"http://127.0.0.1:{port}/v1/policies", headers={"Authorization": "Bearer local-admin-key"})
        assert admin.status_code == 200 and {p["id"] for p in admin.json()} >= {"west-midlands", "kent"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    assert "local-admin-key" in output and f"http://127.0.0.1:{port}/docs" in output
