"""The fault-injection matrix: every way an upstream misbehaves, for create and for revoke.

One table drives it, for both vendors (the Clerk organization and the ConductorOne directory
adapters). Each row injects one fault at a real upstream (an emulator behind uvicorn on a
loopback port, or a refusing / black-holed port) and states, for createInvitation and
revokeInvitation: the answer (OK or the top-level error code), how many requests the upstream
received, and the most time the call may take. Every case also checks that no invitation was
created twice. The README's "Reliability" section summarises this table.

Budgets here are the production mechanisms with small numbers: connect 0.2 s, read 0.4 s, total
3 s, 3 attempts, Retry-After honoured up to 2 s.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from invitation_gateway.app import create_app
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.schema import global_id
from invitation_gateway.settings import (
    AuditSettings,
    AuthSettings,
    ClerkSettings,
    ConductorOneSettings,
    IdempotencySettings,
    Settings,
)
from tests.support.gateway import app_client
from tests.support.servers import blackhole, refusing, serve

ORG = "org_matrix"
DIRECTORY = "2matrixDirectory00000000000"
SECRET = "sk_test_matrix"
C1_TOKEN = "c1-matrix-token"
FRESH = "fresh@example.com"
POLICY = {
    "connect_timeout": 0.2,
    "read_timeout": 0.4,
    "total_timeout": 3.0,
    "retry_attempts": 3,
    "retry_max_wait": 0.05,
    "max_retry_after": 2.0,
    "breaker_threshold": 1000,  # the breaker has its own test; here it must not interfere
}

CREATE = """mutation($input: CreateInvitationInput!) {
  createInvitation(input: $input) { invitation { id status } userErrors { code } } }"""
REVOKE = """mutation($input: RevokeInvitationInput!) {
  revokeInvitation(input: $input) { invitation { id status } userErrors { code } } }"""


FAIL_FAST = 2.0  # seconds: well below the 3 s budget a wait would run into


@dataclass(frozen=True)
class Outcome:
    answer: str  # "OK" or the top-level error code
    calls: int  # requests the upstream received for the operation
    within: float  # seconds the whole GraphQL call may take
    at_least: float = 0.0  # seconds it must take (a Retry-After waited out)
    attempts: int | None = None  # requests the gateway sent, where the upstream cannot count


@dataclass(frozen=True)
class Row:
    name: str
    create: Outcome
    revoke: Outcome
    fault: dict[str, Any] = field(default_factory=dict)  # emulator fault, minus status/path
    status: int | None = None
    endpoint: Callable[[], AbstractContextManager[str]] | None = None  # a broken address instead


def http_date(seconds_ahead: int) -> str:
    return formatdate(time.time() + seconds_ahead, usegmt=True)


HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"

MATRIX = [
    Row("500 once", Outcome("UPSTREAM_UNAVAILABLE", 1, 1), Outcome("OK", 2, 1), status=500),
    Row("502 once", Outcome("UPSTREAM_UNAVAILABLE", 1, 1), Outcome("OK", 2, 1), status=502),
    Row("503 once", Outcome("UPSTREAM_UNAVAILABLE", 1, 1), Outcome("OK", 2, 1), status=503),
    Row("504 once", Outcome("UPSTREAM_UNAVAILABLE", 1, 1), Outcome("OK", 2, 1), status=504),
    Row(
        "503 always",
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1),
        Outcome("UPSTREAM_UNAVAILABLE", 3, 1.5),
        status=503,
        fault={"times": 10},
    ),
    Row(
        "429 Retry-After 1 s",
        Outcome("OK", 2, 2.5),
        Outcome("OK", 2, 2.5),
        status=429,
        fault={"headers": {"Retry-After": "1"}},
    ),
    # Answered at once (0.01 s measured) instead of waiting out the Retry-After, which would
    # run into the 3 s budget; 2 s leaves a fresh clone on a loaded CI machine room to stall
    # (0.74 s seen once).
    Row(
        "429 Retry-After 120 s",
        Outcome("RATE_LIMITED", 1, FAIL_FAST),
        Outcome("RATE_LIMITED", 1, FAIL_FAST),
        status=429,
        fault={"headers": {"Retry-After": "120"}},
    ),
    Row(
        "429 Retry-After date +100 s",
        Outcome("RATE_LIMITED", 1, FAIL_FAST),
        Outcome("RATE_LIMITED", 1, FAIL_FAST),
        status=429,
        fault={"headers": {"Retry-After": "@date+100"}},
    ),
    Row("429 without Retry-After", Outcome("OK", 2, 1), Outcome("OK", 2, 1), status=429),
    Row(
        "connection refused",
        Outcome("UPSTREAM_UNAVAILABLE", 0, 1.5),
        Outcome("UPSTREAM_UNAVAILABLE", 0, 1.5),
        endpoint=refusing,
    ),
    Row(
        "connect timeout",
        Outcome("UPSTREAM_TIMEOUT", 0, 1.5),
        Outcome("UPSTREAM_TIMEOUT", 0, 1.5),
        endpoint=blackhole,
    ),
    Row(
        "read timeout once",
        Outcome("UPSTREAM_TIMEOUT", 1, 1),
        Outcome("OK", 2, 1.5),
        fault={"delay": 1.0},
    ),
    # Cut at the 3 s budget (3.01 s measured) where the trickle alone would take 205 s; the
    # bound leaves a loaded 2-core CI machine a second (3.62 s seen once under the full suite).
    Row(
        "body trickles",
        Outcome("UPSTREAM_TIMEOUT", 1, 4.0),
        Outcome("UPSTREAM_TIMEOUT", 1, 4.0),
        status=200,
        fault={"body": b"{" + b" " * 4096 + b"}", "trickle": 0.05},
    ),
    Row(
        "malformed JSON",
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1),
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1),
        status=200,
        fault={"body": b'{"id": "inv_1", '},
    ),
    Row(
        "HTML error page",
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1),
        Outcome("OK", 2, 1),
        status=502,
        fault={"body": HTML, "headers": {"content-type": "text/html"}},
    ),
    Row(
        "JSON of the wrong schema",
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1),
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1),
        status=200,
        fault={"body": b'{"unexpected": [1, 2, 3]}'},
    ),
    Row(
        "dropped after acting",  # the upstream did it; the connection broke before the answer
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1),
        Outcome("OK", 2, 1.5),  # the retry hears "not pending", reads REVOKED: our success
        fault={"drop": True},
    ),
    Row(
        "503 after acting",
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1),
        Outcome("OK", 2, 1.5),
        status=503,
        fault={"after": True},
    ),
    Row(
        "oversized body",
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1.5),
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1.5),
        status=200,
        fault={"body": b'{"pad": "' + b"x" * (2 << 20) + b'"}'},
    ),
]


class Counting(httpx.AsyncBaseTransport):
    """The real network transport, counting the requests the gateway sends."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Upstream:
    """One vendor in the matrix: its emulator, how to configure it, what to send, what to count."""

    emulator: ClerkEmulator | ConductorOneEmulator
    settings: Callable[[str], Settings]
    create_input: dict[str, Any]
    revoke_ref: InvitationRef
    paths: dict[str, str]  # operation -> path suffix of its upstream request
    created: Callable[[], int]  # invitations upstream for the fresh email


def clerk_upstream() -> Upstream:
    emulator = ClerkEmulator(secret_key=SECRET)
    emulator.add_organization(ORG, "Matrix Inc")
    existing = emulator.add_organization_invitation(ORG, "existing@example.com")
    return Upstream(
        emulator,
        lambda url: Settings(
            clerk=ClerkSettings(api_url=url + "/v1", secret_key=SecretStr(SECRET), **POLICY),
            idempotency=IdempotencySettings(sqlite_path=None),
            auth=AuthSettings(mode="disabled"),
            audit=AuditSettings(sqlite_path=None),
        ),
        {
            "target": {"kind": "CLERK_ORGANIZATION", "id": ORG},
            "email": FRESH,
            "roles": ["org:member"],
        },
        InvitationRef(InvitationTarget(TargetKind.CLERK_ORGANIZATION, ORG), existing["id"]),
        {"create": f"/organizations/{ORG}/invitations", "revoke": "/revoke"},
        lambda: sum(
            1 for i in emulator.organization_invitations.values() if i["email_address"] == FRESH
        ),
    )


def conductorone_upstream() -> Upstream:
    emulator = ConductorOneEmulator(token=C1_TOKEN)
    emulator.add_directory(DIRECTORY, "Matrix Directory")
    existing = emulator.add_invitation(DIRECTORY, "existing@example.com", "Existing")
    return Upstream(
        emulator,
        lambda url: Settings(
            conductorone=ConductorOneSettings(base_url=url, token=SecretStr(C1_TOKEN), **POLICY),
            idempotency=IdempotencySettings(sqlite_path=None),
            auth=AuthSettings(mode="disabled"),
            audit=AuditSettings(sqlite_path=None),
        ),
        {"target": {"kind": "CONDUCTORONE_DIRECTORY", "id": DIRECTORY}, "email": FRESH},
        InvitationRef(
            InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, DIRECTORY), existing["id"]
        ),
        {"create": f"/local-directory-configs/{DIRECTORY}/invitations", "revoke": "/revoke"},
        lambda: sum(1 for i in emulator.invitations.values() if i["email"] == FRESH),
    )


@contextmanager
def address(upstream: Upstream, row: Row) -> Iterator[str]:
    if row.endpoint is not None:
        with row.endpoint() as url:
            yield url
    else:
        with serve(upstream.emulator.app) as url:
            yield url


@asynccontextmanager
async def gateway(settings: Settings, transport: Counting) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, transport=transport)  # the real network, counted
    async with app_client(app) as http:
        yield http


def inject(upstream: Upstream, row: Row, operation: str) -> None:
    if row.endpoint is not None:
        return
    spec = dict(row.fault)
    headers = {
        name: http_date(int(value.removeprefix("@date+"))) if value.startswith("@date+") else value
        for name, value in spec.pop("headers", {}).items()
    }
    upstream.emulator.faults.add(
        status=row.status,
        method="POST",
        path_contains=upstream.paths[operation],
        headers=headers,
        **spec,
    )


def calls(upstream: Upstream, operation: str) -> int:
    suffix = upstream.paths[operation]
    return sum(
        1 for r in upstream.emulator.requests if r.method == "POST" and r.path.endswith(suffix)
    )


@pytest.mark.parametrize("vendor", ["clerk", "conductorone"])
@pytest.mark.parametrize("operation", ["create", "revoke"])
@pytest.mark.parametrize("row", MATRIX, ids=[row.name for row in MATRIX])
async def test_fault_matrix(row: Row, operation: str, vendor: str) -> None:
    """Each upstream fault gives the stated answer, call count and time bound, never a duplicate."""
    expected: Outcome = getattr(row, operation)
    upstream = clerk_upstream() if vendor == "clerk" else conductorone_upstream()
    transport = Counting()
    with address(upstream, row) as url:
        async with gateway(upstream.settings(url), transport) as http:
            inject(upstream, row, operation)
            if operation == "create":
                document, variables = CREATE, {"input": upstream.create_input}
            else:
                document, variables = (
                    REVOKE,
                    {"input": {"id": global_id.encode(upstream.revoke_ref)}},
                )
            started = time.monotonic()
            response = await http.post("/graphql", json={"query": document, "variables": variables})
            elapsed = time.monotonic() - started

    body = response.json()
    assert response.status_code == 200
    if expected.answer == "OK":
        assert "errors" not in body, body
        payload = body["data"][f"{operation}Invitation"]
        assert payload["userErrors"] == []
        assert payload["invitation"]["status"] == (
            "PENDING" if operation == "create" else "REVOKED"
        )
    else:
        [error] = body["errors"]
        assert error["extensions"]["code"] == expected.answer, error
        assert error["extensions"]["provider"] == vendor.upper()
        if expected.answer == "RATE_LIMITED":
            assert error["extensions"]["retryAfter"] > 90
        leaked = response.text
        assert "<html" not in leaked  # no upstream body reaches the caller
        assert "[1, 2, 3]" not in leaked
    assert calls(upstream, operation) == expected.calls
    if expected.attempts is not None:
        assert transport.sent == expected.attempts
    assert expected.at_least <= elapsed < expected.within, f"{elapsed:.2f}s"
    assert upstream.created() <= 1
    if operation == "create" and (row.fault.get("drop") or row.fault.get("after")):
        assert upstream.created() == 1  # the fault came after the upstream acted
