"""The read side: invitation(id), node(id) and the merged invitations(...) list."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from invitation_gateway.app import create_app
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from tests.support.documents import INVITATION
from tests.support.gateway import GatewayClient, app_client

GET = f"query Get($id: ID!) {{ invitation(id: $id) {{ {INVITATION} }} }}"
NODE = "query Node($id: ID!) { node(id: $id) { __typename id ... on Invitation { email status } } }"
TWICE = """query Twice($id: ID!) {
  a: invitation(id: $id) { status }
  b: invitation(id: $id) { email }
  c: node(id: $id) { id }
}"""
LIST = f"""query List($targets: [InvitationTargetInput!]!, $status: [InvitationStatus!], $email: String, $first: Int, $after: String) {{
  invitations(targets: $targets, status: $status, email: $email, first: $first, after: $after) {{
    edges {{ cursor node {{ {INVITATION} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    totalCount
    errors {{ target {{ kind id connection }} code message }}
  }}
}}"""


@pytest.fixture(autouse=True)
def _dated(fixed_clock: object) -> None:
    """The seeded invitations carry fixed dates in November 2026: run at a fixed instant."""


def ref_id(kind: TargetKind, target_id: str | None, upstream_id: str) -> str:
    return global_id.encode(InvitationRef(InvitationTarget(kind, target_id), upstream_id))


def seeded_ids(sandbox: Sandbox) -> dict[TargetKind, str]:
    seed = sandbox.seed
    return {
        TargetKind.CONDUCTORONE_DIRECTORY: ref_id(
            TargetKind.CONDUCTORONE_DIRECTORY, seed.directory_id, seed.directory_invitation_id
        ),
        TargetKind.CLERK_APPLICATION: ref_id(
            TargetKind.CLERK_APPLICATION, None, seed.application_invitation_id
        ),
        TargetKind.CLERK_ORGANIZATION: ref_id(
            TargetKind.CLERK_ORGANIZATION, seed.organization_id, seed.organization_invitation_id
        ),
    }


def all_targets(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [
        {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id},
        {"kind": "CLERK_APPLICATION"},
        {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id},
    ]


def clear(sandbox: Sandbox) -> None:
    sandbox.conductorone.requests.clear()
    sandbox.clerk.requests.clear()


def upstream_calls(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [
        (r.method, r.path) for r in [*sandbox.conductorone.api_requests, *sandbox.clerk.requests]
    ]


@pytest.mark.parametrize("kind", list(TargetKind), ids=lambda k: k.value.lower())
async def test_invitation_by_id_is_one_upstream_read(
    gateway: GatewayClient, sandbox: Sandbox, kind: TargetKind
) -> None:
    """invitation(id) resolves with exactly one upstream call, the vendor's way for each kind."""
    global_ids = seeded_ids(sandbox)
    clear(sandbox)
    body = await gateway.execute(GET, {"id": global_ids[kind]})
    assert "errors" not in body, body
    assert body["data"]["invitation"]["id"] == global_ids[kind]
    [(method, path)] = upstream_calls(sandbox)
    seed = sandbox.seed
    expected = {
        TargetKind.CONDUCTORONE_DIRECTORY: (
            "GET",
            f"/api/v1/local-directory-configs/{seed.directory_id}/invitations/{seed.directory_invitation_id}",
        ),
        TargetKind.CLERK_APPLICATION: ("GET", "/v1/invitations"),  # no get-by-id: ?query=<id>
        TargetKind.CLERK_ORGANIZATION: (
            "GET",
            f"/v1/organizations/{seed.organization_id}/invitations/{seed.organization_invitation_id}",
        ),
    }[kind]
    assert (method, path) == expected
    if kind is TargetKind.CLERK_APPLICATION:
        [request] = sandbox.clerk.requests
        assert request.query["query"] == [seed.application_invitation_id]
        assert request.query["paginated"] == ["true"]


@pytest.mark.parametrize("kind", list(TargetKind), ids=lambda k: k.value.lower())
async def test_unknown_invitation_is_null_and_leaks_nothing(
    gateway: GatewayClient, sandbox: Sandbox, kind: TargetKind
) -> None:
    """An id of an invitation the upstream does not have reads as null with no error."""
    target_id = {
        TargetKind.CONDUCTORONE_DIRECTORY: sandbox.seed.directory_id,
        TargetKind.CLERK_ORGANIZATION: sandbox.seed.organization_id,
    }.get(kind)
    body = await gateway.execute(GET, {"id": ref_id(kind, target_id, "doesNotExist123")})
    assert body == {"data": {"invitation": None}}


@pytest.mark.parametrize("bad", ["", "garbled!", "SW52aXRhdGlvbjox"])
async def test_malformed_id_is_a_clear_invalid_input_error(
    gateway: GatewayClient, sandbox: Sandbox, bad: str
) -> None:
    """A malformed id is a top-level INVALID_INPUT error naming the id, and no upstream call."""
    clear(sandbox)
    body = await gateway.execute(GET, {"id": bad})
    assert body["data"] == {"invitation": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["problems"] == [
        {"field": ["id"], "message": "is not a valid invitation id"}
    ]
    assert upstream_calls(sandbox) == []


async def test_node_resolves_an_invitation(gateway: GatewayClient, sandbox: Sandbox) -> None:
    """node(id) returns the Invitation behind a global id."""
    global_id_ = seeded_ids(sandbox)[TargetKind.CLERK_ORGANIZATION]
    body = await gateway.execute(NODE, {"id": global_id_})
    assert body["data"]["node"]["__typename"] == "Invitation"
    assert body["data"]["node"]["id"] == global_id_


async def test_the_same_invitation_is_read_once_per_operation(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """invitation(id) twice and node(id) in one operation make a single upstream call."""
    global_id_ = seeded_ids(sandbox)[TargetKind.CONDUCTORONE_DIRECTORY]
    clear(sandbox)
    body = await gateway.execute(TWICE, {"id": global_id_})
    assert "errors" not in body, body
    assert len(upstream_calls(sandbox)) == 1


def seed_many(sandbox: Sandbox, count: int) -> None:
    """Give each of the three targets `count` invitations with interleaved creation times."""
    start = datetime(2026, 11, 1, tzinfo=UTC)  # 30-day expiry: pending at FIXED_NOW
    for i in range(count):
        sandbox.conductorone.add_invitation(
            sandbox.seed.directory_id,
            f"c1-{i}@example.com",
            f"C1 {i}",
            created_at=start + timedelta(minutes=3 * i),
        )
        sandbox.clerk.add_invitation(
            f"app-{i}@example.com", created_at=start + timedelta(minutes=3 * i + 1)
        )
        sandbox.clerk.add_organization_invitation(
            sandbox.seed.organization_id,
            f"org-{i}@example.com",
            created_at=start + timedelta(minutes=3 * i + 2),
        )


async def walk(
    gateway: GatewayClient, variables: dict[str, Any], between: Any = None
) -> list[dict[str, Any]]:
    """Every node of a list, page by page; `between` runs after each page."""
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        body = await gateway.execute(LIST, {**variables, "after": after})
        assert "errors" not in body, body
        connection = body["data"]["invitations"]
        assert connection["errors"] == []
        nodes.extend(edge["node"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]
        if between is not None:
            await between()
    raise AssertionError("pagination did not end")


def newest_first(nodes: list[dict[str, Any]]) -> bool:
    times = [datetime.fromisoformat(n["createdAt"]) for n in nodes]
    return all(a >= b for a, b in itertools.pairwise(times))


async def test_walking_pages_returns_every_invitation_once_in_order(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Page by page across three targets: every invitation exactly once, newest first."""
    seed_many(sandbox, 15)
    expected = (
        len(sandbox.conductorone.invitations)
        + len(sandbox.clerk.invitations)
        + len(sandbox.clerk.organization_invitations)
    )
    nodes = await walk(gateway, {"targets": all_targets(sandbox), "first": 7})
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids)) == expected
    assert newest_first(nodes)


async def test_pages_stay_exact_when_invitations_are_created_between_pages(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """New invitations between pages shift Clerk offsets; no invitation repeats or goes missing."""
    seed_many(sandbox, 12)
    before = {
        *(i["email_address"] for i in sandbox.clerk.invitations.values()),
        *(i["email_address"] for i in sandbox.clerk.organization_invitations.values()),
        *(i["email"] for i in sandbox.conductorone.invitations.values()),
    }
    counter = iter(range(1000))

    async def invite_more() -> None:
        n = next(counter)
        sandbox.clerk.add_invitation(f"late-app-{n}@example.com")
        sandbox.clerk.add_organization_invitation(
            sandbox.seed.organization_id, f"late-org-{n}@example.com"
        )
        sandbox.conductorone.add_invitation(
            sandbox.seed.directory_id, f"late-c1-{n}@example.com", "Late"
        )

    nodes = await walk(gateway, {"targets": all_targets(sandbox), "first": 5}, between=invite_more)
    emails = [n["email"] for n in nodes]
    assert len(emails) == len(set(emails))
    assert before <= set(emails)
    assert newest_first(nodes)


async def test_a_failing_target_is_named_and_the_others_still_answer(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """One target failing leaves the other targets' invitations intact and names the failed one."""
    org = sandbox.seed.organization_id
    sandbox.clerk.faults.add(
        status=503, path_contains=f"/organizations/{org}/", times=10
    )  # past every retry
    body = await gateway.execute(LIST, {"targets": all_targets(sandbox), "first": 50})
    connection = body["data"]["invitations"]
    assert connection["errors"] == [
        {
            "target": {"kind": "CLERK_ORGANIZATION", "id": org, "connection": "default"},
            "code": "UPSTREAM_UNAVAILABLE",
            "message": "Clerk is unavailable",
        }
    ]
    kinds = {edge["node"]["target"]["kind"] for edge in connection["edges"]}
    assert kinds == {"CONDUCTORONE_DIRECTORY", "CLERK_APPLICATION"}
    assert len(connection["edges"]) == len(sandbox.conductorone.invitations) + len(
        sandbox.clerk.invitations
    )
    assert connection["pageInfo"]["hasNextPage"] is True  # the failed target can be read again


async def test_an_unknown_organization_is_a_target_error(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A target that does not exist upstream is a NOT_FOUND target error, not a failed query."""
    targets = [
        {"kind": "CLERK_ORGANIZATION", "id": "org_doesnotexist"},
        {"kind": "CLERK_APPLICATION"},
    ]
    connection = (await gateway.execute(LIST, {"targets": targets}))["data"]["invitations"]
    assert [e["code"] for e in connection["errors"]] == ["NOT_FOUND"]
    assert connection["edges"]


async def test_filters_are_pushed_down_where_upstreams_support_them(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """status and email go to the upstreams that filter (Clerk org, C1 single status) and are exact."""
    email = "org-3@example.com"
    seed_many(sandbox, 5)
    clear(sandbox)
    body = await gateway.execute(
        LIST, {"targets": all_targets(sandbox), "status": ["PENDING"], "email": email.upper()}
    )
    nodes = [e["node"] for e in body["data"]["invitations"]["edges"]]
    assert [n["email"] for n in nodes] == [email]
    org_request = next(r for r in sandbox.clerk.requests if "/organizations/" in r.path)
    assert org_request.query["status"] == ["pending"]
    assert org_request.query["email_address"] == [email.upper()]
    [c1_request] = sandbox.conductorone.api_requests
    assert c1_request.json is not None
    assert c1_request.json["statusFilter"] == "LOCAL_INVITATION_STATUS_PENDING"


async def test_status_filter_returns_only_those_statuses(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Filtering on REVOKED and ACCEPTED returns only those, from every target."""
    body = await gateway.execute(
        LIST, {"targets": all_targets(sandbox), "status": ["REVOKED", "ACCEPTED"], "first": 100}
    )
    statuses = {e["node"]["status"] for e in body["data"]["invitations"]["edges"]}
    assert statuses == {"REVOKED", "ACCEPTED"}


async def test_total_count_is_given_when_every_target_can_count(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Clerk targets give totalCount; adding ConductorOne (which cannot count) makes it null."""
    clerk_only = [
        {"kind": "CLERK_APPLICATION"},
        {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id},
    ]
    body = await gateway.execute(LIST, {"targets": clerk_only, "first": 1})
    total = len(sandbox.clerk.invitations) + len(sandbox.clerk.organization_invitations)
    assert body["data"]["invitations"]["totalCount"] == total
    body = await gateway.execute(LIST, {"targets": all_targets(sandbox), "first": 1})
    assert body["data"]["invitations"]["totalCount"] is None


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 101}, ["first"]),
        ({"first": -1}, ["first"]),
        ({"targets": []}, ["targets"]),
        ({"targets": [{"kind": "CLERK_APPLICATION"}] * 21}, ["targets"]),
        ({"targets": [{"kind": "CLERK_ORGANIZATION"}]}, ["targets", "0", "id"]),
        (
            {"targets": [{"kind": "CLERK_APPLICATION", "connection": "nope"}]},
            ["targets", "0", "connection"],
        ),
        ({"after": "not-a-cursor"}, ["after"]),
    ],
)
async def test_bad_list_arguments_are_invalid_input(
    gateway: GatewayClient, variables: dict[str, Any], field: list[str]
) -> None:
    """Out-of-bounds pages, too many or bad targets and forged cursors are INVALID_INPUT errors."""
    body = await gateway.execute(LIST, {"targets": [{"kind": "CLERK_APPLICATION"}], **variables})
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert field in [p["field"] for p in error["extensions"]["problems"]]


async def test_a_cursor_only_continues_the_list_it_came_from(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A cursor from one target list is refused for another list or other filters."""
    body = await gateway.execute(LIST, {"targets": all_targets(sandbox), "first": 1})
    cursor = body["data"]["invitations"]["pageInfo"]["endCursor"]
    other = await gateway.execute(
        LIST, {"targets": all_targets(sandbox)[:2], "first": 1, "after": cursor}
    )
    assert other["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    filtered = await gateway.execute(
        LIST, {"targets": all_targets(sandbox), "status": ["PENDING"], "after": cursor}
    )
    assert filtered["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


class _InFlight(httpx.AsyncBaseTransport):
    """Counts how many upstream requests are in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.now = 0
        self.peak = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_targets_are_read_concurrently(sandbox: Sandbox) -> None:
    """All targets of a page are read at the same time: three targets, three requests in flight."""
    sandbox.conductorone.latency = 0.05
    sandbox.clerk.latency = 0.05
    counting = _InFlight(sandbox.transport())
    app = create_app(sandbox.settings(), transport=counting)
    async with app_client(app) as http:
        response = await http.post(
            "/graphql",
            json={"query": LIST, "variables": {"targets": all_targets(sandbox), "first": 5}},
        )
    assert response.json()["data"]["invitations"]["errors"] == []
    assert counting.peak == 3


async def test_nothing_is_lost_whatever_order_conductorone_lists_in(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """C1 Search documents no order: oldest-first pages still give every invitation once."""
    seed_many(sandbox, 12)
    sandbox.conductorone.search_newest_first = False
    expected = (
        len(sandbox.conductorone.invitations)
        + len(sandbox.clerk.invitations)
        + len(sandbox.clerk.organization_invitations)
    )
    nodes = await walk(gateway, {"targets": all_targets(sandbox), "first": 6})
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids)) == expected


async def test_a_target_that_cannot_exist_ends_the_walk(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """An unknown organization is reported once and then counted as done: the walk ends."""
    targets = [
        {"kind": "CLERK_ORGANIZATION", "id": "org_doesnotexist"},
        {"kind": "CLERK_APPLICATION"},
    ]
    body = await gateway.execute(LIST, {"targets": targets, "first": 100})
    connection = body["data"]["invitations"]
    assert [e["code"] for e in connection["errors"]] == ["NOT_FOUND"]
    assert connection["pageInfo"]["hasNextPage"] is False


async def test_oldest_first_conductorone_with_invitations_added_between_pages(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Unordered upstream pages plus creations between pages still give each invitation once."""
    seed_many(sandbox, 10)
    sandbox.conductorone.search_newest_first = False
    counter = iter(range(1000))

    async def invite_more() -> None:
        n = next(counter)
        sandbox.conductorone.add_invitation(
            sandbox.seed.directory_id, f"late-c1-{n}@example.com", "Late"
        )
        sandbox.clerk.add_organization_invitation(
            sandbox.seed.organization_id, f"late-org-{n}@example.com"
        )

    before = {i["email"] for i in sandbox.conductorone.invitations.values()}
    nodes = await walk(gateway, {"targets": all_targets(sandbox), "first": 4}, between=invite_more)
    emails = [n["email"] for n in nodes]
    assert len(emails) == len(set(emails))
    assert before <= set(emails)


async def test_a_target_that_times_out_is_reported_and_the_others_answer(sandbox: Sandbox) -> None:
    """A slow ConductorOne (past its budget) is an UPSTREAM_TIMEOUT target error; Clerk answers."""
    base = sandbox.settings()
    c1 = base.conductorone.model_copy(update={"total_timeout": 0.2, "retry_attempts": 1})
    settings = base.model_copy(update={"conductorone": c1})
    sandbox.conductorone.latency = 1.0
    app = create_app(settings, transport=sandbox.transport())
    async with app_client(app) as http:
        response = await http.post(
            "/graphql",
            json={"query": LIST, "variables": {"targets": all_targets(sandbox), "first": 50}},
        )
    connection = response.json()["data"]["invitations"]
    assert [(e["target"]["kind"], e["code"]) for e in connection["errors"]] == [
        ("CONDUCTORONE_DIRECTORY", "UPSTREAM_TIMEOUT")
    ]
    assert {e["node"]["provider"] for e in connection["edges"]} == {"CLERK"}
    assert connection["pageInfo"]["hasNextPage"] is True
