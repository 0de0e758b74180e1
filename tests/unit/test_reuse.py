"""Telling a new invitation from an existing one an upstream handed back for a create."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx

from invitation_gateway.domain.invitations import (
    Invitation,
    InvitationStatus,
    InvitationTarget,
    TargetKind,
)
from invitation_gateway.providers.answers import UpstreamResponse
from invitation_gateway.providers.reuse import RecentInvitations

SENT = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
TARGET = InvitationTarget(TargetKind.CLERK_ORGANIZATION, "org_1")


def invitation(upstream_id: str, created_at: datetime | None) -> Invitation:
    return Invitation(
        target=TARGET,
        provider_invitation_id=upstream_id,
        email="a@example.com",
        status=InvitationStatus.PENDING,
        created_at=created_at,
    )


def answer(upstream_now: datetime | None) -> UpstreamResponse:
    headers = {} if upstream_now is None else {"Date": format_datetime(upstream_now, usegmt=True)}
    return UpstreamResponse(200, httpx.Headers(headers), b"{}", None)


def recent(received: datetime) -> RecentInvitations:
    return RecentInvitations(clock=lambda: received.timestamp())


def test_an_invitation_created_while_the_request_ran_is_new() -> None:
    """Created after the request was sent, by an upstream on the same clock: new."""
    created = invitation("orginv_new", SENT + timedelta(milliseconds=300))
    judge = recent(SENT + timedelta(seconds=1))
    assert not judge.is_reused(created, answer(None), SENT.timestamp())


def test_an_invitation_created_before_the_request_was_sent_is_re_used() -> None:
    """Created a day before the request: the upstream handed back an existing invitation."""
    old = invitation("orginv_old", SENT - timedelta(days=1))
    assert recent(SENT).is_reused(old, answer(None), SENT.timestamp())


class SteppedClock:
    """A wall clock standing at `at`, moved by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()


def test_an_invitation_the_gateway_saw_before_sending_is_re_used_however_new() -> None:
    """An id this connection saw before the create was sent is not new, even a second old."""
    clock = SteppedClock(SENT - timedelta(milliseconds=1))
    judge = RecentInvitations(clock=clock)
    seen = invitation("orginv_seen", SENT - timedelta(milliseconds=500))
    judge.remember([seen])
    clock.at = SENT
    sent_at = judge.now()
    clock.at = SENT + timedelta(milliseconds=200)
    assert judge.is_reused(seen, answer(None), sent_at)


def test_an_invitation_first_seen_while_the_create_ran_is_new() -> None:
    """A list that ran while the create awaited its answer saw the new id: not evidence."""
    clock = SteppedClock(SENT)
    judge = RecentInvitations(clock=clock)
    sent_at = judge.now()
    created = invitation("orginv_new", SENT + timedelta(milliseconds=100))
    clock.at = SENT + timedelta(milliseconds=300)
    judge.remember([created])  # the concurrent list
    clock.at = SENT + timedelta(milliseconds=600)
    assert not judge.is_reused(created, answer(None), sent_at)


def test_an_id_seen_again_keeps_its_first_sighting() -> None:
    """Seen before the create and again during it: the earlier sighting counts."""
    clock = SteppedClock(SENT - timedelta(seconds=1))
    judge = RecentInvitations(clock=clock)
    seen = invitation("orginv_seen", SENT - timedelta(milliseconds=1500))
    judge.remember([seen])
    clock.at = SENT + timedelta(milliseconds=300)
    judge.remember([seen])
    assert judge.is_reused(seen, answer(None), SENT.timestamp())


def test_two_overlapping_creates_answered_with_one_invitation_claim_it_once() -> None:
    """Creates A and B for one email, both sent before A's answer: Clerk re-uses A's invitation
    for B. A's answer claims it as new; B's, however close in time, is the re-used one."""
    clock = SteppedClock(SENT)
    judge = RecentInvitations(clock=clock)
    sent_a = judge.now()
    clock.at = SENT + timedelta(milliseconds=50)
    sent_b = judge.now()
    made = invitation("orginv_a", SENT + timedelta(milliseconds=20))
    clock.at = SENT + timedelta(milliseconds=300)
    assert judge.claims_new(made, answer(None), sent_a)
    clock.at = SENT + timedelta(milliseconds=350)
    assert not judge.claims_new(made, answer(None), sent_b)


def test_a_create_seen_only_during_its_own_call_is_claimed_once() -> None:
    """The concurrent list's sighting does not stop the create's own claim, and a later create
    answered with that id (a re-send) is re-used."""
    clock = SteppedClock(SENT)
    judge = RecentInvitations(clock=clock)
    sent_at = judge.now()
    created = invitation("orginv_new", SENT + timedelta(milliseconds=100))
    clock.at = SENT + timedelta(milliseconds=300)
    judge.remember([created])  # the concurrent list
    assert judge.claims_new(created, answer(None), sent_at)
    assert not judge.claims_new(created, answer(None), sent_at + 1)


def test_an_upstream_clock_behind_ours_does_not_make_a_new_invitation_look_old() -> None:
    """Upstream 30 s behind: its Date header moves the send time onto its clock."""
    skew = timedelta(seconds=-30)
    created = invitation("orginv_new", SENT + skew + timedelta(milliseconds=200))
    received = SENT + timedelta(milliseconds=400)
    judged = recent(received).is_reused(created, answer(received + skew), SENT.timestamp())
    assert not judged
    assert recent(received).is_reused(created, answer(None), SENT.timestamp())  # without it


def test_an_invitation_without_a_creation_time_is_taken_as_new() -> None:
    """No created_at and an unseen id: nothing says it existed before."""
    assert not recent(SENT).is_reused(invitation("x", None), answer(None), SENT.timestamp())


def test_only_the_most_recent_ids_are_remembered() -> None:
    """The memory is bounded: the oldest id is forgotten first."""
    judge = RecentInvitations(clock=lambda: SENT.timestamp(), size=2)
    first, second, third = (invitation(i, SENT + timedelta(seconds=5)) for i in "abc")
    judge.remember([first, second, third])
    later = (SENT + timedelta(seconds=1)).timestamp()
    assert not judge.is_reused(first, answer(None), later)
    assert judge.is_reused(third, answer(None), later)
