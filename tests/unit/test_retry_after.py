"""Retry-After parsing (RFC 9110: delta-seconds or an HTTP date)."""

from __future__ import annotations

import pytest

from invitation_gateway.providers.answers import parse_retry_after
from invitation_gateway.providers.http import path


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
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(header, now=now) == expected


def test_path_segments_are_percent_escaped() -> None:
    """An id can never add a path segment or traverse out of its collection."""
    assert path("/invitations/{id}/revoke", id="a/b") == "/invitations/a%2Fb/revoke"
    assert path("/{id}", id="a%2Fb") == "/a%252Fb"
    assert path("/invitations/{id}/revoke", id="a/b").template == "/invitations/{id}/revoke"
