"""ConductorOne OAuth client credentials end to end: GraphQL in, token and API requests out.

The sandbox wires the gateway's ConductorOne connection with a client minted by the emulator, so
every test here runs the real flow: the signed assertion, the token request, caching, refresh.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import time_machine
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from invitation_gateway.app import create_app
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.sandbox import C1_URL, Sandbox
from invitation_gateway.settings import AuditSettings, AuthSettings, ConductorOneSettings, Settings
from tests.support.documents import CREATE
from tests.support.gateway import GatewayClient
from tests.support.logs import LogLines

TOKEN_PATH = "/auth/v1/token"
STOPPED_AT = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def c1_input(sandbox: Sandbox, email: str) -> dict[str, Any]:
    target = {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id}
    return {"input": {"target": target, "email": email}}


async def create_c1(gateway: GatewayClient, sandbox: Sandbox, email: str) -> dict[str, Any]:
    body = await gateway.execute(CREATE, c1_input(sandbox, email))
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createInvitation"]
    assert payload["userErrors"] == []
    return payload


@pytest.fixture
def stopped_clock() -> Iterator[time_machine.Traveller]:
    """The wall clock (the gateway's token clock and the emulator's) stopped at a fixed instant,
    never today's, and moved only by the test."""
    with time_machine.travel(STOPPED_AT, tick=False) as traveller:
        yield traveller


def calls(sandbox: Sandbox) -> list[str]:
    return ["token" if r.path == TOKEN_PATH else "api" for r in sandbox.conductorone.requests]


def bearers(sandbox: Sandbox) -> list[str]:
    return [r.headers["authorization"] for r in sandbox.conductorone.api_requests]


def claims_of(assertion: str) -> Any:
    part = assertion.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def test_a_valid_assertion_is_accepted_and_the_invitation_created(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """The gateway trades its signed assertion for a token and creates the invitation with it."""
    payload = await create_c1(gateway, sandbox, "ada@example.com")
    upstream_id = payload["invitation"]["providerInvitationId"]
    assert sandbox.conductorone.invitations[upstream_id]["email"] == "ada@example.com"
    assert calls(sandbox) == ["token", "api"]
    [authorization] = bearers(sandbox)
    assert authorization.removeprefix("Bearer ") in sandbox.conductorone.oauth.issued


async def test_the_token_request_is_shaped_exactly_as_the_notes_say(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """POST /auth/v1/token, form-encoded, the four §5.3 fields, no Authorization header."""
    await create_c1(gateway, sandbox, "ada@example.com")
    sent = sandbox.conductorone.requests[0]
    assert (sent.method, sent.path, sent.query) == ("POST", TOKEN_PATH, {})
    assert sent.headers["host"] == "conductorone.sandbox"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in sent.headers
    form = parse_qs(sent.body.decode(), keep_blank_values=True, strict_parsing=True)
    assert {name: len(values) for name, values in form.items()} == {
        "client_id": 1,
        "grant_type": 1,
        "client_assertion_type": 1,
        "client_assertion": 1,
    }
    assert form["client_id"] == [sandbox.c1_client_id]
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == [ASSERTION_TYPE]
    claims = claims_of(form["client_assertion"][0])
    assert claims["iss"] == claims["sub"] == sandbox.c1_client_id
    assert claims["aud"] == ["conductorone.sandbox"]
    assert claims["exp"] - claims["iat"] == 120


async def test_a_second_request_reuses_the_cached_token(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Two mutations, one token request: both API calls carry the same bearer token."""
    await create_c1(gateway, sandbox, "ada@example.com")
    await create_c1(gateway, sandbox, "grace@example.com")
    assert sandbox.conductorone.token_requests == 1
    first, second = bearers(sandbox)
    assert first == second


@pytest.mark.parametrize(("lifetime", "reused_for"), [(5, 4), (30, 24), (3600, 3570)])
async def test_a_token_is_reused_for_most_of_its_life_and_replaced_before_it_expires(
    stopped_clock: time_machine.Traveller,
    gateway: GatewayClient,
    sandbox: Sandbox,
    lifetime: int,
    reused_for: int,
) -> None:
    """Mutations share a token for four fifths of its life; a new one comes before it expires."""
    sandbox.conductorone.token_ttl_seconds = lifetime
    await create_c1(gateway, sandbox, "ada@example.com")
    stopped_clock.shift(reused_for - 0.5)
    await create_c1(gateway, sandbox, "grace@example.com")
    stopped_clock.shift(0.5)
    await create_c1(gateway, sandbox, "edsger@example.com")
    assert calls(sandbox) == ["token", "api", "api", "token", "api"]
    first, second, third = bearers(sandbox)
    assert first == second != third


async def test_an_api_401_refreshes_the_token_once_and_retries_the_mutation(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A token ConductorOne revoked gets a 401, one token request, one retry, and success."""
    await create_c1(gateway, sandbox, "ada@example.com")
    sandbox.conductorone.expire_tokens()
    payload = await create_c1(gateway, sandbox, "grace@example.com")
    assert payload["invitation"]["email"] == "grace@example.com"
    assert calls(sandbox) == ["token", "api", "api", "token", "api"]
    first, refused, retried = bearers(sandbox)
    assert first == refused != retried
    creates = [r for r in sandbox.conductorone.api_requests if r.json is not None]
    assert [r.json["email"] for r in creates] == ["ada@example.com", *["grace@example.com"] * 2]
    emails = [i["email"] for i in sandbox.conductorone.invitations.values()]
    assert emails.count("grace@example.com") == 1  # the 401 changed nothing upstream


@pytest.mark.parametrize("expiry", ["revoked upstream", "stale on the gateway's clock"])
async def test_fifty_concurrent_mutations_with_an_expired_token_make_one_token_request(
    stopped_clock: time_machine.Traveller, gateway: GatewayClient, sandbox: Sandbox, expiry: str
) -> None:
    """Single flight: 50 concurrent createInvitation calls with a dead token fetch one new token."""
    sandbox.conductorone.token_ttl_seconds = 30
    await create_c1(gateway, sandbox, "first@example.com")
    if expiry == "revoked upstream":
        sandbox.conductorone.expire_tokens()
    else:
        stopped_clock.shift(25)  # inside the token's last fifth, before it expires
    sandbox.conductorone.latency = 0.02  # keep all 50 in flight together
    payloads = await asyncio.gather(
        *(create_c1(gateway, sandbox, f"user{i}@example.com") for i in range(50))
    )
    assert all(p["invitation"]["status"] == "PENDING" for p in payloads)
    assert sandbox.conductorone.token_requests == 2


async def test_fifty_concurrent_first_mutations_make_one_token_request(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """On a cold start, 50 concurrent mutations share the one token request."""
    sandbox.conductorone.latency = 0.02
    await asyncio.gather(*(create_c1(gateway, sandbox, f"u{i}@example.com") for i in range(50)))
    assert sandbox.conductorone.token_requests == 1
    assert len(set(bearers(sandbox))) == 1


@asynccontextmanager
async def gateway_with_client(
    sandbox: Sandbox, client_id: str, client_secret: str
) -> AsyncIterator[GatewayClient]:
    settings = Settings(
        conductorone=ConductorOneSettings(
            base_url=C1_URL,
            client_id=client_id,
            client_secret=SecretStr(client_secret),
            default_directory=sandbox.seed.directory_id,
        ),
        auth=AuthSettings(mode="disabled"),
        audit=AuditSettings(sqlite_path=None),
    )
    app = create_app(settings, transport=sandbox.transport())
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield GatewayClient(http)


@pytest.mark.parametrize("stranger", ["unknown client id", "known id, another key"])
async def test_credentials_the_emulator_does_not_know_are_upstream_unavailable(
    sandbox: Sandbox, json_logs: LogLines, stranger: str
) -> None:
    """A refused token request is a top-level UPSTREAM_UNAVAILABLE; the secret is never shown."""
    client_id, client_secret = ConductorOneEmulator().create_client("stranger")
    if stranger == "known id, another key":
        client_id = sandbox.c1_client_id
    async with gateway_with_client(sandbox, client_id, client_secret) as gateway:
        body = await gateway.execute(CREATE, c1_input(sandbox, "ada@example.com"))
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "provider": "CONDUCTORONE"}
    assert error["message"] == "ConductorOne rejected the gateway's client credentials"
    jwk_part = client_secret.rsplit(":", 1)[1]
    assert jwk_part not in json.dumps(body)
    assert jwk_part not in json_logs.text
    [call] = json_logs.events("upstream call")
    assert call["status"] == "no_token"
    assert "token endpoint answered HTTP 401" in call["error"]
    assert sandbox.conductorone.api_requests == []
    emails = [i["email"] for i in sandbox.conductorone.invitations.values()]
    assert "ada@example.com" not in emails


async def test_a_rate_limited_token_endpoint_is_rate_limited_with_retry_after(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A token 429 asking for more than 5 s is not waited for: RATE_LIMITED with retryAfter."""
    sandbox.conductorone.faults.add(
        status=429, headers={"Retry-After": "30"}, path_contains=TOKEN_PATH
    )
    body = await gateway.execute(CREATE, c1_input(sandbox, "ada@example.com"))
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "RATE_LIMITED",
        "provider": "CONDUCTORONE",
        "retryAfter": 30,
    }
    assert sandbox.conductorone.api_requests == []


async def test_a_token_endpoint_outage_is_upstream_unavailable(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A 503 from the token endpoint is UPSTREAM_UNAVAILABLE, and its body does not leak."""
    sandbox.conductorone.faults.add(
        status=503, body="token service secret trace", path_contains=TOKEN_PATH
    )
    body = await gateway.execute(CREATE, c1_input(sandbox, "ada@example.com"))
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "provider": "CONDUCTORONE"}
    assert "secret trace" not in json.dumps(body)


def _serve(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return subprocess.run(
        [sys.executable, "-m", "invitation_gateway", "serve"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_with_a_malformed_secret_exits_2_naming_it_without_echoing_it() -> None:
    """`serve` refuses a malformed client secret at startup by variable name, never by value."""
    _, secret = ConductorOneEmulator().create_client("cli")
    malformed = secret.replace(":v1:", ":v2:")  # real key material, wrong version
    result = _serve(
        GATEWAY_CONDUCTORONE__CLIENT_ID="cli@acme.conductor.one/pcc",
        GATEWAY_CONDUCTORONE__CLIENT_SECRET=malformed,
    )
    assert result.returncode == 2
    assert "GATEWAY_CONDUCTORONE__CLIENT_SECRET" in result.stderr
    assert "secret-token:conductorone.com:v1:<base64url" in result.stderr
    jwk_part = malformed.rsplit(":", 1)[1]
    assert jwk_part not in result.stderr + result.stdout
    assert jwk_part[:16] not in result.stderr + result.stdout


def test_serve_with_a_client_id_alone_names_the_missing_secret() -> None:
    """`serve` with only GATEWAY_CONDUCTORONE__CLIENT_ID exits 2 saying the secret is missing."""
    result = _serve(GATEWAY_CONDUCTORONE__CLIENT_ID="cli@acme.conductor.one/pcc")
    assert result.returncode == 2
    assert "GATEWAY_CONDUCTORONE__CLIENT_SECRET is not" in result.stderr
