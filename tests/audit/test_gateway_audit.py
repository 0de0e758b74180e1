"""The audit log through the gateway: one record per attempt, `started` left by a killed process.

Each test runs on SQLite and on the real PostgreSQL (`audit_backend`), with the sandbox's
emulators as upstreams (`audited`, under `DEV_POLICY`); the records are read back with the
store and with the CLI.
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
from pathlib import Path
from typing import Any

import httpx
import pytest

from invitation_gateway.audit import AuditLog
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from tests.support.audit import AuditBackend, stored_records
from tests.support.databases import execute
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import GatewayClient
from tests.support.servers import free_port, serve

BULK = """mutation($input: CreateInvitationsInput!) { createInvitations(input: $input) {
  results { index invitation { id } userErrors { code } } } }"""
MALFORMED_ID = "not-an-invitation-id"


async def drop_audit_table(backend: AuditBackend) -> None:
    """The store loses its table behind the gateway's back (a restore gone wrong, say)."""
    if "GATEWAY_DATABASE_URL" in backend.env:
        await execute(backend.env["GATEWAY_DATABASE_URL"], "DROP TABLE audit_records")
    else:
        with sqlite3.connect(backend.env["GATEWAY_AUDIT__SQLITE_PATH"]) as connection:
            connection.execute("DROP TABLE audit_records")


def org(sandbox: Sandbox, email: str, role: str = "org:member") -> dict[str, Any]:
    target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
    return {"target": target, "email": email, "roles": [role]}


def seeded_id(kind: TargetKind, target_id: str | None, invitation_id: str) -> str:
    return global_id.encode(InvitationRef(InvitationTarget(kind, target_id), invitation_id))


async def every_mutation_path(
    audited: GatewayClient, sandbox: Sandbox
) -> list[tuple[str, str | None, str | None, str, str | None]]:
    """Send every kind of create, bulk and revoke attempt; what each record must then say:
    (action, target kind, email, outcome, invitationId)."""
    seed = sandbox.seed
    org_kind, c1_kind = "CLERK_ORGANIZATION", "CONDUCTORONE_DIRECTORY"
    created = await audited.execute(CREATE, {"input": org(sandbox, "one@example.com")})
    one = created["data"]["createInvitation"]["invitation"]["id"]
    await audited.execute(CREATE, {"input": org(sandbox, "one@example.com")})  # ALREADY_EXISTS
    await audited.execute(CREATE, {"input": org(sandbox, "bad")})  # INVALID_INPUT
    admin = org(sandbox, "boss@example.com", "org:admin")  # the policy grants members only
    await audited.execute(CREATE, {"input": admin})
    items = [org(sandbox, "b1@example.com"), org(sandbox, "b2@example.com", "org:nope")]
    await audited.execute(BULK, {"input": {"invitations": items}})
    await audited.execute(REVOKE, {"input": {"id": one}})
    await audited.execute(REVOKE, {"input": {"id": one}})  # NOT_REVOCABLE
    await audited.execute(REVOKE, {"input": {"id": MALFORMED_ID}})
    c1 = seeded_id(
        TargetKind.CONDUCTORONE_DIRECTORY, seed.directory_id, seed.directory_invitation_id
    )
    await audited.execute(REVOKE, {"input": {"id": c1}})  # the policy allows no C1 revoke
    # Upstream failures last: they count towards the connection's circuit breaker.
    sandbox.clerk.faults.add(status=503, method="POST", path_contains="/invitations")
    await audited.execute(CREATE, {"input": org(sandbox, "down@example.com")})
    sandbox.clerk.faults.add(status=503, method="POST", path_contains="/invitations/bulk")
    items = [org(sandbox, "d1@example.com"), org(sandbox, "d2@example.com")]
    await audited.execute(BULK, {"input": {"invitations": items}})
    # A revoke is retried (it is safe to repeat): the outage outlasts every attempt.
    sandbox.clerk.faults.add(status=503, method="POST", path_contains="/revoke", times=3)
    pending = seeded_id(
        TargetKind.CLERK_ORGANIZATION, seed.organization_id, seed.organization_invitation_id
    )
    await audited.execute(REVOKE, {"input": {"id": pending}})
    return [
        ("create", org_kind, "one@example.com", "ok", one),
        ("create", org_kind, "one@example.com", "ALREADY_EXISTS", None),
        ("create", org_kind, "bad", "INVALID_INPUT", None),
        ("create", org_kind, "boss@example.com", "FORBIDDEN", None),
        # Refused before anything is sent, b2's record is written before b1's starts.
        ("create", org_kind, "b2@example.com", "FORBIDDEN", None),
        ("create", org_kind, "b1@example.com", "ok", "*"),
        ("revoke", org_kind, "one@example.com", "ok", one),
        ("revoke", org_kind, "one@example.com", "NOT_REVOCABLE", one),
        ("revoke", None, None, "INVALID_INPUT", MALFORMED_ID),
        ("revoke", c1_kind, None, "FORBIDDEN", c1),
        ("create", org_kind, "down@example.com", "UPSTREAM_UNAVAILABLE", None),
        ("create", org_kind, "d1@example.com", "UPSTREAM_UNAVAILABLE", None),
        ("create", org_kind, "d2@example.com", "UPSTREAM_UNAVAILABLE", None),
        ("revoke", org_kind, None, "UPSTREAM_UNAVAILABLE", pending),
    ]


async def test_every_mutation_path_leaves_exactly_one_completed_record(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend
) -> None:
    """Create, bulk and revoke; ok, user error, policy denial, malformed id, upstream failure:
    one record each, completed, saying what the gateway knew (a revoke: its id and email)."""
    expected = await every_mutation_path(audited, sandbox)

    found = await stored_records(audit_backend)
    assert [
        (
            r["action"],
            r["target"]["kind"],
            r["email"],
            r["outcome"],
            "*" if r["invitationId"] and e[4] == "*" else r["invitationId"],
        )
        for r, e in zip(found, expected, strict=False)
    ] == expected
    assert len(found) == len(expected)
    assert {r["caller"] for r in found} == {"dev"}
    first = found[0]
    assert first["target"] == {
        "kind": "CLERK_ORGANIZATION",
        "id": sandbox.seed.organization_id,
        "connection": "default",
    }
    assert first["roles"] == ["org:member"]
    malformed = found[8]
    assert malformed["target"] == {"kind": None, "id": None, "connection": None}
    assert (malformed["roles"], malformed["upstreamRequestId"]) == ([], None)
    assert found[9]["target"] == {
        "kind": "CONDUCTORONE_DIRECTORY",
        "id": sandbox.seed.directory_id,
        "connection": "default",
    }


async def test_the_cli_prints_every_record_as_json_lines(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend
) -> None:
    """`invitation-gateway audit --json` prints one object per record of every mutation path,
    equal to the store's; `--email` (any case) finds a revoke's records by their email too."""
    expected = await every_mutation_path(audited, sandbox)
    stored = await stored_records(audit_backend)
    assert len(stored) == len(expected)

    printed = await _cli_json(audit_backend)
    assert printed == stored
    by_email = await _cli_json(audit_backend, "--email", "ONE@example.com")
    assert by_email == [r for r in stored if r["email"] == "one@example.com"]
    assert [(r["action"], r["outcome"]) for r in by_email] == [
        ("create", "ok"),
        ("create", "ALREADY_EXISTS"),
        ("revoke", "ok"),
        ("revoke", "NOT_REVOCABLE"),
    ]


async def _cli_json(backend: AuditBackend, *filters: str) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "invitation_gateway", "audit", "--json", *filters],
        env={**env, **backend.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


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


def test_a_process_killed_mid_call_leaves_started_records_reported_at_the_next_start(
    audit_backend: AuditBackend, tmp_path: Path
) -> None:
    """SIGKILL while the upstream holds a create and a revoke: both records stay `started` (the
    revoke's naming its invitation), and the next gateway started on the log reports two."""
    clerk = ClerkEmulator(secret_key="sk_test_killed")
    clerk.add_organization("org_killed", "Killed Inc")
    victim = clerk.add_organization_invitation("org_killed", "victim@example.com")
    revoked = seeded_id(TargetKind.CLERK_ORGANIZATION, "org_killed", victim["id"])
    # The create and the revoke (its path holds "/invitations" too) both hang.
    clerk.faults.add(delay=30.0, method="POST", path_contains="/invitations", times=2)
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
        port = free_port()
        gateway = _start_gateway(env, port, subprocess.DEVNULL)
        try:
            _wait_until_up(port)
            create: dict[str, Any] = {
                "input": {
                    "target": {"kind": "CLERK_ORGANIZATION", "id": "org_killed"},
                    "email": "killed@example.com",
                    "roles": ["org:member"],
                }
            }
            calls: list[tuple[str, dict[str, Any]]] = [
                (CREATE, create),
                (REVOKE, {"input": {"id": revoked}}),
            ]
            asyncio.run(_send_and_kill(port, calls, clerk, gateway))
        finally:
            gateway.kill()
            gateway.wait(timeout=10)
        found = asyncio.run(stored_records(audit_backend))
        assert sorted(
            (r["action"], r["email"], r["outcome"], r["invitationId"]) for r in found
        ) == [
            ("create", "killed@example.com", "started", None),
            ("revoke", None, "started", revoked),
        ]
        assert asyncio.run(_count_started(audit_backend)) == 2

        port = free_port()
        restarted = _start_gateway(env, port, subprocess.PIPE)
        try:
            _wait_until_up(port)
        finally:
            restarted.send_signal(signal.SIGTERM)
            _, stderr = restarted.communicate(timeout=30)
    reports = [line for line in _json_lines(stderr) if "left `started`" in line["event"]]
    assert [(line["level"], line["left_started"]) for line in reports] == [("warning", 2)]


def _start_gateway(env: dict[str, str], port: int, stderr: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "invitation_gateway", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def _json_lines(output: bytes) -> list[dict[str, Any]]:
    """The JSON log lines `serve` wrote (its default format), skipping anything else."""
    lines = []
    for text in output.decode(errors="replace").splitlines():
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if isinstance(line, dict) and isinstance(line.get("event"), str):
            lines.append(line)
    return lines


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
    port: int,
    calls: list[tuple[str, dict[str, Any]]],
    clerk: ClerkEmulator,
    gateway: subprocess.Popen[bytes],
) -> None:
    """Send each mutation, wait until the upstream holds every one, then SIGKILL the gateway."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        sent = [
            asyncio.create_task(http.post("/graphql", json={"query": q, "variables": v}))
            for q, v in calls
        ]
        deadline = time.monotonic() + 20
        while len([r for r in clerk.requests if r.method == "POST"]) < len(calls):
            if time.monotonic() > deadline:
                raise AssertionError("the mutations never all reached the upstream")
            await asyncio.sleep(0.05)
        os.kill(gateway.pid, signal.SIGKILL)  # mid-call: the upstream holds the requests
        gateway.wait(timeout=10)
        for call in sent:
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
    outcomes = [(r["outcome"], r["email"]) for r in await stored_records(audit_backend)]
    assert outcomes == [
        ("INVALID_INPUT", "\\ud800x@example.com"),
        ("INVALID_INPUT", "nul@example.com"),
    ]
