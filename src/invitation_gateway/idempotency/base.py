"""The idempotency store port: what a store must do, the answers it gives, and the errors.

A store keeps one record per `(scope, key)`: the fingerprint of the request that first used the
key, and either a *claim* (someone is doing the work right now) or the *completed* payload.

- A claim is a lease: it carries a random token and expires by itself after `lease` seconds, so
  a replica that crashed mid-request cannot block a key forever. `complete` and `release` take
  the token and do nothing once the lease has passed to someone else (fencing: a slow worker
  never overwrites or frees another worker's claim).
- A completed record lives for `ttl` seconds; after that the key is free again.
- The same key with another fingerprint is a `Mismatch`, whether the record is claimed or done.

A store's methods raise its driver's own errors when the store is unreachable or failing
(`check-config` probes a store directly and reports them as they are); `unavailable(exc)` says
whether such an error is the store failing, as the domain error that names it. Deciding what a
failure means for a request (refuse the keyed create) is policy.

Implementations: `memory.py` (one process), `sqlite.py` (embedded default, survives restarts,
shared by processes on one host), `redis.py` (shared by replicas). Policy (how long to wait,
what to store on failure, what a failing store means) lives in `coordinator.py`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..domain.errors import DependencyUnavailable, InvalidInvitationInput, Problem

KEY_FIELD = ("idempotency_key",)  # the `NewInvitation` field the key came in


@dataclass(frozen=True, slots=True)
class Claimed:
    """The caller holds the key: it must do the work, then `complete` or `release` with `token`."""

    token: str


@dataclass(frozen=True, slots=True)
class Completed:
    """The work was done before: `payload` is its stored outcome, to be replayed."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used with a different request (another fingerprint)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """Another request holds a live claim on the key right now."""


Claim = Claimed | Completed | Mismatch | Pending


class IdempotencyStore(Protocol):
    """Shared memory of idempotency keys. Every method is atomic with respect to the others."""

    async def claim(self, scope: str, key: str, fingerprint: str, *, lease: float) -> Claim:
        """Claim the key for `lease` seconds if it is free (absent or expired), else say why not."""
        ...

    async def complete(
        self, scope: str, key: str, token: str, payload: bytes, *, ttl: float
    ) -> bool:
        """Store `payload` as the outcome for `ttl` seconds; False if the claim was lost."""
        ...

    async def release(self, scope: str, key: str, token: str) -> None:
        """Free the key (the work failed in a way that must not be replayed)."""
        ...

    async def aclose(self) -> None:
        """Close connections and files; the store is unusable afterwards."""
        ...

    def unavailable(self, exc: Exception) -> IdempotencyStoreUnavailable | None:
        """`exc`, raised by one of the methods above, as the store failing (unreachable, timed
        out, refusing a command), or None when it is something else (a bug: let it show)."""
        ...


class IdempotencyKeyMismatch(InvalidInvitationInput):
    """The idempotency key was already used with different input.

    A subclass of `InvalidInvitationInput` on purpose: the GraphQL layer already renders that as
    an `INVALID_INPUT` user error, here on the idempotency key, with no extra mapping.
    """

    def __init__(self) -> None:
        super().__init__([Problem(KEY_FIELD, "was already used with different input")])


class IdempotencyKeyBusy(Exception):
    """Another request with the same key is still running after the runner's wait bound.

    Not an `InvitationError`: the caller should retry later with the same key, so the gateway
    should report it as a transient top-level error, never as a user error.
    """

    def __init__(self) -> None:
        super().__init__("a request with this idempotency key is still in progress")


class IdempotencyStoreUnavailable(DependencyUnavailable):
    """The idempotency store is unreachable or failing, so a keyed create cannot be guarded.

    A `DependencyUnavailable`: the caller gets a top-level UPSTREAM_UNAVAILABLE whose
    `extensions.provider` is `dependency` ("Redis", "SQLite"), and nothing is sent upstream.
    The message is for the caller and says nothing about the deployment; `detail` is for the
    logs: where the store is and what failed, never a password.
    """

    def __init__(self, dependency: str, *, detail: str) -> None:
        super().__init__(
            f"the gateway's {dependency} is unavailable; no change was made, retry later",
            dependency=dependency,
        )
        self.detail = detail
