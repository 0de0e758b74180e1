"""Per-caller budgets through the gateway: refusals cost no upstream call; replicas share one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import redis
from pydantic import SecretStr

from invitation_gateway.app import create_app
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from invitation_gateway.settings import RateLimitSettings
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import GatewayClient, app_client
from tests.support.tcp_proxy import TcpProxy

BULK = """mutation($input: CreateInvitationsInput!) { createInvitations(input: $input) {
  results { index userErrors { code } } } }"""
GET = "query($id: ID!) { invitation(id: $id) { id } }"
READ = "query($id: ID!) { invitation(id: $id) { id status } }"
DEV_KEYS = "invitation-gateway:ratelimit:dev:*"  # the development caller's buckets


def directory_input(sandbox: Sandbox, email: str) -> dict[str, Any]:
    target = {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id}
    return {"target": target, "email": email}


def creates(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.conductorone.api_requests if r.path.endswith("/invitations"))


@pytest.fixture
def clean_redis(redis_url: str) -> Iterator[str]:
    """The real Redis, without the development caller's buckets before and after."""
    with redis.Redis.from_url(redis_url) as client:
        for key in client.scan_iter(DEV_KEYS):
            client.delete(key)
        yield redis_url
        for key in client.scan_iter(DEV_KEYS):
            client.delete(key)


async def gateways(
    stack: AsyncExitStack, sandbox: Sandbox, count: int, **settings: Any
) -> list[GatewayClient]:
    clients = []
    for _ in range(count):
        app = create_app(sandbox.settings(**settings), transport=sandbox.transport(), environ={})
        clients.append(GatewayClient(await stack.enter_async_context(app_client(app))))
    return clients


async def test_two_replicas_on_one_redis_share_one_create_budget(
    sandbox: Sandbox, clean_redis: str
) -> None:
    """Budget 2: one create on each replica, then the next is refused on either, unsent."""
    async with AsyncExitStack() as stack:
        first, second = await gateways(
            stack,
            sandbox,
            2,
            redis_url=SecretStr(clean_redis),
            rate_limit=RateLimitSettings(creates_per_minute=2),
        )
        for gateway, email in [(first, "a@example.com"), (second, "b@example.com")]:
            body = await gateway.execute(CREATE, {"input": directory_input(sandbox, email)})
            assert body["data"]["createInvitation"]["userErrors"] == []
        for gateway in (first, second):
            body = await gateway.execute(
                CREATE, {"input": directory_input(sandbox, "c@example.com")}
            )
            [error] = body["errors"]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert 0 < error["extensions"]["retryAfter"] <= 30
    assert creates(sandbox) == 2


async def test_a_bulk_create_over_the_budget_is_refused_whole(sandbox: Sandbox) -> None:
    """Each item counts: three items with two left of a budget of three are refused together."""
    async with AsyncExitStack() as stack:
        [gateway] = await gateways(
            stack, sandbox, 1, rate_limit=RateLimitSettings(creates_per_minute=3)
        )
        await gateway.execute(CREATE, {"input": directory_input(sandbox, "first@example.com")})
        items = [directory_input(sandbox, f"bulk{i}@example.com") for i in range(3)]
        body = await gateway.execute(BULK, {"input": {"invitations": items}})
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert creates(sandbox) == 1


async def test_a_bulk_larger_than_a_whole_budget_is_invalid_input_not_retry_later(
    sandbox: Sandbox,
) -> None:
    """More items than a minute's budget can never pass: INVALID_INPUT on invitations."""
    async with AsyncExitStack() as stack:
        [gateway] = await gateways(
            stack, sandbox, 1, rate_limit=RateLimitSettings(creates_per_minute=2)
        )
        items = [directory_input(sandbox, f"big{i}@example.com") for i in range(3)]
        body = await gateway.execute(
            BULK.replace(
                "userErrors { code } } }", "userErrors { code } } userErrors { code field } }"
            ),
            {"input": {"invitations": items}},
        )
    payload = body["data"]["createInvitations"]
    assert payload["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", "invitations"]}]
    assert creates(sandbox) == 0


async def test_over_the_request_budget_is_429_before_any_graphql_work(sandbox: Sandbox) -> None:
    """Budget 3 requests a minute: the fourth is HTTP 429 RATE_LIMITED with Retry-After."""
    async with AsyncExitStack() as stack:
        [gateway] = await gateways(
            stack, sandbox, 1, rate_limit=RateLimitSettings(requests_per_minute=3)
        )
        for _ in range(3):
            await gateway.execute(GET, {"id": "x"})
        sandbox.conductorone.requests.clear()
        sandbox.clerk.requests.clear()
        response = await gateway.http.post(
            "/graphql",
            json={
                "query": CREATE,
                "variables": {"input": directory_input(sandbox, "d@example.com")},
            },
        )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "20"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 19 < error["extensions"]["retryAfter"] <= 20  # one request's worth: 60 s / 3
    assert sandbox.conductorone.requests == []
    assert sandbox.clerk.requests == []


async def test_redis_gone_while_running_refuses_mutations_and_reads_still_answer(
    sandbox: Sandbox, clean_redis: str
) -> None:
    """The limiter's Redis dies after start-up: creates and revokes are UPSTREAM_UNAVAILABLE
    naming Redis and send nothing upstream; a read still answers."""
    seeded = global_id.encode(
        InvitationRef(
            InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, sandbox.seed.directory_id),
            sandbox.seed.directory_invitation_id,
        )
    )
    async with AsyncExitStack() as stack:
        proxy = await stack.enter_async_context(TcpProxy.to_url(clean_redis))
        [gateway] = await gateways(
            stack,
            sandbox,
            1,
            redis_url=SecretStr(proxy.url_for(clean_redis)),
            rate_limit=RateLimitSettings(creates_per_minute=10),
        )
        before = await gateway.execute(CREATE, {"input": directory_input(sandbox, "a@example.com")})
        assert before["data"]["createInvitation"]["userErrors"] == []
        proxy.cut()
        sandbox.conductorone.requests.clear()
        created = await gateway.execute(
            CREATE, {"input": directory_input(sandbox, "b@example.com")}
        )
        revoked = await gateway.execute(REVOKE, {"input": {"id": seeded}})
        read = await gateway.execute(READ, {"id": seeded})
    for body, field in [(created, "createInvitation"), (revoked, "revokeInvitation")]:
        [error] = body["errors"]
        assert error["path"] == [field]
        assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "provider": "Redis"}
    assert [r.method for r in sandbox.conductorone.api_requests] == ["GET"]  # the read alone
    assert read["data"]["invitation"] == {"id": seeded, "status": "PENDING"}


async def test_redis_unreachable_at_start_up_stops_the_gateway_naming_it(sandbox: Sandbox) -> None:
    """GATEWAY_REDIS_URL pointing nowhere: start-up fails, naming Redis, never its password."""
    app = create_app(
        sandbox.settings(redis_url=SecretStr("redis://:hunter2@127.0.0.1:1/0")),
        transport=sandbox.transport(),
        environ={},
    )
    with pytest.raises(Exception, match="Redis") as caught:
        async with app_client(app):
            pass
    assert "hunter2" not in str(caught.value)


class _ClosingTransport(httpx.AsyncBaseTransport):
    """The sandbox's transport, remembering whether the client that owns it closed it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.closed = True


async def test_a_failed_start_up_closes_the_upstream_clients_it_opened(sandbox: Sandbox) -> None:
    """Redis unreachable: the pools opened before it was tried are closed, not leaked."""
    transport = _ClosingTransport(sandbox.transport())
    app = create_app(
        sandbox.settings(redis_url=SecretStr("redis://127.0.0.1:1/0")),
        transport=transport,
        environ={},
    )
    with pytest.raises(Exception, match="Redis"):
        async with app_client(app):
            pass
    assert transport.closed
