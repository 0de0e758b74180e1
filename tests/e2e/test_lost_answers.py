"""An answer lost after the upstream acted: revokes that did what was asked, creates never sent twice.

The emulators' `after` and `drop` faults run the real handler (the invitation IS created or
revoked) and then answer 503 or break the connection, which is what a network failure between
an upstream's commit and its answer looks like to the gateway. An `after` fault that trickles
its answer, on a real socket, is the third way: the upstream acted, started answering, and went
quiet past the gateway's read timeout.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from invitation_gateway.sandbox import Sandbox
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import GatewayClient
from tests.support.lost_answers import (
    CLERK_ADMIN,
    DIRECTORY,
    KINDS,
    LOST,
    ORGANIZATION,
    Kind,
    gateway_over_sockets,
    lose_next,
    stall_next_create,
)

BY_KIND = pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind.value.lower())
BY_FAULT = pytest.mark.parametrize("fault", list(LOST), ids=list(LOST))


async def assert_retries_return(
    gateway: GatewayClient, variables: dict[str, Any], created_id: str
) -> None:
    """The keyed retry, and a replay of it, both answer with the invitation the lost create made."""
    for _ in range(2):
        retry = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
        assert retry["userErrors"] == []
        assert retry["invitation"]["providerInvitationId"] == created_id
        assert retry["invitation"]["status"] == "PENDING"


@BY_KIND
@BY_FAULT
async def test_a_revoke_whose_answer_was_lost_is_a_success(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind, fault: str
) -> None:
    """The upstream revoked, the answer was lost, the retry hears "not pending": that is success."""
    lose_next(sandbox, kind, fault, "/revoke")
    body = await gateway.execute(REVOKE, {"input": {"id": kind.pending_id(sandbox)}})
    assert "errors" not in body, body
    payload = body["data"]["revokeInvitation"]
    assert payload["userErrors"] == []
    assert payload["invitation"]["status"] == "REVOKED"
    revokes = [r for r in kind.emulator(sandbox).requests if r.path.endswith("/revoke")]
    assert len(revokes) == 2  # the lost attempt and the retry


@BY_KIND
async def test_revoking_an_already_revoked_invitation_is_still_not_revocable(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind
) -> None:
    """Without a lost answer of its own, "not pending" stays NOT_REVOCABLE: only our retry is ours."""
    variables = {"input": {"id": kind.pending_id(sandbox)}}
    first = await gateway.execute(REVOKE, variables)
    assert first["data"]["revokeInvitation"]["userErrors"] == []
    second = (await gateway.execute(REVOKE, variables))["data"]["revokeInvitation"]
    assert [e["code"] for e in second["userErrors"]] == ["NOT_REVOCABLE"]
    assert second["userErrors"][0]["invitation"]["status"] == "REVOKED"


@BY_KIND
@BY_FAULT
async def test_a_lost_create_answer_is_reported_and_never_sent_twice(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind, fault: str
) -> None:
    """The create happened but its answer was lost: UPSTREAM_UNAVAILABLE, and one create only."""
    lose_next(sandbox, kind, fault, kind.create_path)
    before = len(kind.stored(sandbox))
    body = await gateway.execute(CREATE, kind.create_input(sandbox, "lost@example.com"))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    assert kind.creates(sandbox) == 1
    assert len(kind.stored(sandbox)) == before + 1  # the upstream did create it


@BY_KIND
@BY_FAULT
async def test_a_keyed_retry_after_a_lost_create_answer_returns_the_invitation(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind, fault: str
) -> None:
    """Retrying with the same idempotencyKey reads the invitation back: no ALREADY_EXISTS, no create."""
    lose_next(sandbox, kind, fault, kind.create_path)
    variables = kind.create_input(sandbox, "retry@example.com", idempotencyKey="lost-1")
    first = await gateway.execute(CREATE, variables)
    assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    [created_id] = kind.made_for(sandbox, "retry@example.com")

    await assert_retries_return(gateway, variables, created_id)
    assert kind.creates(sandbox) == 1


@BY_KIND
async def test_a_keyed_retry_after_a_create_that_never_happened_creates_it_once(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind
) -> None:
    """A 503 whose request did nothing: the keyed retry finds nothing to read back and creates it."""
    kind.emulator(sandbox).faults.add(status=503, method="POST", path_contains=kind.create_path)
    variables = kind.create_input(sandbox, "never@example.com", idempotencyKey="never-1")
    first = await gateway.execute(CREATE, variables)
    assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    answers = [(await gateway.execute(CREATE, variables))["data"]["createInvitation"] for _ in "ab"]
    assert answers[0]["userErrors"] == []
    assert answers[1] == answers[0]
    assert kind.creates(sandbox) == 2  # the failed one and the retry; the replay sends nothing


@BY_KIND
async def test_a_keyed_retry_after_a_create_answer_timed_out_returns_the_invitation(
    sandbox: Sandbox, kind: Kind
) -> None:
    """Created upstream, answer stalled past the read timeout: UPSTREAM_TIMEOUT, then the keyed
    retry returns that invitation, with one create upstream."""
    stall_next_create(sandbox, kind, acted=True)
    variables = kind.create_input(sandbox, "slow@example.com", idempotencyKey="slow-1")
    async with gateway_over_sockets(sandbox) as gateway:
        first = await gateway.execute(CREATE, variables)
        assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_TIMEOUT"]
        [created_id] = kind.made_for(sandbox, "slow@example.com")
        await assert_retries_return(gateway, variables, created_id)
    assert kind.creates(sandbox) == 1


@BY_KIND
async def test_the_lost_creates_own_invitation_wins_over_an_older_one_within_the_clock_skew(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind
) -> None:
    """An invitation for the email made 2 s before the request (within the 5 s allowed for
    clock skew, since revoked) is not what the lost create made: the retry returns the new one."""
    older = kind.seed(
        sandbox,
        "skew@example.com",
        status="revoked",
        created_at=kind.emulator(sandbox).now() - timedelta(seconds=2),
    )
    lose_next(sandbox, kind, "drop", kind.create_path)
    variables = kind.create_input(sandbox, "skew@example.com", idempotencyKey="skew-1")
    first = await gateway.execute(CREATE, variables)
    assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    [created_id] = [i for i in kind.made_for(sandbox, "skew@example.com") if i != older]
    retry = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
    assert retry["userErrors"] == []
    assert retry["invitation"]["providerInvitationId"] == created_id
    assert kind.creates(sandbox) == 1


# The two kinds whose invitations record their roles, and a role the test's create does not ask.
BY_ROLE_KIND = pytest.mark.parametrize(
    ("kind", "other_role"),
    [(DIRECTORY, "role-someone-else-chose"), (ORGANIZATION, "org:admin")],
    ids=["conductorone_directory", "clerk_organization"],
)


@BY_ROLE_KIND
async def test_another_callers_invitation_with_other_roles_is_not_adopted_by_a_keyed_retry(
    sandbox: Sandbox, kind: Kind, other_role: str
) -> None:
    """The lost create did nothing; meanwhile someone else invited the email with another role:
    the keyed retry does not pass that off as its own, it creates and hears ALREADY_EXISTS."""
    stall_next_create(sandbox, kind, acted=False)
    variables = kind.create_input(sandbox, "other@example.com", idempotencyKey="other-1")
    async with gateway_over_sockets(sandbox) as gateway:
        first = await gateway.execute(CREATE, variables)
        assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_TIMEOUT"]
        theirs = kind.seed(
            sandbox,
            "other@example.com",
            status="pending",
            created_at=kind.emulator(sandbox).now(),
            role=other_role,
        )
        retry = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
    assert retry["invitation"] is None
    assert [e["code"] for e in retry["userErrors"]] == ["ALREADY_EXISTS"]
    assert kind.creates(sandbox) == 2  # the stalled one (which did nothing) and the retry's
    assert kind.made_for(sandbox, "other@example.com") == [theirs]


@pytest.mark.parametrize("acted", [True, False], ids=["ours", "another-inviters"])
async def test_a_clerk_users_keyed_retry_adopts_only_an_invitation_it_is_the_inviter_of(
    sandbox: Sandbox, tmp_path: Path, acted: bool
) -> None:
    """A Clerk admin's create times out. If it was made (Clerk records the admin as inviter),
    the retry returns it; if not, another admin's invitation since is ALREADY_EXISTS, not ours."""
    kind = ORGANIZATION
    stall_next_create(sandbox, kind, acted=acted)
    variables = kind.create_input(sandbox, "invitee@example.com", idempotencyKey="inviter-1")
    async with gateway_over_sockets(sandbox, clerk_admin_in=tmp_path) as gateway:
        first = await gateway.execute(CREATE, variables)
        assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_TIMEOUT"]
        if not acted:
            other = sandbox.clerk.add_user("other-admin@example.com", user_id="user_other_admin")
            sandbox.clerk.add_membership(sandbox.seed.organization_id, other["id"], "org:admin")
            sandbox.clerk.add_organization_invitation(
                sandbox.seed.organization_id, "invitee@example.com", inviter_user_id=other["id"]
            )
        [made] = kind.made_for(sandbox, "invitee@example.com")
        retry = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
    inviter = sandbox.clerk.organization_invitations[made]["inviter_id"]
    if acted:
        assert inviter == CLERK_ADMIN
        assert retry["userErrors"] == []
        assert retry["invitation"]["providerInvitationId"] == made
        assert kind.creates(sandbox) == 1
    else:
        assert inviter == "user_other_admin"
        assert [e["code"] for e in retry["userErrors"]] == ["ALREADY_EXISTS"]
        assert kind.creates(sandbox) == 2
