"""Accountability around every mutation: the audit record, and the caller's create budget.

Each create (each bulk item) and each revoke gets an audit record written *before* any upstream
call (`started`) and completed after it (`ok` or the error code), with the request id of the
upstream call that carried it (`request_ids.py`). A call cancelled mid-way (the client went
away, the server is stopping) leaves its record `started`: the upstream may have acted, so no
outcome is claimed. Creates are charged to the caller's budget first (a refusal costs no
upstream call and no record). When the audit log or the limiter is unreachable, the mutation
stops with `DependencyUnavailable` rather than running unaudited or unlimited (README "Audit
log").

The stores are reached through the small protocols below; the composition root wires the real
ones (`audit/`, `limits/`) and the two edge translations (outcome code, global id).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from ..callers.identity import Caller
from ..domain.audit import UNKNOWN_TARGET, Action, AuditEntry, AuditTarget
from ..domain.errors import (
    CallerRateLimited,
    DependencyUnavailable,
    InvalidInvitationInput,
    InvitationNotRevocable,
)
from ..domain.invitations import Invitation, InvitationRef, InvitationTarget
from ..telemetry.request import note_budget
from .request_ids import Heard, hearing

logger = logging.getLogger(__name__)


_MAX_FIELD = 512  # longer than any valid email, id or role; invalid input is cut, not refused


def _storable(text: str) -> str:
    """Caller input as a store takes it, whatever it is (this runs before validation): lone
    surrogates escaped, NUL removed, length capped. The record shows what was attempted."""
    safe = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "")
    return safe[:_MAX_FIELD]


class AuditSink(Protocol):
    async def start(self, entry: AuditEntry) -> int: ...

    async def refused(self, entry: AuditEntry, outcome: str) -> int: ...

    async def complete(
        self,
        record_id: int,
        *,
        outcome: str,
        invitation_id: str | None,
        upstream_request_id: str | None,
        email: str | None = None,
    ) -> None: ...


class _Decision(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def retry_after(self) -> float: ...


class Limiter(Protocol):
    async def take(self, caller: str, budget: str, cost: int, per_minute: int) -> _Decision: ...


@dataclass(slots=True)
class Recording:
    """What an audited operation reports back: the invitation it made or touched, and the
    attempt (the object it handed the adapter) whose upstream call's request id to record."""

    invitation: Invitation | None = None
    attempt: object | None = None
    heard: Heard = field(default_factory=Heard)

    @property
    def request_id(self) -> str | None:
        return self.heard.about(self.attempt) if self.attempt is not None else None


@dataclass(frozen=True, slots=True)
class Accounting:
    """The audit log and the create budget, as the service uses them (either may be absent)."""

    # The edge's translations for records; without an audit log they are never called.
    outcome_code: Callable[[BaseException], str] = lambda exc: type(exc).__name__
    global_id: Callable[[InvitationRef], str] = lambda ref: ref.provider_invitation_id
    audit: AuditSink | None = None
    audit_backend: str = "audit log"
    limiter: Limiter | None = None
    limiter_backend: str = "rate limiter"
    creates_per_minute: int = 60

    async def charge_creates(self, caller: Caller, count: int) -> None:
        """Take `count` creates from the caller's budget, all or nothing, or refuse them all."""
        if count > self.creates_per_minute:
            # Could never fit the budget, however long the caller waits: not a "retry later".
            raise InvalidInvitationInput.at(
                ("invitations",),
                f"holds more than the {self.creates_per_minute} invitations you may create"
                " a minute; split it",
            )
        if self.limiter is None:
            return
        try:
            decision = await self.limiter.take(caller.id, "creates", count, self.creates_per_minute)
        except Exception as exc:
            raise self._down(self.limiter_backend) from exc
        if not decision.allowed:
            note_budget("creates")
            raise CallerRateLimited(
                f"over your budget of {self.creates_per_minute} invitations a minute",
                retry_after=decision.retry_after,
            )

    async def begin(
        self,
        caller: Caller,
        action: Action,
        target: InvitationTarget,
        *,
        email: str | None = None,
        roles: tuple[str, ...] = (),
        ref: InvitationRef | None = None,
    ) -> int | None:
        """Write the `started` record (None without an audit log); before any upstream call.

        A revoke's record names its invitation (`ref`) from the start, so that a record a
        killed process left `started` still says which invitation was being revoked."""
        if self.audit is None:
            return None
        invitation_id = self.global_id(ref) if ref is not None else None
        entry = _entry(caller, action, target, email, roles, invitation_id)
        try:
            return await self.audit.start(entry)
        except Exception as exc:
            raise self._down(self.audit_backend) from exc

    async def refused(
        self,
        caller: Caller,
        action: Action,
        target: InvitationTarget | None,
        error: BaseException,
        *,
        email: str | None = None,
        roles: tuple[str, ...] = (),
        invitation_id: str | None = None,
    ) -> None:
        """Record an attempt refused before any upstream call (bad input, the policy): one
        write, already complete, where an attempt that reaches an upstream takes two.

        `target` None: the attempt named no target the gateway could read (a malformed global
        id, then given as `invitation_id`, stored as given: escaped and capped)."""
        if self.audit is None:
            return
        entry = _entry(caller, action, target, email, roles, invitation_id)
        try:
            await self.audit.refused(entry, self.outcome_code(error))
        except Exception as exc:
            raise self._down(self.audit_backend) from exc

    async def finish(
        self, record_id: int | None, result: Invitation | BaseException, request_id: str | None
    ) -> None:
        """Complete the record with the outcome. The upstream has acted (or refused): its
        answer goes back to the caller whatever happens here; a record left `started` is what
        the start-up report counts.

        The invitation the upstream answered with (or, for NOT_REVOCABLE, the one it still
        holds) gives the record its global id and, for a revoke, its email."""
        if self.audit is None or record_id is None:
            return
        invitation = _invitation_of(result)
        outcome = "ok" if isinstance(result, Invitation) else self.outcome_code(result)
        try:
            await self.audit.complete(
                record_id,
                outcome=outcome,
                invitation_id=self.global_id(invitation.ref) if invitation else None,
                upstream_request_id=_storable(request_id) if request_id else None,
                email=_storable(invitation.email) if invitation else None,
            )
        except Exception:
            logger.exception("audit: could not complete record %s", record_id)

    @asynccontextmanager
    async def recorded(
        self,
        caller: Caller,
        action: Action,
        target: InvitationTarget,
        *,
        email: str | None = None,
        roles: tuple[str, ...] = (),
        ref: InvitationRef | None = None,
        attempt: object | None = None,
    ) -> AsyncIterator[Recording]:
        """`begin`, run the body (it sets `recording.invitation`), `finish` with its outcome.

        `attempt` is what the body hands the adapter, whose call's request id is recorded: a
        create's `NewInvitation`; a revoke's is its `ref`.

        A body cancelled (or interrupted) mid-way leaves the record `started`: its upstream
        call may have been sent and acted on, so claiming an outcome (INTERNAL) would be false.
        """
        recording = Recording(attempt=attempt if attempt is not None else ref)
        record_id = await self.begin(caller, action, target, email=email, roles=roles, ref=ref)
        with hearing(recording.heard):
            try:
                yield recording
            except Exception as exc:
                await self.finish(record_id, exc, recording.request_id)
                raise
            except BaseException:
                if record_id is not None:
                    logger.warning(
                        "audit: %s record %s left `started`: the call was cancelled mid-way,"
                        " and the upstream may have acted",
                        action,
                        record_id,
                    )
                raise
        await self.finish(
            record_id,
            recording.invitation if recording.invitation is not None else RuntimeError(),
            recording.request_id,
        )

    def _down(self, backend: str) -> DependencyUnavailable:
        return DependencyUnavailable(
            f"the gateway's {backend} is unavailable; no change was made, retry later",
            dependency=backend,
        )


def _entry(
    caller: Caller,
    action: Action,
    target: InvitationTarget | None,
    email: str | None,
    roles: tuple[str, ...],
    invitation_id: str | None,
) -> AuditEntry:
    """The record of an attempt, every field storable whatever the input (escaped, capped)."""
    return AuditEntry(
        caller=_storable(caller.id),
        action=action,
        target=_audit_target(target),
        email=_storable(email) if email is not None else None,
        roles=tuple(_storable(role) for role in roles),
        invitation_id=_storable(invitation_id) if invitation_id is not None else None,
    )


def _audit_target(target: InvitationTarget | None) -> AuditTarget:
    if target is None:
        return UNKNOWN_TARGET
    return AuditTarget(
        target.kind.value,
        _storable(target.id) if target.id is not None else None,
        _storable(target.connection or "default"),
    )


def _invitation_of(result: Invitation | BaseException) -> Invitation | None:
    """The invitation an outcome names: the one made or revoked, or the one not revocable."""
    if isinstance(result, Invitation):
        return result
    if isinstance(result, InvitationNotRevocable):
        return result.invitation
    return None
