"""Telling a new invitation from an existing one an upstream handed back for a create.

Clerk answers a create for an email with a pending organization invitation by re-using that
invitation and re-sending its email: 200, no new invitation (clerk-notes.md §3.1). ConductorOne's
answer to a duplicate is undocumented (conductorone-notes.md §7.3, UNVERIFIED) and may be the
same. The gateway must not report such an answer as newly created.

An answered invitation is judged re-used when either
- the gateway saw its id (created, read or listed through this connection) before the create
  was sent. Only a sighting from before counts: a list of the same target that runs while the
  create awaits its answer can already see the new invitation, which is no evidence of re-use.
  So each id keeps when it was first seen, on the same clock as the create's send time; or
- it was created before the request was sent, by more than `SKEW`. The request's send time is
  moved onto the upstream's clock with its `Date` header when it sent one, so a gateway and an
  upstream whose clocks disagree by seconds do not mistake a new invitation for an old one.

The clock is the wall clock (Unix seconds): the send time is compared with the upstream's
`created_at` and `Date`, which are dates.
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
        # id -> when this connection first saw it; least recently seen first.
        self._first_seen: OrderedDict[str, float] = OrderedDict()
        # ids a create has already been answered with as new: any later create answered with
        # one was handed an existing invitation, however the sightings and sends interleave.
        self._claimed: OrderedDict[str, None] = OrderedDict()

    def now(self) -> float:
        """The clock's reading: a create takes it as its send time, before it sends."""
        return self._clock()

    def remember(self, invitations: Iterable[Invitation]) -> None:
        now = self._clock()
        for invitation in invitations:
            upstream_id = invitation.provider_invitation_id
            self._first_seen[upstream_id] = self._first_seen.pop(upstream_id, now)
        while len(self._first_seen) > self._size:
            self._first_seen.popitem(last=False)

    def claims_new(self, invitation: Invitation, answer: UpstreamResponse, sent_at: float) -> bool:
        """Whether `invitation`, answered to a create sent at `sent_at`, is that create's own.

        If so it is claimed: a second create answered with the same invitation (two creates for
        one email overlapping, Clerk re-using the first's) is then judged re-used.
        """
        if self.is_reused(invitation, answer, sent_at):
            return False
        upstream_id = invitation.provider_invitation_id
        self._claimed[upstream_id] = None
        while len(self._claimed) > self._size:
            self._claimed.popitem(last=False)
        self.remember([invitation])
        return True

    def is_reused(self, invitation: Invitation, answer: UpstreamResponse, sent_at: float) -> bool:
        """Whether `invitation`, answered to a create sent at `sent_at`, existed before it."""
        if invitation.provider_invitation_id in self._claimed:
            return True  # another create was already answered with it
        seen_at = self._first_seen.get(invitation.provider_invitation_id)
        if seen_at is not None and seen_at < sent_at:
            return True  # seen before the create was sent: it cannot be the create's own
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
