"""Statements on the test PostgreSQL server, run from synchronous fixtures.

`tests/conftest.py` pings it for the `postgres_server` fixture; the audit fixtures create and
drop their databases and tables with `execute`. `run_sync` runs such a coroutine from a
fixture, even one that pytest-asyncio calls inside a running event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")


def run_sync(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running event loop."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, work).result()


async def execute(url: str, *statements: str) -> None:
    """Run `statements` in order on one connection to the database at `url`."""
    connection = await asyncpg.connect(url, timeout=2)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()
