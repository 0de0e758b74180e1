"""The use cases: create (one or many), revoke and read invitations, routed to the right adapter.

Input is validated and the target resolved before any upstream is called, so input that is
already known to be wrong never costs an upstream request. The GraphQL layer calls this; it
never sees an adapter directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Literal, Protocol

from ..callers.identity import Caller
from ..domain.errors import (
    InvalidInvitationInput,
    InvitationError,
    InvitationForbidden,
    InvitationNotFound,
    Problem,
)
from ..domain.invitations import (
    Invitation,
    InvitationRef,
    InvitationStatus,
    InvitationTarget,
    NewInvitation,
    TargetKind,
)
from ..domain.validation import validate_new_invitation
from ..idempotency import IdempotentRunner
from ..providers.base import CircuitState, ConnectionInfo, InvitationPort
from .accounting import Accounting
from .bulk import BulkCreate
from .connections import Connections
from .keyed import KeyedCreate
from .listing import MAX_FIRST, MAX_TARGETS, MergedPage, merged_page

MAX_BULK = 100


def _utc_now() -> datetime:
    return datetime.now(UTC)


__all__ = ["MAX_BULK", "MAX_FIRST", "MAX_TARGETS", "InvitationService", "MergedPage"]


Action = Literal["read", "create", "revoke"]


class Authorizer(Protocol):
    """The authorization policy, as the service asks it (`callers/policy.py`: deny by default)."""

    def allows(
        self, caller: Caller, action: Action, target: InvitationTarget, roles: Sequence[str] = ()
    ) -> bool: ...

    def reaches(self, caller: Caller, kinds: Iterable[TargetKind], connection: str) -> bool: ...


class InvitationService:
    """Routes each operation to the adapter serving its target, for an authorized caller.

    Authorization is decided on the resolved target before any upstream call, the same whether
    the target exists or not: a denied create or revoke is FORBIDDEN, a denied read is "no such
    invitation", a denied list target is a FORBIDDEN target error. Without a policy (auth
    disabled and no policy file) every caller may do everything.
    """

    def __init__(
        self,
        connections: Connections,
        idempotency: IdempotentRunner | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        policy: Authorizer | None = None,
        accounting: Accounting | None = None,
    ) -> None:
        self.connections = connections
        self._idempotency = idempotency
        self._policy = policy
        self._clock = clock
        self._accounting = accounting or Accounting()  # no audit log, no budgets
        self._bulk = BulkCreate(
            self._accounting, self._prepare, self._record_refusal, self._create_recorded
        )

    async def connection_health(self) -> list[tuple[ConnectionInfo, CircuitState]]:
        """Each connection with the state of its circuit breaker."""
        return [(c.info, await c.circuit()) for c in self.connections.all]

    async def connections_for(self, caller: Caller) -> list[tuple[ConnectionInfo, CircuitState]]:
        """The connections `caller` may do anything on, with their breakers' states: the
        others' names, default targets and health are none of its business."""
        policy = self._policy
        return [
            (c.info, await c.circuit())
            for c in self.connections.all
            if policy is None or policy.reaches(caller, c.info.kinds, c.info.name)
        ]

    async def create(self, draft: NewInvitation, *, caller: Caller) -> Invitation:
        """Create one invitation; with an idempotency key, at most once per key and caller.

        Charged to the caller's create budget first, then audited (`started` before any
        upstream call, completed after), whatever the outcome.
        """
        await self._accounting.charge_creates(caller, 1)
        return await self._create_recorded(draft, caller)

    async def _create_recorded(self, draft: NewInvitation, caller: Caller) -> Invitation:
        try:
            port, new = self._prepare(draft, caller)
        except (InvalidInvitationInput, InvitationForbidden) as exc:
            await self._record_refusal(caller, draft, exc)
            raise
        async with self._accounting.recorded(
            caller,
            "create",
            self._record_target(draft.target),
            email=draft.email,
            roles=draft.roles,
            attempt=new,  # the adapter marks the call carrying it (request id)
        ) as recording:
            recording.invitation = await self._create(port, new, caller)
            return recording.invitation

    async def _create(self, port: InvitationPort, new: NewInvitation, caller: Caller) -> Invitation:
        if new.idempotency_key is None or self._idempotency is None:
            return await port.create(new)
        # Keys are scoped per caller and connection: two callers (or two Clerk instances) can
        # never replay each other's results.
        scope = f"{caller.id}|{new.target.provider.value}|{new.target.connection}"
        keyed = KeyedCreate(
            self._idempotency, port, new, key=new.idempotency_key, scope=scope, clock=self._clock
        )
        return await keyed.run()

    async def create_many(
        self, drafts: Sequence[NewInvitation], *, caller: Caller
    ) -> list[Invitation | Exception]:
        """One result per draft, in input order; a failing item never hides the others
        (`bulk.py`: batched per adapter, keyed items one by one)."""
        if not 1 <= len(drafts) <= MAX_BULK:
            raise InvalidInvitationInput.at(
                ("invitations",), f"must hold 1 to {MAX_BULK} invitations"
            )
        # Every item counts against the create budget; over it, the whole call is refused.
        await self._accounting.charge_creates(caller, len(drafts))
        return await self._bulk.run(drafts, caller)

    async def revoke(self, ref: InvitationRef, *, caller: Caller) -> Invitation:
        """Revoke, audited: the record names the invitation from `started` on, and its email
        once the upstream's answer names the invitation."""
        # The target comes from the id, and the upstream path includes it: a forged id naming
        # another target is judged (and reaches) that other target, never this caller's own.
        try:  # refused before any upstream call: one write, already complete
            port = self._port(ref)
            if not self._allows(caller, "revoke", ref.target):
                raise _forbidden("revoke invitations in this target", field=None)
        except InvitationError as exc:
            given = self._accounting.global_id(ref)
            await self._accounting.refused(caller, "revoke", ref.target, exc, invitation_id=given)
            raise
        async with self._accounting.recorded(caller, "revoke", ref.target, ref=ref) as recording:
            requester = _acting_user(caller, ref.target)
            recording.invitation = await port.revoke(ref, requester=requester)
            return recording.invitation

    async def record_malformed_revoke(
        self, given_id: str, error: InvitationError, *, caller: Caller
    ) -> None:
        """Record a revoke refused because its id is not one this gateway issued: the target
        is unknown, and the id is kept as given (escaped and capped)."""
        await self._accounting.refused(caller, "revoke", None, error, invitation_id=given_id)

    async def get(self, ref: InvitationRef, *, caller: Caller) -> Invitation | None:
        """The invitation, or None: unknown and not readable by this caller look the same."""
        port = self._port_or_none(ref)
        if port is None or not self._allows(caller, "read", ref.target):
            return None
        return await port.get(ref)

    async def list(
        self,
        targets: Sequence[InvitationTarget],
        *,
        statuses: frozenset[InvitationStatus] = frozenset(),
        email: str | None = None,
        first: int = 20,
        after: str | None = None,
        caller: Caller,
    ) -> MergedPage:
        return await merged_page(
            self.connections,
            targets,
            statuses=statuses,
            email=email,
            first=first,
            after=after,
            readable=lambda target: self._allows(caller, "read", target),
        )

    def _prepare(
        self, draft: NewInvitation, caller: Caller
    ) -> tuple[InvitationPort, NewInvitation]:
        """Resolve the target, validate and authorize, before any upstream call.

        Every problem of the input is reported at once; a valid request the policy refuses is
        FORBIDDEN. A Clerk user creating in a Clerk organization is named to Clerk as the
        inviter, so Clerk checks their membership too (a second line of defence).
        """
        problems: list[Problem] = []
        target = draft.target
        port: InvitationPort | None = None
        try:
            port, target = self.connections.resolve(target.kind, target.id, target.connection)
        except InvalidInvitationInput as exc:
            problems.extend(exc.problems)
        try:
            new = validate_new_invitation(replace(draft, target=target))
        except InvalidInvitationInput as exc:
            # When the target did not resolve, its own problems are already reported.
            problems.extend(
                p for p in exc.problems if port is not None or p.field[:1] != ("target",)
            )
        if problems or port is None:
            raise InvalidInvitationInput(problems)
        if not self._allows(caller, "create", new.target, new.roles):
            raise _forbidden("invite into this target with these roles", field=("target",))
        return port, replace(new, inviter_user_id=_acting_user(caller, new.target))

    def _record_target(self, requested: InvitationTarget) -> InvitationTarget:
        """The target an audit record names: resolved when it can be, as asked when not."""
        try:
            return self.connections.resolve(requested.kind, requested.id, requested.connection)[1]
        except InvalidInvitationInput:
            return requested

    async def _record_refusal(self, caller: Caller, draft: NewInvitation, exc: Exception) -> None:
        """An attempt refused before any upstream call is still recorded, in one write."""
        await self._accounting.refused(
            caller,
            "create",
            self._record_target(draft.target),
            exc,
            email=draft.email,
            roles=draft.roles,
        )

    def _allows(
        self, caller: Caller, action: Action, target: InvitationTarget, roles: Sequence[str] = ()
    ) -> bool:
        return self._policy is None or self._policy.allows(caller, action, target, roles)

    def _port_or_none(self, ref: InvitationRef) -> InvitationPort | None:
        return self.connections.port_for(ref.target)

    def _port(self, ref: InvitationRef) -> InvitationPort:
        # A global id naming a connection or kind this gateway does not serve cannot name an
        # invitation it can reach: that is "not found", whoever forged or outlived it.
        port = self.connections.port_for(ref.target)
        if port is None:
            raise InvitationNotFound("no such invitation")
        return port


def _forbidden(what: str, *, field: tuple[str, ...] | None) -> InvitationForbidden:
    return InvitationForbidden(f"you are not allowed to {what}", field=field)


def _acting_user(caller: Caller, target: InvitationTarget) -> str | None:
    """The Clerk user to name to Clerk for an organization target (DESIGN.md "Policy")."""
    return caller.clerk_user_id if target.kind is TargetKind.CLERK_ORGANIZATION else None
