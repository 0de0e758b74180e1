"""The gateway reads dates from the clock `create_app` is given, never from today's date."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from invitation_gateway.app import create_app
from invitation_gateway.sandbox import Sandbox
from tests.support.clock import FIXED_NOW, manual_clock
from tests.support.documents import CREATE
from tests.support.gateway import GatewayClient, app_client


async def test_a_keyed_create_whose_answer_was_lost_is_dated_on_the_apps_clock() -> None:
    """A lost create is "unknown since T", T on the app's clock: the keyed retry reads it back.

    The wall clock stands a day later than the clock the app and the emulators share: dated by
    the wall clock, the lost invitation would look older than T and be sent a second time.
    """
    clock = manual_clock()
    sandbox = Sandbox.create(clock=clock)
    app = create_app(sandbox.settings(), transport=sandbox.transport(), clock=clock)
    target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
    email = "dated@example.com"
    variables = {
        "input": {"target": target, "email": email, "roles": ["org:member"], "idempotencyKey": "k1"}
    }
    sandbox.clerk.faults.add(drop=True, method="POST", path_contains="/invitations")
    with time_machine.travel(FIXED_NOW + timedelta(days=1), tick=True):
        async with app_client(app) as http:
            gateway = GatewayClient(http)
            first = await gateway.execute(CREATE, variables)
            assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_UNAVAILABLE"]
            retry = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
    [created_id] = [
        upstream_id
        for upstream_id, item in sandbox.clerk.organization_invitations.items()
        if item["email_address"] == email
    ]
    assert retry["userErrors"] == []
    assert retry["invitation"]["providerInvitationId"] == created_id
    creates = [
        r for r in sandbox.clerk.requests if r.method == "POST" and r.path.endswith("/invitations")
    ]
    assert len(creates) == 1
