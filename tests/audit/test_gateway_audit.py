"""The audit log through the gateway: one record per attempt, `started` left by a killed process.

Each test runs on SQLite and on the real PostgreSQL (`audit_backend`), with the sandbox's
emulators as upstreams; the records are read back with the store and with the CLI.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from invitation_gateway.app import create_app
from invitation_gateway.audit import AuditLog
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from invitation_gateway.settings import AuditSettings
from tests.audit.conftest import AuditBackend
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import GatewayClient, app_client
from tests.support.servers import free_port, serve

BULK = """mutation($input: CreateInvitationsInput!) { createInvitations(input: $input) {
  results { index invitation { id } userErrors { code } } } }"""


def audit_settings(backend: AuditBackend) -> dict[str, Any]:
    if "GATEWAY_DATABASE_URL" in backend.env:
        return {
            "database_url": SecretStr(backend.env["GATEWAY_DATABASE_URL"]),
            "audit": AuditSettings(sqlite_path=None),
        }
    return {"audit": AuditSettings(sqlite_path=Path(backend.env["GATEWAY_AUDIT__SQLITE_PATH"]))}


@pytest.fixture
async def audited(sandbox: Sandbox, audit_backend: AuditBackend) -> AsyncIterator[GatewayClient]:
    app = create_app(
        sandbox.settings(**audit_settings(audit_backend)),
        transport=sandbox.transport(),
        environ={},
    )
    async with app_client(app) as http:
        yield GatewayClient(http)


async def drop_audit_table(backend: AuditBackend) -> None:
    """The store loses its table behind the gateway's back (a restore gone wrong, say)."""
    if "GATEWAY_DATABASE_URL" in backend.env:
        connection = await asyncpg.connect(backend.env["GATEWAY_DATABASE_URL"], timeout=2)
        try:
            await connection.execute("DROP TABLE audit_records")
        finally:
            await connection.close()
    else:
        with sqlite3.connect(backend.env["GATEWAY_AUDIT__SQLITE_PATH"]) as connection:
            connection.execute("DROP TABLE audit_records")


async def records(backend: AuditBackend) -> list[dict[str, Any]]:
    log = AuditLog.open(backend.url)
    try:
        from invitation_gateway.audit import to_json

        return [to_json(r) for r in await log.query()]
    finally:
        await log.aclose()


def org(sandbox: Sandbox, email: str, role: str = "org:member") -> dict[str, Any]:
    target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
    return {"target": target, "email": email, "roles": [role]}


async def test_every_mutation_path_leaves_exactly_one_completed_record(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend
) -> None:
    """Create ok / user error / upstream failure, bulk items, revoke: one record each, completed."""
    created = await audited.execute(CREATE, {"input": org(sandbox, "one@example.com")})
    invitation_id = created["data"]["createInvitation"]["invitation"]["id"]
    await audited.execute(CREATE, {"input": org(sandbox, "one@example.com")})  # ALREADY_EXISTS
    await audited.execute(CREATE, {"input": org(sandbox, "bad", "org:member")})  # INVALID_INPUT
    sandbox.clerk.faults.add(status=503, method="POST", path_contains="/invitations")
    await audited.execute(CREATE, {"input": org(sandbox, "down@example.com")})  # outage
    items = [org(sandbox, "b1@example.com"), org(sandbox, "b2@example.com", "org:nope")]
    await audited.execute(BULK, {"input": {"invitations": items}})
    await audited.execute(REVOKE, {"input": {"id": invitation_id}})
    await audited.execute(REVOKE, {"input": {"id": invitation_id}})  # NOT_REVOCABLE

    found = await records(audit_backend)
    assert [(r["action"], r["email"], r["outcome"]) for r in found] == [
        ("create", "one@example.com", "ok"),
        ("create", "one@example.com", "ALREADY_EXISTS"),
        ("create", "bad", "INVALID_INPUT"),
        ("create", "down@example.com", "UPSTREAM_UNAVAILABLE"),
        ("create", "b1@example.com", "ok"),
        ("create", "b2@example.com", "INVALID_INPUT"),
        ("revoke", None, "ok"),
        ("revoke", None, "NOT_REVOCABLE"),
    ]
    first = found[0]
    assert first["caller"] == "dev"
    assert first["invitationId"] == invitation_id
    assert first["target"] == {
        "kind": "CLERK_ORGANIZATION",
        "id": sandbox.seed.organization_id,
        "connection": "default",
    }
    assert first["roles"] == ["org:member"]
    assert found[-2]["invitationId"] == invitation_id


async def test_the_cli_prints_the_same_records_as_json_lines(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend
) -> None:
    """`invitation-gateway audit --json` prints one object per record, equal to the store's."""
    await audited.execute(CREATE, {"input": org(sandbox, "cli@example.com")})
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "invitation_gateway",
            "audit",
            "--json",
            "--email",
            "CLI@example.com",
        ],
        env={**env, **audit_backend.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    stored = [r for r in await records(audit_backend) if r["email"] == "cli@example.com"]
    assert printed == stored
    assert len(printed) == 1


async def test_a_store_gone_while_running_stops_mutations_and_spares_reads(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend
) -> None:
    """Audit table gone: a create is UPSTREAM_UNAVAILABLE naming the store; reads still answer."""
    await drop_audit_table(audit_backend)
    before = len(sandbox.clerk.requests)
    body = await audited.execute(CREATE, {"input": org(sandbox, "unaudited@example.com")})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert error["extensions"]["provider"] in {"SQLite", "PostgreSQL"}
    assert len(sandbox.clerk.requests) == before  # nothing was sent unaudited
    seed = sandbox.seed
    ref = InvitationRef(
        InvitationTarget(TargetKind.CLERK_ORGANIZATION, seed.organization_id),
        seed.organization_invitation_id,
    )
    read = await audited.execute(
        "query($id: ID!) { invitation(id: $id) { status } }", {"id": global_id.encode(ref)}
    )
    assert read == {"data": {"invitation": {"status": "PENDING"}}}


def test_a_process_killed_mid_call_leaves_a_started_record(
    audit_backend: AuditBackend, tmp_path: Path
) -> None:
    """SIGKILL while the upstream is answering: the record stays `started`, and is reported."""
    clerk = ClerkEmulator(secret_key="sk_test_killed")
    clerk.add_organization("org_killed", "Killed Inc")
    clerk.faults.add(delay=30.0, method="POST", path_contains="/invitations")  # hangs
    port = free_port()
    with serve(clerk.app) as clerk_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        env.update(
            audit_backend.env,
            GATEWAY_CLERK__SECRET_KEY="sk_test_killed",
            GATEWAY_CLERK__API_URL=f"{clerk_url}/v1",
            GATEWAY_CLERK__READ_TIMEOUT="60",
            GATEWAY_CLERK__TOTAL_TIMEOUT="60",
            GATEWAY_IDEMPOTENCY__SQLITE_PATH=str(tmp_path / "keys.sqlite3"),
            GATEWAY_AUTH__MODE="disabled",
            GATEWAY_IDEMPOTENCY__LEASE_SECONDS="120",
        )
        gateway = subprocess.Popen(
            [sys.executable, "-m", "invitation_gateway", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_until_up(port)
            variables = {
                "input": {
                    "target": {"kind": "CLERK_ORGANIZATION", "id": "org_killed"},
                    "email": "killed@example.com",
                    "roles": ["org:member"],
                }
            }
            asyncio.run(_send_and_kill(port, variables, clerk, gateway))
        finally:
            gateway.kill()
            gateway.wait(timeout=10)
    found = asyncio.run(records(audit_backend))
    assert [(r["email"], r["outcome"]) for r in found] == [("killed@example.com", "started")]
    left = asyncio.run(_count_started(audit_backend))
    assert left == 1


async def _count_started(backend: AuditBackend) -> int:
    log = AuditLog.open(backend.url)
    try:
        return await log.count_started()
    finally:
        await log.aclose()


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the gateway did not start")


async def _send_and_kill(
    port: int, variables: dict[str, Any], clerk: ClerkEmulator, gateway: subprocess.Popen[bytes]
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        call = asyncio.create_task(
            http.post("/graphql", json={"query": CREATE, "variables": variables})
        )
        deadline = time.monotonic() + 20
        while not any(r.path.endswith("/invitations") for r in clerk.requests):
            if time.monotonic() > deadline:
                raise AssertionError("the create never reached the upstream")
            await asyncio.sleep(0.05)
        os.kill(gateway.pid, signal.SIGKILL)  # mid-call: the upstream holds the request
        gateway.wait(timeout=10)
        with pytest.raises(httpx.TransportError):
            await call


async def test_input_no_store_can_hold_is_recorded_and_refused_as_input(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend
) -> None:
    """A lone surrogate or NUL in the email is INVALID_INPUT, recorded escaped: not an outage."""
    for email in ["\ud800x@example.com", "nul\x00@example.com"]:
        response = await audited.http.post(
            "/graphql",
            content=json.dumps(
                {"query": CREATE, "variables": {"input": org(sandbox, email)}}
            ).encode(),  # ensure_ascii: the surrogate travels as \\ud800, as a browser sends it
            headers={"content-type": "application/json"},
        )
        payload = response.json()["data"]["createInvitation"]
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_INPUT"]
    outcomes = [(r["outcome"], r["email"]) for r in await records(audit_backend)]
    assert outcomes == [
        ("INVALID_INPUT", "\\ud800x@example.com"),
        ("INVALID_INPUT", "nul@example.com"),
    ]
