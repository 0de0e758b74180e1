"""`createInvitation` with an idempotency key: at most once per key, even when an answer is lost.

The runner (`idempotency/`) replays a stored outcome for a repeated key. One outcome needs more
than a replay: the create reached the upstream and its answer was lost (a dropped connection, a
read timeout, a 5xx sent after the fact). The upstream may have created the invitation and sent
its email, so the caller gets UPSTREAM_UNAVAILABLE or UPSTREAM_TIMEOUT, and the key records
"unknown since <time>" instead of being freed. A retry with the same key then reads back what
that create left behind (by email and target) and answers with it, rather than sending the
create again and answering ALREADY_EXISTS about the caller's own invitation. When the read-back
finds nothing, the create never happened and is sent again, under a key derived from the
caller's so that this attempt, too, happens at most once.

Reading back is a judgement, made as narrowly as the upstreams allow: an invitation counts as
the lost create's only if it is for the same email and target, was made no earlier than the
lost request's start less `RECOVERY_SKEW` (the upstream's clock may be behind ours), and carries
what the create asked for, when the upstream records it: the same roles, and the inviter the
gateway named (a Clerk user). Of those, the one made nearest the lost request wins: the first
made at or after its start, else the last made before it. What stays possible is adopting an
invitation identical in all of these that someone else made while the lost create in fact did
nothing (README "Answers lost after the upstream acted").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..domain.errors import OperationInProgress, ProviderUnavailable
from ..domain.invitations import Invitation, NewInvitation
from ..idempotency import (
    IdempotencyKeyBusy,
    IdempotentRunner,
    UnknownOutcome,
    decode,
    encode_invitation,
    encode_unknown,
    fingerprint,
    replayable_error,
)
from ..providers.base import InvitationPort, find_by_email

RECOVERY_SKEW = timedelta(seconds=5)  # upstream vs gateway clocks, when reading back a create
MAX_ATTEMPTS = 3  # creates sent for one key whose answers were all lost, before giving up


class KeyedCreate:
    """One keyed create request: its runner, adapter, validated input and scope."""

    def __init__(
        self,
        runner: IdempotentRunner,
        port: InvitationPort,
        new: NewInvitation,
        *,
        key: str,
        scope: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._runner = runner
        self._port = port
        self._new = new
        self._key = key
        self._scope = scope
        self._clock = clock

    async def run(self, attempt: int = 0, after: UnknownOutcome | None = None) -> Invitation:
        """The invitation, created now or replayed; raises the (stored) error otherwise.

        `after` is the lost attempt this one follows: its work reads back first, and whatever
        it answers is stored under this attempt's own key, so every later replay is the same.
        """
        started_at = self._clock()

        async def work() -> bytes:
            if after is not None:
                made = await self._made_by_lost_create(after.started_at)
                if made is not None:
                    return encode_invitation(made)
                if attempt >= MAX_ATTEMPTS:
                    raise ProviderUnavailable(
                        "the outcome of this request could not be determined; check the"
                        " invitations for this email before creating it again",
                        provider=self._new.target.provider,
                    )
            return encode_invitation(await self._port.create(self._new))

        def replayable(exc: BaseException) -> bytes | None:
            if isinstance(exc, ProviderUnavailable) and exc.may_have_acted:
                return encode_unknown(started_at, attempt)
            return replayable_error(exc)

        key = self._key if attempt == 0 else f"{self._key}#after-unknown-{attempt}"
        try:
            payload = await self._runner.run(
                self._scope, key, request_fingerprint(self._new), work, replayable=replayable
            )
        except IdempotencyKeyBusy as exc:
            raise OperationInProgress(
                "an earlier request with this idempotency key is still in progress; retry later"
            ) from exc
        try:
            return decode(payload)
        except UnknownOutcome as unknown:
            return await self.run(unknown.attempt + 1, after=unknown)

    async def _made_by_lost_create(self, started_at: datetime) -> Invitation | None:
        """The invitation a create started at `started_at` made (whatever its status now), if
        it made one: see the module's docstring for what counts."""
        new = self._new
        found = await find_by_email(self._port, new.target, new.email)
        since = started_at - RECOVERY_SKEW
        made = [
            (i, i.created_at)
            for i in found
            if i.created_at is not None and i.created_at >= since and _could_be_from(new, i)
        ]
        nearest = min(
            made,
            key=lambda pair: (
                pair[1] < started_at,  # made after the request started: first choice
                abs(pair[1] - started_at),
                pair[0].provider_invitation_id,
            ),
            default=None,
        )
        return nearest[0] if nearest is not None else None


def _could_be_from(new: NewInvitation, invitation: Invitation) -> bool:
    """Whether `invitation` could be what creating `new` made, by what the upstream records.

    An empty record proves nothing (an upstream may leave a field out of its answer); a
    different one rules the invitation out. Both upstreams record the roles asked for as they
    were asked (Clerk requires one; ConductorOne's `initialRoleIds` are optional, with no
    documented default: conductorone-notes.md), so no roles asked and some recorded differ. ConductorOne records the gateway's own credential as
    inviter, the same for every create, so only an inviter the gateway named is compared.
    """
    if invitation.roles and set(invitation.roles) != set(new.roles):
        return False
    return not (
        new.inviter_user_id is not None
        and invitation.invited_by is not None
        and invitation.invited_by != new.inviter_user_id
    )


def request_fingerprint(new: NewInvitation) -> str:
    """What makes two requests with one key "the same": every input but the key itself."""
    return fingerprint(
        {
            "target": [new.target.kind.value, new.target.id, new.target.connection],
            "email": new.email,
            "display_name": new.display_name,
            "roles": list(new.roles),
            "purpose": new.purpose,
            "redirect_url": new.redirect_url,
            "expires_in_days": new.expires_in_days,
            "notify": new.notify,
            "public_metadata": new.public_metadata,
        }
    )
