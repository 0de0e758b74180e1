"""The fault-injection matrix: every way an upstream misbehaves, for create and for revoke.

One table drives it. Each row injects one fault at a real upstream (an emulator behind uvicorn
on a loopback port, or a refusing / black-holed port) and states, for createInvitation and
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
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from servers import blackhole, refusing, serve

from invitation_gateway.app import create_app
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.settings import ClerkSettings, IdempotencySettings, Settings

ORG = "org_matrix"
SECRET = "sk_test_matrix"
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


@dataclass(frozen=True)
class Outcome:
    answer: str  # "OK" or the top-level error code
    calls: int  # requests the upstream received for the operation
    within: float  # seconds the whole GraphQL call may take


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
    Row(
        "429 Retry-After 120 s",
        Outcome("RATE_LIMITED", 1, 0.5),
        Outcome("RATE_LIMITED", 1, 0.5),
        status=429,
        fault={"headers": {"Retry-After": "120"}},
    ),
    Row(
        "429 Retry-After date +100 s",
        Outcome("RATE_LIMITED", 1, 0.5),
        Outcome("RATE_LIMITED", 1, 0.5),
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
    Row(
        "body trickles",
        Outcome("UPSTREAM_TIMEOUT", 1, 3.6),
        Outcome("UPSTREAM_TIMEOUT", 1, 3.6),
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
        "oversized body",
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1.5),
        Outcome("UPSTREAM_UNAVAILABLE", 1, 1.5),
        status=200,
        fault={"body": b'{"pad": "' + b"x" * (2 << 20) + b'"}'},
    ),
]


@contextmanager
def upstream(emulator: ClerkEmulator, row: Row) -> Iterator[str]:
    if row.endpoint is not None:
        with row.endpoint() as url:
            yield url + "/v1"
    else:
        with serve(emulator.app) as url:
            yield url + "/v1"


@asynccontextmanager
async def gateway(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        clerk=ClerkSettings(api_url=api_url, secret_key=SecretStr(SECRET), **POLICY),
        idempotency=IdempotencySettings(sqlite_path=None),
    )
    app = create_app(settings)  # no transport: real sockets all the way
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://gateway.test"
        ) as http,
    ):
        yield http


def inject(emulator: ClerkEmulator, row: Row, operation: str) -> None:
    if row.endpoint is not None:
        return
    spec = dict(row.fault)
    headers = {
        name: http_date(int(value.removeprefix("@date+"))) if value.startswith("@date+") else value
        for name, value in spec.pop("headers", {}).items()
    }
    path = "/revoke" if operation == "revoke" else f"/organizations/{ORG}/invitations"
    emulator.faults.add(
        status=row.status, method="POST", path_contains=path, headers=headers, **spec
    )


def calls(emulator: ClerkEmulator, operation: str) -> int:
    suffix = "/revoke" if operation == "revoke" else f"/organizations/{ORG}/invitations"
    return sum(1 for r in emulator.requests if r.method == "POST" and r.path.endswith(suffix))


@pytest.mark.parametrize("operation", ["create", "revoke"])
@pytest.mark.parametrize("row", MATRIX, ids=[row.name for row in MATRIX])
async def test_fault_matrix(row: Row, operation: str) -> None:
    """Each upstream fault gives the stated answer, call count and time bound, never a duplicate."""
    expected = getattr(row, operation)
    emulator = ClerkEmulator(secret_key=SECRET)
    emulator.add_organization(ORG, "Matrix Inc")
    existing = emulator.add_organization_invitation(ORG, "existing@example.com")
    email = "fresh@example.com"
    with upstream(emulator, row) as api_url:
        async with gateway(api_url) as http:
            inject(emulator, row, operation)
            if operation == "create":
                document = CREATE
                variables = {
                    "input": {
                        "target": {"kind": "CLERK_ORGANIZATION", "id": ORG},
                        "email": email,
                        "roles": ["org:member"],
                    }
                }
            else:
                from invitation_gateway.domain.invitations import (
                    InvitationRef,
                    InvitationTarget,
                    TargetKind,
                )
                from invitation_gateway.schema import global_id

                ref = InvitationRef(
                    InvitationTarget(TargetKind.CLERK_ORGANIZATION, ORG), existing["id"]
                )
                document, variables = REVOKE, {"input": {"id": global_id.encode(ref)}}
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
        assert error["extensions"]["provider"] == "CLERK"
        if expected.answer == "RATE_LIMITED":
            assert error["extensions"]["retryAfter"] > 90
        leaked = response.text
        assert "<html" not in leaked  # no upstream body reaches the caller
        assert "[1, 2, 3]" not in leaked
    assert calls(emulator, operation) == expected.calls
    assert elapsed < expected.within, f"{elapsed:.2f}s"
    created = [i for i in emulator.organization_invitations.values() if i["email_address"] == email]
    assert len(created) <= 1
