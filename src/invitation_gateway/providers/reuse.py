"""Telling a new invitation from an existing one an upstream handed back for a create.

Clerk answers a create for an email with a pending organization invitation by re-using that
invitation and re-sending its email: 200, no new invitation (clerk-notes.md §3.1). ConductorOne's
answer to a duplicate is undocumented (conductorone-notes.md §7.3, UNVERIFIED) and may be the
same. The gateway must not report such an answer as newly created.

An answered invitation is judged re-used when either
- the gateway has already seen its id (created, read or listed through this connection), or
- it was created before the request was sent, by more than `SKEW`. The request's send time is
  moved onto the upstream's clock with its `Date` header when it sent one, so a gateway and an
  upstream whose clocks disagree by seconds do not mistake a new invitation for an old one.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from ..domain.invitations import Invitation
from .answers import UpstreamResponse

SKEW = timedelta(seconds=2)  # the Date header's one-second resolution, and some slack
_REMEMBERED = 4096  # ids per connection; a duplicate of an older one is caught by its age


class RecentInvitations:
    """The ids one connection's adapters have recently seen, and the re-use judgement."""

    def __init__(self, *, clock: Callable[[], float] = time.time, size: int = _REMEMBERED) -> None:
        self._clock = clock
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def now(self) -> float:
        return self._clock()

    def remember(self, invitations: Iterable[Invitation]) -> None:
        for invitation in invitations:
            self._seen[invitation.provider_invitation_id] = None
            self._seen.move_to_end(invitation.provider_invitation_id)
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)

    def is_reused(self, invitation: Invitation, answer: UpstreamResponse, sent_at: float) -> bool:
        """Whether `invitation`, answered to a create sent at `sent_at`, existed before it."""
        if invitation.provider_invitation_id in self._seen:
            return True
        if invitation.created_at is None:
            return False
        sent = datetime.fromtimestamp(sent_at, UTC) + _clock_offset(answer, self._clock())
        return invitation.created_at < sent - SKEW


def _clock_offset(answer: UpstreamResponse, received_at: float) -> timedelta:
    """How far the upstream's clock is ahead of ours, from its `Date` header (zero without)."""
    value = answer.headers.get("Date")
    if value is None:
        return timedelta(0)
    try:
        upstream_now = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return timedelta(0)
    if upstream_now.tzinfo is None:
        return timedelta(0)
    return upstream_now - datetime.fromtimestamp(received_at, UTC)
