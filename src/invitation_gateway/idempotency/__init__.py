"""Idempotency keys for `createInvitation`: a replay returns the first outcome, never a second create.

```
IdempotentRunner (coordinator.py)   claim, run once, record, replay; waits for duplicates
  └─ IdempotencyStore (base.py)     the port: claim / complete / release, leases and TTLs
       ├─ RedisIdempotencyStore     GATEWAY_REDIS_URL set: shared by every replica
       ├─ SqliteIdempotencyStore    the embedded default: one file, survives restarts
       └─ MemoryIdempotencyStore    one process (sandbox, tests)
codec.py                            an Invitation, a replayable error or "unknown" <-> bytes
IdempotencyStoreUnavailable         the store is gone or failing (`.dependency` "Redis"/"SQLite")
```

The service calls, with `scope` naming the caller and connection:

    payload = await runner.run(scope, key, fingerprint(request), create_and_encode,
                               replayable=replayable_error)
    return decode(payload)   # the invitation, or raises the replayed error
"""

from __future__ import annotations

from pathlib import Path

from .base import (
    Claim,
    Claimed,
    Completed,
    IdempotencyKeyBusy,
    IdempotencyKeyMismatch,
    IdempotencyStore,
    IdempotencyStoreUnavailable,
    Mismatch,
    Pending,
)
from .codec import UnknownOutcome, decode, encode_invitation, encode_unknown, replayable_error
from .coordinator import IdempotentRunner, fingerprint
from .memory import MemoryIdempotencyStore
from .redis import RedisIdempotencyStore
from .sqlite import SqliteIdempotencyStore

__all__ = [
    "Claim",
    "Claimed",
    "Completed",
    "IdempotencyKeyBusy",
    "IdempotencyKeyMismatch",
    "IdempotencyStore",
    "IdempotencyStoreUnavailable",
    "IdempotentRunner",
    "MemoryIdempotencyStore",
    "Mismatch",
    "Pending",
    "RedisIdempotencyStore",
    "SqliteIdempotencyStore",
    "UnknownOutcome",
    "decode",
    "encode_invitation",
    "encode_unknown",
    "fingerprint",
    "open_store",
    "replayable_error",
]


def open_store(*, redis_url: str | None, sqlite_path: Path | None) -> IdempotencyStore:
    """Redis when a URL is given (replicas share it), else SQLite at `sqlite_path`, else memory.

    Opens nothing yet: each store connects on first use, so this is safe outside a lifespan.
    """
    if redis_url:
        return RedisIdempotencyStore.from_url(redis_url)
    if sqlite_path is not None:
        return SqliteIdempotencyStore(sqlite_path)
    return MemoryIdempotencyStore()
