"""Upstream error bodies of every shape are read defensively, logged with their request id,
and never reach the caller."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from invitation_gateway.domain import errors
from invitation_gateway.domain.invitations import (
    InvitationRef,
    InvitationTarget,
    NewInvitation,
    Provider,
    TargetKind,
)
from invitation_gateway.providers.auth import BearerAuth
from invitation_gateway.providers.clerk import ClerkOrganization
from invitation_gateway.providers.conductorone import ConductorOneDirectory
from invitation_gateway.providers.http import MAX_BODY_BYTES, UpstreamClient
from invitation_gateway.providers.reliability import Reliability
from tests.support.logs import LogLines

ONE_SHOT = Reliability(attempts=1)
C1_REF = InvitationRef(InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "dir1"), "inv1")
ORG_NEW = NewInvitation(
    target=InvitationTarget(TargetKind.CLERK_ORGANIZATION, "org_1"),
    email="a@example.com",
    roles=("org:member",),
)


def client(provider: Provider, response: httpx.Response, request_id_header: str) -> UpstreamClient:
    return UpstreamClient(
        provider=provider,
        base_url="http://upstream.test",
        auth=BearerAuth(SecretStr("secret-token-value")),
        request_id_header=request_id_header,
        transport=httpx.MockTransport(lambda request: response),
        reliability=ONE_SHOT,
    )


BODIES = [
    pytest.param(
        b'{"code": 9, "message": "invitation is not pending (request-id: r1)"}', id="numeric-code"
    ),
    pytest.param(b'{"code": "failed_precondition"}', id="string-code"),
    pytest.param(b"", id="empty"),
    pytest.param(b"<html><body>Bad Request</body></html>", id="html"),
    pytest.param(b'["not", "an", "object"]', id="wrong-shape"),
    pytest.param(b'{"code": {"nested": true}, "message": 42}', id="wrong-types"),
]


@pytest.mark.parametrize("body", BODIES)
async def test_conductorone_revoke_400_is_not_revocable_whatever_the_body(body: bytes) -> None:
    """A revoke 400 means "not revocable" for every body shape the notes list (§6.1)."""
    upstream = client(
        Provider.CONDUCTORONE,
        httpx.Response(400, content=body, headers={"request-id": "r1"}),
        "request-id",
    )
    with pytest.raises(errors.InvitationNotRevocable) as caught:
        await ConductorOneDirectory(upstream).revoke(C1_REF)
    assert "request-id" not in caught.value.message
    await upstream.aclose()


@pytest.mark.parametrize("body", BODIES)
async def test_clerk_errors_of_any_shape_become_a_generic_rejection(body: bytes) -> None:
    """A Clerk 400 without a readable ClerkErrors body is UPSTREAM_REJECTED with our own words."""
    upstream = client(Provider.CLERK, httpx.Response(400, content=body), "cf-ray")
    with pytest.raises(errors.InvitationError) as caught:
        await ClerkOrganization(upstream).create(ORG_NEW)
    assert isinstance(caught.value, errors.ProviderRejected)
    assert caught.value.message == "Clerk rejected the request"
    await upstream.aclose()


async def test_error_bodies_are_logged_with_the_upstream_request_id(json_logs: LogLines) -> None:
    """The call's one log line names the operation, status and request id, with an excerpt."""
    body = b'{"errors":[{"code":"duplicate_record","message":"","long_message":"x"}],"clerk_trace_id":"trace-123"}'
    upstream = client(
        Provider.CLERK, httpx.Response(400, content=body, headers={"cf-ray": "ray-9"}), "cf-ray"
    )
    with pytest.raises(errors.InvitationConflict):
        await ClerkOrganization(upstream).create(ORG_NEW)
    # One line per call: the create, then the read-back that looks for the existing invitation.
    line, _ = json_logs.events("upstream call")
    assert len(json_logs.records) == 2
    assert (line["operation"], line["status"], line["upstream_request_id"]) == (
        "create",
        "400",
        "ray-9",
    )
    assert line["path"] == "/organizations/{organization_id}/invitations"
    assert "trace-123" in line["body"]
    assert "secret-token-value" not in json_logs.text
    await upstream.aclose()


async def test_a_body_its_encoding_does_not_describe_is_unreadable() -> None:
    """Garbage declared as gzip is UPSTREAM_UNAVAILABLE ("could not read"), not a bug."""
    garbled = httpx.Response(
        200, stream=httpx.ByteStream(b"not gzip at all"), headers={"Content-Encoding": "gzip"}
    )
    upstream = client(Provider.CONDUCTORONE, garbled, "request-id")
    with pytest.raises(errors.ProviderUnavailable, match="could not read"):
        await ConductorOneDirectory(upstream).get(C1_REF)
    await upstream.aclose()


async def test_a_huge_body_is_not_read_past_the_cap() -> None:
    """A body larger than the cap is refused as unreadable rather than buffered."""
    huge = httpx.Response(200, content=b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}")
    upstream = client(Provider.CONDUCTORONE, huge, "request-id")
    with pytest.raises(errors.ProviderUnavailable, match="could not read"):
        await ConductorOneDirectory(upstream).get(C1_REF)
    await upstream.aclose()


async def test_a_redirect_is_never_followed() -> None:
    """A 301 (C1's answer to an empty id) is an error, not a request to somewhere else."""
    moved = httpx.Response(301, headers={"Location": "/api/v1/local-directory-configs"})
    upstream = client(Provider.CONDUCTORONE, moved, "request-id")
    with pytest.raises(errors.ProviderUnavailable):
        await ConductorOneDirectory(upstream).get(C1_REF)
    await upstream.aclose()


def test_emails_in_logged_upstream_bodies_are_masked() -> None:
    """An upstream body logged for diagnosis shows `a***@example.com`, never the whole email."""
    from invitation_gateway.redaction import mask_emails

    body = '{"errors":[{"meta":{"email_addresses":["ada.lovelace@example.com"]}}]}'
    assert mask_emails(body) == '{"errors":[{"meta":{"email_addresses":["a***@example.com"]}}]}'
