"""Retry-After parsing (RFC 9110: delta-seconds or an HTTP date)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from invitation_gateway.domain.errors import ProviderRateLimited
from invitation_gateway.domain.invitations import Provider
from invitation_gateway.providers.answers import parse_retry_after
from invitation_gateway.providers.auth import BearerAuth
from invitation_gateway.providers.http import UpstreamClient
from invitation_gateway.providers.paths import path
from invitation_gateway.providers.reliability import Reliability, RetryPolicy

OCT_21_2015 = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("30", 30.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_seconds_and_dates(header: str | None, expected: float | None) -> None:
    """Seconds are taken as is; a date counts from now; a past date is 0; junk is unknown."""
    assert parse_retry_after(header, now=OCT_21_2015) == expected


async def test_a_retry_after_date_counts_from_the_clients_clock() -> None:
    """A 429's `Retry-After` date is read against the clock the client was given, not today."""
    limited = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:30:00 GMT"})
    client = UpstreamClient(
        provider=Provider.CLERK,
        base_url="http://upstream.test",
        auth=BearerAuth(SecretStr("secret-token-value")),
        request_id_header="cf-ray",
        transport=httpx.MockTransport(lambda request: limited),
        reliability=Reliability(attempts=1, max_retry_after=0),
        clock=lambda: OCT_21_2015,
    )
    with pytest.raises(ProviderRateLimited) as raised:
        await client.send("GET", path("/invitations"), operation="list", retry=RetryPolicy.SAFE)
    await client.aclose()
    assert raised.value.retry_after == 120.0


def test_path_segments_are_percent_escaped() -> None:
    """An id can never add a path segment or traverse out of its collection."""
    assert path("/invitations/{id}/revoke", id="a/b") == "/invitations/a%2Fb/revoke"
    assert path("/{id}", id="a%2Fb") == "/a%252Fb"
    assert path("/invitations/{id}/revoke", id="a/b").template == "/invitations/{id}/revoke"
