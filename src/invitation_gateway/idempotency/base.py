"""The idempotency store port: what a store must do, the answers it gives, and the errors.

A store keeps one record per `(scope, key)`: the fingerprint of the request that first used the
key, and either a *claim* (someone is doing the work right now) or the *completed* payload.

- A claim is a lease: it carries a random token and expires by itself after `lease` seconds, so
  a replica that crashed mid-request cannot block a key forever. `complete` and `release` take
  the token and do nothing once the lease has passed to someone else (fencing: a slow worker
  never overwrites or frees another worker's claim).
- A completed record lives for `ttl` seconds; after that the key is free again.
- The same key with another fingerprint is a `Mismatch`, whether the record is claimed or done.

Implementations: `memory.py` (one process), `sqlite.py` (embedded default, survives restarts,
shared by processes on one host), `redis.py` (shared by replicas). Policy (how long to wait,
what to store on failure) lives in `coordinator.py`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..domain.errors import InvalidInvitationInput, Problem

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
