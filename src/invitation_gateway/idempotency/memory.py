"""An in-memory idempotency store: one process only, lost on restart (sandbox and unit tests).

Atomicity comes from asyncio itself: no method awaits, so each runs to completion on the event
loop without interleaving. The clock is injectable so tests can expire leases and TTLs without
sleeping.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from .base import Claim, Claimed, Completed, IdempotencyStoreUnavailable, Mismatch, Pending


@dataclass(slots=True)
class _Record:
    fingerprint: str
    token: str
    expires_at: float
    payload: bytes | None = None


class MemoryIdempotencyStore:
    """Keys in a dict; expired records are swept lazily, at most once per `purge_interval`."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, purge_interval: float = 60.0
    ) -> None:
        self._clock = clock
        self._purge_interval = purge_interval
        self._next_purge = clock() + purge_interval
        self._records: dict[tuple[str, str], _Record] = {}

    def __len__(self) -> int:
        """How many records are held, expired ones included until the next sweep."""
        return len(self._records)

    async def claim(self, scope: str, key: str, fingerprint: str, *, lease: float) -> Claim:
        now = self._clock()
        self._purge(now)
        record = self._live(scope, key, now)
        if record is None:
            token = secrets.token_hex(16)
            self._records[scope, key] = _Record(fingerprint, token, now + lease)
            return Claimed(token)
        if record.fingerprint != fingerprint:
            return Mismatch()
        if record.payload is not None:
            return Completed(record.payload)
        return Pending()

    async def complete(
        self, scope: str, key: str, token: str, payload: bytes, *, ttl: float
    ) -> bool:
        now = self._clock()
        record = self._live(scope, key, now)
        if record is None or record.token != token or record.payload is not None:
            return False
        record.payload = payload
        record.expires_at = now + ttl
        return True

    async def release(self, scope: str, key: str, token: str) -> None:
        record = self._live(scope, key, self._clock())
        if record is not None and record.token == token and record.payload is None:
            del self._records[scope, key]

    async def aclose(self) -> None:
        self._records.clear()

    def unavailable(self, exc: Exception) -> IdempotencyStoreUnavailable | None:
        return None  # a dict cannot go away: whatever was raised is a bug

    def _live(self, scope: str, key: str, now: float) -> _Record | None:
        record = self._records.get((scope, key))
        if record is None or record.expires_at > now:
            return record
        del self._records[scope, key]
        return None

    def _purge(self, now: float) -> None:
        if now < self._next_purge:
            return
        self._next_purge = now + self._purge_interval
        expired = [name for name, record in self._records.items() if record.expires_at <= now]
        for name in expired:
            del self._records[name]
