"""Idempotent createInvitation end to end: replays, duplicates, restarts, replicas, a store down."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis.asyncio
from pydantic import SecretStr

from invitation_gateway.app import create_app
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from invitation_gateway.settings import IdempotencySettings, Settings
from tests.support.documents import CREATE
from tests.support.gateway import GatewayClient, app_client
from tests.support.tcp_proxy import TcpProxy

BULK = """mutation($input: CreateInvitationsInput!) { createInvitations(input: $input) {
  results { index invitation { id } userErrors { code } } } }"""
READ = "query($id: ID!) { invitation(id: $id) { id status } }"
IDEMPOTENCY_KEYS = b"invitation-gateway:idempotency:"  # in every command of the Redis key store
DEV_BUCKETS = "invitation-gateway:ratelimit:dev:*"  # the development caller's rate-limit buckets


def org_input(sandbox: Sandbox, email: str, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "target": {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id},
            "email": email,
            "roles": ["org:member"],
            "idempotencyKey": key,
            **extra,
        }
    }


def creates(sandbox: Sandbox) -> int:
    return sum(
        1 for r in sandbox.clerk.requests if r.method == "POST" and r.path.endswith("/invitations")
    )


@asynccontextmanager
async def gateway_on(sandbox: Sandbox, settings: Settings) -> AsyncIterator[GatewayClient]:
    """Another gateway process (replica) in front of the same upstreams."""
    app = create_app(settings, transport=sandbox.transport())
    async with app_client(app) as http:
        yield GatewayClient(http)


async def test_a_replay_returns_the_first_result_without_a_second_create(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """The same key and input twice: one upstream create, the same invitation both times."""
    variables = org_input(sandbox, "once@example.com", "key-1")
    first = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
    second = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
    assert first["userErrors"] == []
    assert second == first
    assert creates(sandbox) == 1


async def test_a_replayed_user_error_is_the_same_error(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A key whose first answer was ALREADY_EXISTS answers it again, without asking Clerk again."""
    an_hour_ago = sandbox.clerk.now() - timedelta(hours=1)  # invited before, elsewhere
    sandbox.clerk.add_organization_invitation(
        sandbox.seed.organization_id, "taken@example.com", created_at=an_hour_ago
    )
    variables = org_input(sandbox, "taken@example.com", "key-dup")
    first = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
    calls = creates(sandbox)
    second = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
    assert [e["code"] for e in first["userErrors"]] == ["ALREADY_EXISTS"]
    assert second == first
    assert creates(sandbox) == calls


async def test_an_upstream_outage_is_not_replayed(gateway: GatewayClient, sandbox: Sandbox) -> None:
    """After an UPSTREAM_UNAVAILABLE the same key may try again, and then succeeds."""
    sandbox.clerk.faults.add(status=503, path_contains="/invitations", method="POST", times=1)
    variables = org_input(sandbox, "retry@example.com", "key-outage")
    failed = await gateway.execute(CREATE, variables)
    assert failed["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    retried = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
    assert retried["invitation"]["status"] == "PENDING"


async def test_fifty_concurrent_duplicates_make_one_upstream_create(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """50 identical requests at once with one key: exactly one create upstream, one answer for all."""
    sandbox.clerk.latency = 0.05  # keep the first request in flight while the others arrive
    variables = org_input(sandbox, "rush@example.com", "key-rush")
    answers = await asyncio.gather(*(gateway.execute(CREATE, variables) for _ in range(50)))
    ids = {a["data"]["createInvitation"]["invitation"]["id"] for a in answers}
    assert len(ids) == 1
    assert creates(sandbox) == 1


async def test_the_same_key_with_other_input_is_invalid_input(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Reusing a key for a different invitation is INVALID_INPUT on idempotencyKey, no create."""
    await gateway.execute(CREATE, org_input(sandbox, "first@example.com", "key-reuse"))
    payload = (
        await gateway.execute(CREATE, org_input(sandbox, "second@example.com", "key-reuse"))
    )["data"]["createInvitation"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["input", "idempotencyKey"])
    ]
    assert creates(sandbox) == 1


async def test_keys_are_scoped_per_connection_target_kind(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """The same key on a ConductorOne create is another scope: it creates, and is not a mismatch."""
    await gateway.execute(CREATE, org_input(sandbox, "a@example.com", "key-scope"))
    c1 = {
        "input": {
            "target": {"kind": "CONDUCTORONE_DIRECTORY"},
            "email": "a@example.com",
            "idempotencyKey": "key-scope",
        }
    }
    payload = (await gateway.execute(CREATE, c1))["data"]["createInvitation"]
    assert payload["userErrors"] == []
    assert payload["invitation"]["provider"] == "CONDUCTORONE"


async def test_keys_survive_a_restart_with_sqlite(sandbox: Sandbox, tmp_path: Path) -> None:
    """With the embedded SQLite store a replay after a gateway restart creates nothing new."""
    settings = sandbox.settings(
        idempotency=IdempotencySettings(sqlite_path=tmp_path / "keys.sqlite3")
    )
    variables = org_input(sandbox, "durable@example.com", "key-restart")
    async with gateway_on(sandbox, settings) as before:
        first = (await before.execute(CREATE, variables))["data"]["createInvitation"]
    async with gateway_on(sandbox, settings) as after:
        replay = (await after.execute(CREATE, variables))["data"]["createInvitation"]
    assert replay == first
    assert creates(sandbox) == 1


async def test_two_replicas_share_keys_through_redis(sandbox: Sandbox, redis_url: str) -> None:
    """Two gateway instances on one Redis: concurrent duplicates across them create once."""
    settings = sandbox.settings(redis_url=SecretStr(redis_url))
    key = f"key-replicas-{uuid.uuid4()}"
    variables = org_input(sandbox, "replicas@example.com", key)
    sandbox.clerk.latency = 0.05
    try:
        async with gateway_on(sandbox, settings) as one, gateway_on(sandbox, settings) as two:
            answers = await asyncio.gather(*(g.execute(CREATE, variables) for g in [one, two] * 10))
        assert len({a["data"]["createInvitation"]["invitation"]["id"] for a in answers}) == 1
        assert creates(sandbox) == 1
    finally:
        client = redis.asyncio.Redis.from_url(redis_url)
        async for name in client.scan_iter(match=f"*{key}*"):
            await client.delete(name)
        await client.aclose()


async def test_duplicates_waiting_on_a_failing_create_do_not_resend_it(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """10 duplicates while the upstream fails: one upstream create, and all ten see the failure."""
    sandbox.clerk.latency = 0.05
    sandbox.clerk.faults.add(status=503, method="POST", path_contains="/invitations", times=1)
    variables = org_input(sandbox, "storm@example.com", "key-storm")
    answers = await asyncio.gather(*(gateway.execute(CREATE, variables) for _ in range(10)))
    assert {a["errors"][0]["extensions"]["code"] for a in answers} == {"UPSTREAM_UNAVAILABLE"}
    assert creates(sandbox) == 1


def seeded_invitation_id(sandbox: Sandbox) -> str:
    target = InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id)
    return global_id.encode(InvitationRef(target, sandbox.seed.organization_invitation_id))


@asynccontextmanager
async def redis_dying_at_the_claim(redis_url: str) -> AsyncIterator[TcpProxy]:
    """The real Redis behind a proxy that dies as the first idempotency command reaches it.

    The rate limiter's commands pass until then, so the request gets as far as the claim: the
    one place a keyed create needs the key store, and the moment a Redis outage would catch it.
    """
    try:
        async with TcpProxy.to_url(redis_url, cut_on=IDEMPOTENCY_KEYS) as proxy:
            yield proxy
    finally:
        client = redis.asyncio.Redis.from_url(redis_url)
        async for name in client.scan_iter(match=DEV_BUCKETS):
            await client.delete(name)
        await client.aclose()


async def test_redis_gone_at_the_claim_refuses_the_keyed_create_and_reads_still_answer(
    sandbox: Sandbox, redis_url: str
) -> None:
    """Redis dies as the key is claimed: UPSTREAM_UNAVAILABLE naming Redis, nothing sent upstream."""
    async with redis_dying_at_the_claim(redis_url) as proxy:
        settings = sandbox.settings(redis_url=SecretStr(proxy.url_for(redis_url)))
        async with gateway_on(sandbox, settings) as gateway:
            variables = org_input(sandbox, "gone@example.com", f"key-gone-{uuid.uuid4()}")
            body = await gateway.execute(CREATE, variables)
            read = await gateway.execute(READ, {"id": seeded_invitation_id(sandbox)})
    assert proxy.is_cut  # the claim was what found Redis gone
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "provider": "Redis"}
    assert error["path"] == ["createInvitation"]
    assert creates(sandbox) == 0
    assert "errors" not in read
    assert read["data"]["invitation"]["status"] == "PENDING"


async def test_redis_gone_at_the_claim_fails_each_keyed_bulk_item_at_its_path(
    sandbox: Sandbox, redis_url: str
) -> None:
    """In createInvitations, each keyed item is UPSTREAM_UNAVAILABLE naming Redis, none sent."""
    items = [
        org_input(sandbox, f"bulk-gone-{n}@example.com", f"key-bulk-gone-{uuid.uuid4()}")["input"]
        for n in range(2)
    ]
    async with redis_dying_at_the_claim(redis_url) as proxy:
        settings = sandbox.settings(redis_url=SecretStr(proxy.url_for(redis_url)))
        async with gateway_on(sandbox, settings) as gateway:
            body = await gateway.execute(BULK, {"input": {"invitations": items}})
    results = body["data"]["createInvitations"]["results"]
    assert [(r["index"], r["invitation"], r["userErrors"]) for r in results] == [
        (0, None, []),
        (1, None, []),
    ]
    errors = sorted(body["errors"], key=lambda e: e["path"])
    assert [(e["path"], e["extensions"]) for e in errors] == [
        (
            ["createInvitations", "results", n, "invitation"],
            {"code": "UPSTREAM_UNAVAILABLE", "provider": "Redis"},
        )
        for n in range(2)
    ]
    assert creates(sandbox) == 0


async def test_an_unusable_sqlite_key_store_refuses_keyed_creates_naming_sqlite(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The key file cannot be opened: a keyed create is refused (SQLite), an unkeyed one is not."""
    (tmp_path / "blocker").write_text("a file where the store's directory should be")
    keys = IdempotencySettings(sqlite_path=tmp_path / "blocker" / "keys.sqlite3")
    async with gateway_on(sandbox, sandbox.settings(idempotency=keys)) as gateway:
        keyed = await gateway.execute(CREATE, org_input(sandbox, "k@example.com", "key-sqlite"))
        assert creates(sandbox) == 0
        variables = org_input(sandbox, "u@example.com", "unused")
        del variables["input"]["idempotencyKey"]
        unkeyed = await gateway.execute(CREATE, variables)
    [error] = keyed["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "provider": "SQLite"}
    assert unkeyed["data"]["createInvitation"]["userErrors"] == []
    assert creates(sandbox) == 1
