"""The embedded idempotency store: one SQLite file, kept across restarts (the default).

Why this shape:

- **One connection on one private thread.** sqlite3 blocks, so every call runs on a
  single-worker executor owned by the store, which also owns the connection. A claim (select,
  then insert) is one Python function run there inside one `BEGIN IMMEDIATE` transaction, so it
  is atomic without an asyncio lock. aiosqlite would also give one thread per connection, but
  it awaits statement by statement, so the transaction would need a lock on top, and one more
  dependency.
- **`BEGIN IMMEDIATE` + WAL.** The immediate transaction takes SQLite's write lock before
  reading, so two stores on the same file (two processes on one host, or the tests' two
  "replicas") cannot both see a key free; the busy timeout makes the loser wait instead of
  failing, and WAL lets readers carry on meanwhile. SQLite locking needs a local filesystem;
  for replicas on several hosts use Redis.
- **Wall-clock expiry times** (`time.time`), because records outlive the process. Expired rows
  are ignored at once and deleted lazily, at most once per `purge_interval`, inside a claim.
- Connecting (and creating the parent directories) happens on the store's thread at first use,
  so constructing a store does no I/O.
- **Failures** of the file (it cannot be created or opened, a disk I/O error, the busy
  timeout passed) are `sqlite3.Error` or `OSError`; `unavailable` names them "SQLite", as the
  audit log does, and a keyed create is then refused rather than sent unguarded.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .base import Claim, Claimed, Completed, IdempotencyStoreUnavailable, Mismatch, Pending

T = TypeVar("T")
# What sqlite3 raises for a statement or call this module got wrong: bugs, not the file failing.
_MISUSE = (
    sqlite3.ProgrammingError,
    sqlite3.InterfaceError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.NotSupportedError,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    payload BLOB,
    expires_at REAL NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON idempotency_keys (expires_at);
"""


class SqliteIdempotencyStore:
    """Idempotency records in a table of the SQLite file at `path` (created if missing)."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        purge_interval: float = 60.0,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = path
        self._clock = clock
        self._purge_interval = purge_interval
        self._busy_timeout = busy_timeout
        self._next_purge = 0.0  # purge once at first claim: the file may hold stale rows
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="idempotency-sqlite")
        self._connection: sqlite3.Connection | None = None

    async def claim(self, scope: str, key: str, fingerprint: str, *, lease: float) -> Claim:
        return await self._call(lambda db: self._claim(db, scope, key, fingerprint, lease))

    async def complete(
        self, scope: str, key: str, token: str, payload: bytes, *, ttl: float
    ) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            now = self._clock()
            cursor = db.execute(
                "UPDATE idempotency_keys SET payload = ?, expires_at = ?"
                " WHERE scope = ? AND key = ? AND token = ? AND payload IS NULL"
                " AND expires_at > ?",
                (payload, now + ttl, scope, key, token, now),
            )
            return cursor.rowcount == 1

        return await self._call(run)

    async def release(self, scope: str, key: str, token: str) -> None:
        def run(db: sqlite3.Connection) -> None:
            db.execute(
                "DELETE FROM idempotency_keys"
                " WHERE scope = ? AND key = ? AND token = ? AND payload IS NULL",
                (scope, key, token),
            )

        await self._call(run)

    async def aclose(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=False)

    def unavailable(self, exc: Exception) -> IdempotencyStoreUnavailable | None:
        if isinstance(exc, _MISUSE) or not isinstance(exc, sqlite3.Error | OSError):
            return None
        detail = f"SQLite at {self.path} is unavailable ({type(exc).__name__}: {exc})"
        return IdempotencyStoreUnavailable("SQLite", detail=detail)

    async def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, lambda: work(self._connect())
        )

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: autocommit, so the explicit BEGIN IMMEDIATE below is ours.
            db = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
            try:
                self._enable_wal(db)
                db.executescript(_SCHEMA)
            except BaseException:
                db.close()
                raise
            self._connection = db
        return self._connection

    def _enable_wal(self, db: sqlite3.Connection) -> None:
        # Switching a new file to WAL needs an exclusive lock and SQLite answers "database is
        # locked" at once, without its busy handler, when another connection is opening the
        # same file: retry briefly, within the busy timeout.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _claim(
        self, db: sqlite3.Connection, scope: str, key: str, fingerprint: str, lease: float
    ) -> Claim:
        db.execute("BEGIN IMMEDIATE")
        try:
            now = self._clock()
            if now >= self._next_purge:
                self._next_purge = now + self._purge_interval
                db.execute("DELETE FROM idempotency_keys WHERE expires_at <= ?", (now,))
            row = db.execute(
                "SELECT fingerprint, payload FROM idempotency_keys"
                " WHERE scope = ? AND key = ? AND expires_at > ?",
                (scope, key, now),
            ).fetchone()
            if row is None:
                token = secrets.token_hex(16)
                db.execute(
                    "INSERT OR REPLACE INTO idempotency_keys"
                    " (scope, key, fingerprint, token, payload, expires_at)"
                    " VALUES (?, ?, ?, ?, NULL, ?)",
                    (scope, key, fingerprint, token, now + lease),
                )
                claim: Claim = Claimed(token)
            elif row[0] != fingerprint:
                claim = Mismatch()
            elif row[1] is not None:
                claim = Completed(bytes(row[1]))
            else:
                claim = Pending()
        except BaseException:
            if db.in_transaction:  # some errors (disk full) have rolled back already
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return claim
