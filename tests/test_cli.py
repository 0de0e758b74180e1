"""The `invitation-gateway` command as a person runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from invitation_gateway.cli import main


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return {**env, **extra}


def test_serve_refuses_to_start_without_an_upstream_and_says_what_to_set() -> None:
    """`serve` with nothing configured exits 2 naming the variables to set."""
    result = subprocess.run(
        [sys.executable, "-m", "invitation_gateway", "serve"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "GATEWAY_CLERK__SECRET_KEY" in result.stderr
    assert "GATEWAY_CONDUCTORONE__TOKEN" in result.stderr


def test_bad_configuration_names_the_variable_and_never_echoes_the_secret() -> None:
    """A malformed Clerk secret key is reported by variable name, without its value."""
    result = subprocess.run(
        [sys.executable, "-m", "invitation_gateway", "serve"],
        env=_env(GATEWAY_CLERK__SECRET_KEY="pk_live_TOPSECRETVALUE"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "GATEWAY_CLERK__SECRET_KEY" in result.stderr
    assert "TOPSECRETVALUE" not in result.stderr + result.stdout


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    """`export-schema --output F` writes the same SDL as schema.graphql."""
    out = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == (
        Path(__file__).resolve().parents[1] / "schema.graphql"
    ).read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
def test_sandbox_command_serves_graphql_on_a_real_socket() -> None:
    """`invitation-gateway sandbox` listens, answers /healthz, GraphiQL and a real mutation."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "invitation_gateway",
            "sandbox",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "sandbox did not start within 30 s"
            assert process.poll() is None, "sandbox exited early; run scripts/sandbox to see why"
            time.sleep(0.2)
        page = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=5)
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        created = httpx.post(
            f"{base}/graphql",
            json={
                "query": "mutation($i: CreateInvitationInput!) { createInvitation(input: $i) { invitation { status } userErrors { code } } }",
                "variables": {
                    "i": {"target": {"kind": "CLERK_APPLICATION"}, "email": "socket@example.com"}
                },
            },
            timeout=5,
        )
        assert created.json()["data"]["createInvitation"] == {
            "invitation": {"status": "PENDING"},
            "userErrors": [],
        }
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
