"""Runs a piece of work at most once per idempotency key, over any `IdempotencyStore`.

`IdempotentRunner.run` claims the key in the store, then:

- **Claimed**: run `work()`, store its bytes for `ttl` and return them. If it raises, ask
  `replayable(exc)`: bytes are stored as the outcome (a replay repeats e.g. ALREADY_EXISTS) and
  the error is re-raised; None releases the key (an upstream outage must not be replayed, the
  next attempt may try again) and re-raises.
- **Completed**: return the stored bytes without running anything.
- **Mismatch**: raise `IdempotencyKeyMismatch`.
- **Pending**: another request holds the key: poll the store with a growing delay until it is
  completed (return that), released or its lease expired (claim it and run), or `wait` seconds
  have passed (raise `IdempotencyKeyBusy`). The wait bound defaults to the lease, so a waiter
  outlives the claim of a replica that crashed.

Within one process, duplicates do not each talk to the store: the first request for a key
leads, the others await its outcome (one `asyncio.Future` per key), so 50 concurrent duplicates
cost one claim and one poll loop, not fifty.

The lease must outlast the work (the upstream timeout budget), or a second replica may claim
the key while the first is still working; `complete` then reports the lost claim and it is
logged.

A store that fails while claiming (Redis gone, the SQLite file unusable) raises the store's
`IdempotencyStoreUnavailable` before any work runs: the keyed create is refused with
UPSTREAM_UNAVAILABLE naming the store, rather than sent unguarded. Once the work has run, a
failing store cannot undo it: the outcome is returned and the failure logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum

import stamina

from ..telemetry.request import current_request
from .base import (
    Claim,
    Claimed,
    Completed,
    IdempotencyKeyBusy,
    IdempotencyKeyMismatch,
    IdempotencyStore,
    Mismatch,
)

logger = logging.getLogger(__name__)

# Recording a completed create is worth a few tries: a store that drops it lets the key's lease
# expire, and a retry with that key then sends the create again. The fast per-call timeouts of
# a claim (a refusal the caller sees at once) would otherwise apply here too.
COMPLETE_ATTEMPTS = 4
COMPLETE_BUDGET = 5.0  # seconds, all attempts and waits; well inside the lease

Work = Callable[[], Awaitable[bytes]]
Replayable = Callable[[BaseException], bytes | None]

# What the leader tells the other in-process duplicates: the bytes to return, an error to
# raise, or None when the key was released and one of them should claim it next.
_Outcome = bytes | BaseException | None


@dataclass(slots=True)
class _Flight:
    """The leader's request in this process; `outcome` resolves once it has left the table."""

    fingerprint: str
    outcome: asyncio.Future[_Outcome]
    shared: _Outcome = None
    settled: bool = False

    def settle(self, shared: _Outcome) -> None:
        self.shared, self.settled = shared, True


class IdempotentRunner:
    """At-most-once execution per `(scope, key)`.

    `scope` names the caller and connection (stable and not secret: it is stored), so two
    callers never see each other's keys; `ttl` is how long a completed outcome is replayed,
    `lease` how long a claim lives without completing, `wait` how long a duplicate waits.
    """

    def __init__(
        self,
        store: IdempotencyStore,
        *,
        ttl: float = 24 * 3600.0,
        lease: float = 60.0,
        wait: float | None = None,
        poll_initial: float = 0.02,
        poll_max: float = 0.25,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.lease = lease
        self.wait = lease if wait is None else wait
        self._poll_initial = poll_initial
        self._poll_max = poll_max
        self._flights: dict[tuple[str, str], _Flight] = {}

    async def run(
        self, scope: str, key: str, fingerprint: str, work: Work, *, replayable: Replayable
    ) -> bytes:
        """The outcome of `work` for this key: run now, replayed, or awaited from a duplicate."""
        while True:
            flight = self._flights.get((scope, key))
            if flight is None:
                return await self._lead(scope, key, fingerprint, work, replayable)
            if flight.fingerprint != fingerprint:
                raise IdempotencyKeyMismatch()
            # shield: a duplicate giving up must not cancel the outcome the others await.
            outcome = await asyncio.shield(flight.outcome)
            if isinstance(outcome, BaseException):
                raise outcome
            if outcome is not None:
                _note_replay()
                return outcome
            # The leader released the key; loop, and the first of us to get here leads next.

    async def _lead(
        self, scope: str, key: str, fingerprint: str, work: Work, replayable: Replayable
    ) -> bytes:
        flight = _Flight(fingerprint, asyncio.get_running_loop().create_future())
        self._flights[scope, key] = flight
        try:
            return await self._claim_and_run(scope, key, flight, work, replayable)
        except Exception as exc:
            if not flight.settled:  # a store failure, a mismatch, the wait bound
                flight.settle(exc)
            raise
        finally:
            # Leave the table first: a duplicate told None must find no leader, or a new one.
            # When cancelled unsettled, None lets a duplicate take over.
            del self._flights[scope, key]
            flight.outcome.set_result(flight.shared)

    async def _claim_and_run(
        self,
        scope: str,
        key: str,
        flight: _Flight,
        work: Work,
        replayable: Replayable,
    ) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        delay = self._poll_initial
        while True:
            claim = await self._claim(scope, key, flight.fingerprint)
            match claim:
                case Claimed(token):
                    return await self._run_claimed(scope, key, token, flight, work, replayable)
                case Completed(payload):
                    flight.settle(payload)
                    _note_replay()
                    return payload
                case Mismatch():
                    raise IdempotencyKeyMismatch()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise IdempotencyKeyBusy()
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, self._poll_max)

    async def _run_claimed(
        self,
        scope: str,
        key: str,
        token: str,
        flight: _Flight,
        work: Work,
        replayable: Replayable,
    ) -> bytes:
        try:
            payload = await work()
        except BaseException as exc:
            stored = replayable(exc) if isinstance(exc, Exception) else None
            if stored is not None:
                # Duplicates waiting now share the error itself, as the leader raises it: the
                # stored bytes are for later replays (and may mean "unknown, read it back").
                flight.settle(exc)
                # shield: recording the outcome must finish even if this request is cancelled.
                await asyncio.shield(self._complete(scope, key, token, stored))
                raise
            # Not replayed later, so a retry with the key may try again. The duplicates waiting
            # right now share this failure instead of each sending the request again (an
            # upstream that just failed may have acted, and is not to be hammered); only a
            # cancellation (the caller went away) hands the work to one of them.
            flight.settle(exc if isinstance(exc, Exception) else None)
            await asyncio.shield(self._release(scope, key, token))
            raise
        flight.settle(payload)
        await asyncio.shield(self._complete(scope, key, token, payload))
        return payload

    async def _claim(self, scope: str, key: str, fingerprint: str) -> Claim:
        try:
            return await self.store.claim(scope, key, fingerprint, lease=self.lease)
        except Exception as exc:
            down = self.store.unavailable(exc)
            if down is None:
                raise
            logger.error("idempotency: %s; keyed creates are refused meanwhile", down.detail)
            # Cut the chain: the driver's error (and its traceback) stays out of the answer.
            raise down from None

    async def _release(self, scope: str, key: str, token: str) -> None:
        # The work's own error is what the caller must see; if the key cannot be released now,
        # its lease frees it later.
        try:
            await self.store.release(scope, key, token)
        except Exception as exc:
            self._log_failure(exc, "could not release a claim; its lease will free it")

    async def _complete(self, scope: str, key: str, token: str, payload: bytes) -> None:
        # The work is done upstream whatever happens here: its result is returned even when it
        # cannot be recorded, and the failure is logged rather than shown to the caller.
        try:
            async for attempt in stamina.retry_context(
                on=self._store_failed,
                attempts=COMPLETE_ATTEMPTS,
                timeout=COMPLETE_BUDGET,
                wait_initial=0.05,
                wait_max=1.0,
                wait_jitter=0.05,
            ):
                with attempt:
                    recorded = await self.store.complete(scope, key, token, payload, ttl=self.ttl)
        except Exception as exc:
            self._log_failure(exc, "could not record the outcome of a request")
            return
        if not recorded:
            logger.warning(
                "idempotency: the claim expired before the work finished;"
                " the lease (%.1f s) should outlast the upstream timeouts",
                self.lease,
            )

    def _store_failed(self, exc: Exception) -> bool:
        """Whether `exc` is the store failing (worth another try), not a bug of ours."""
        return self.store.unavailable(exc) is not None

    def _log_failure(self, exc: Exception, what: str) -> None:
        down = self.store.unavailable(exc)
        if down is None:  # not the store failing: a bug, with its traceback
            logger.exception("idempotency: %s", what)
        else:  # the store's own account, scrubbed of passwords
            logger.error("idempotency: %s: %s", what, down.detail)


def fingerprint(value: Mapping[str, object]) -> str:
    """sha256 of `value` as canonical JSON (sorted keys, no spaces): equal input, equal print."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):  # datetime included
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def _note_replay() -> None:
    """Count the answer as a replay on the request's record (`gateway_idempotent_replays`)."""
    record = current_request()
    if record is not None:
        record.replays += 1
