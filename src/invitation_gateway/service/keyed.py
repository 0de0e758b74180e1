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
                made = await self._made_since(after.started_at - RECOVERY_SKEW)
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

    async def _made_since(self, since: datetime) -> Invitation | None:
        """The invitation a lost create made (whatever its status now), if it made one."""
        new = self._new
        found = await find_by_email(self._port, new.target, new.email)
        made = [i for i in found if i.created_at is not None and i.created_at >= since]
        return min(
            made, key=lambda i: (i.created_at or since, i.provider_invitation_id), default=None
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
