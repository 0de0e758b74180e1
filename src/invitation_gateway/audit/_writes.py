"""How one audit write reaches its store: the hot path, one statement before every mutation.

`Writes.run(statement, values)` runs one self-committing statement and returns its first
scalar (an INSERT's RETURNING id) and its row count.

- **PostgreSQL**: the async engine (asyncpg) in AUTOCOMMIT: one round trip, no BEGIN/COMMIT.
- **SQLite**: a synchronous engine (the standard library's sqlite3) on a thread of its own,
  one hop there and back per write. Through aiosqlite every statement took about ten hops
  between the event loop and aiosqlite's thread (cursor, execute, fetch, close...), and those
  hops, not SQLite, were most of a request's CPU: 2.5-3 ms of the gateway's 5 per create
  (measured in process, README "Performance"). SQLite runs one writer at a time anyway, so one
  thread loses nothing.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, Executable
from sqlalchemy.ext.asyncio import AsyncEngine

BEGIN_OPTION = "audit_begin"
"""Execution option for SQLite: how a transaction opens ("none", "immediate"); `_engine.py`."""


@dataclass(frozen=True, slots=True)
class Written:
    """What a write returned: its first scalar (RETURNING), if any, and the rows it touched."""

    scalar: Any
    rowcount: int


class Writes(Protocol):
    """Runs single self-committing statements; see the module docstring."""

    async def run(self, statement: Executable, values: dict[str, Any]) -> Written: ...

    async def aclose(self) -> None:
        """Release what only the writes hold (the async engine is disposed by its owner)."""


class AsyncWrites:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def run(self, statement: Executable, values: dict[str, Any]) -> Written:
        async with self._engine.begin() as connection:  # AUTOCOMMIT: no BEGIN or COMMIT sent
            result = await connection.execute(statement, values)
            return Written(result.scalar_one() if result.returns_rows else None, result.rowcount)

    async def aclose(self) -> None:
        """Nothing of its own: its engine is the store's, disposed with it."""


class ThreadWrites:
    """SQLite: writes queue up while the thread is busy and go together, in one transaction.

    Group commit: a write waiting for the thread joins whatever is queued, and the whole queue
    is one hop and one commit. Alone, a write goes alone; under 16 concurrent requests the
    hops and commits are shared by the batch. Each write still returns only once it is
    committed, with its own result or its own error.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._transactions = engine.execution_options(**{BEGIN_OPTION: "immediate"})
        self._alone = engine.execution_options(**{BEGIN_OPTION: "none"})  # SQLite autocommit
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-sqlite")
        self._queue: list[_Queued] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, statement: Executable, values: dict[str, Any]) -> Written:
        loop = asyncio.get_running_loop()
        queued = _Queued(statement, values, loop.create_future())
        self._queue.append(queued)
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        return await queued.future

    async def _flush(self) -> None:
        """Write what is queued, again and again until nothing is; then let the next one lead."""
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    outcomes = await loop.run_in_executor(self._thread, self._write, batch)
                except BaseException as exc:  # the transaction failed: every write in it did
                    for queued in batch:
                        if not queued.future.done():
                            queued.future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for queued, outcome in zip(batch, outcomes, strict=True):
                    if queued.future.done():  # its request went away; the write stands
                        continue
                    if isinstance(outcome, Exception):
                        queued.future.set_exception(outcome)
                    else:
                        queued.future.set_result(outcome)
        finally:
            self._flusher = None

    def _write(self, batch: list[_Queued]) -> list[Written | Exception]:
        if len(batch) == 1:  # one statement commits by itself: no BEGIN, no COMMIT
            [queued] = batch
            with self._alone.connect() as connection:
                result = connection.execute(queued.statement, queued.values)
                scalar = result.scalar_one() if result.returns_rows else None
                connection.commit()  # ends SQLAlchemy's transaction; SQLite has committed
            return [Written(scalar, result.rowcount)]
        outcomes: list[Written | Exception] = []
        # One transaction: BEGIN IMMEDIATE ... COMMIT. A statement that fails undoes only
        # itself (SQLite's statements are atomic) and fails only its own write.
        with self._transactions.begin() as connection:
            for queued in batch:
                try:
                    result = connection.execute(queued.statement, queued.values)
                except Exception as exc:
                    outcomes.append(exc)
                    continue
                scalar = result.scalar_one() if result.returns_rows else None
                outcomes.append(Written(scalar, result.rowcount))
        return outcomes

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown(wait=True)


@dataclass(frozen=True, slots=True)
class _Queued:
    statement: Executable
    values: dict[str, Any]
    future: asyncio.Future[Written]
