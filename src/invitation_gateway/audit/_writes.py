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
from typing import Any

from sqlalchemy import Engine, Executable
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True, slots=True)
class Written:
    """What a write returned: its first scalar (RETURNING), if any, and the rows it touched."""

    scalar: Any
    rowcount: int


class Writes:
    """Runs single self-committing statements; see the module docstring."""

    async def run(self, statement: Executable, values: dict[str, Any]) -> Written:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release what only the writes hold (the async engine is disposed by its owner)."""


class AsyncWrites(Writes):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def run(self, statement: Executable, values: dict[str, Any]) -> Written:
        async with self._engine.connect() as connection:
            result = await connection.execute(statement, values)
            return Written(result.scalar_one() if result.returns_rows else None, result.rowcount)


class ThreadWrites(Writes):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-sqlite")

    async def run(self, statement: Executable, values: dict[str, Any]) -> Written:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._run, statement, values)

    def _run(self, statement: Executable, values: dict[str, Any]) -> Written:
        with self._engine.connect() as connection:
            result = connection.execute(statement, values)
            written = Written(result.scalar_one() if result.returns_rows else None, result.rowcount)
            connection.commit()  # SQLite committed the statement itself; this ends SQLAlchemy's
        return written

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown(wait=True)
