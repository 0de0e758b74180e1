"""From a configured URL to an engine: the driver we pick, SQLite's settings, safe error text.

- **URLs.** DESIGN.md has `GATEWAY_DATABASE_URL` be a plain `postgresql://` URL; the gateway
  picks asyncpg, and translates the two libpq parameters people put in such URLs (`sslmode`,
  `connect_timeout`) into asyncpg's names. Other parameters are refused up front, by name, rather
  than failing at the first connection with a driver `TypeError`.
- **PostgreSQL** connects within 5 s and gives a statement 10 s (overridable in the URL with
  `timeout` / `command_timeout`): an audit write precedes every mutation, so a hung database
  must fail the write, not hang the request.
- **SQLite**: WAL (readers such as `invitation-gateway audit` never block the writer) and a busy
  timeout (a writer waits for another instead of failing). SQLAlchemy, not the sqlite3 driver,
  emits BEGIN (the documented recipe), so DDL is transactional, a migration can say `BEGIN
  IMMEDIATE` (it takes the write lock first: two migrating processes cannot both read "no
  table yet"), and a single INSERT or UPDATE needs no BEGIN at all.
- **Errors** keep their driver's class and message but never a password, and the engine hides
  statement parameters (an email) from exception text: a logged traceback stays clean.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ._writes import BEGIN_OPTION, AsyncWrites, ThreadWrites, Writes

_BEGIN = BEGIN_OPTION  # how `_on_begin` opens a transaction ("none", "immediate")

_SQLITE_BUSY_TIMEOUT_MS = 5_000
_POSTGRES_DEFAULTS = {"timeout": 5.0, "command_timeout": 10.0}
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
_LIBPQ_NAMES = {"sslmode": "ssl", "connect_timeout": "timeout"}
_ASYNCPG_PARAMETERS = frozenset(
    {"ssl", "timeout", "command_timeout", "host", "prepared_statement_cache_size"}
)


@dataclass(frozen=True, slots=True)
class Engines:
    """The store's engines: `read` runs ordinary transactions, `schema` a transaction that
    takes the write lock first (both one pool: disposing `read` closes it), and `writes` the
    hot path's self-committing statements (`_writes.py`: on SQLite its own sqlite3 engine)."""

    read: AsyncEngine
    schema: AsyncEngine
    writes: Writes


@dataclass(frozen=True, slots=True)
class Backend:
    """Which store an engine reaches, for messages: `name` ("PostgreSQL") and `location`."""

    name: str
    location: str
    password: str | None  # only to scrub it from error text; never shown


def database_url(postgresql_url: str | None, sqlite_path: Path) -> str:
    """The SQLAlchemy async URL for a plain `postgresql://` URL if given, else for the SQLite file.

    Creates the SQLite file's parent directory. Raises `ValueError` (never quoting the URL,
    which may hold a password) for a URL that is not PostgreSQL or carries unknown parameters.
    """
    if postgresql_url:
        return _postgresql(postgresql_url).render_as_string(hide_password=False)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return URL.create("sqlite+aiosqlite", database=str(sqlite_path)).render_as_string()


def _postgresql(text: str) -> URL:
    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError("the PostgreSQL URL is not a URL (expected postgresql://…)") from None
    if url.drivername not in _POSTGRES_SCHEMES:
        raise ValueError(f"the PostgreSQL URL must start postgresql://, not {url.drivername}://")
    query: dict[str, str | tuple[str, ...]] = {}
    for name, value in url.query.items():
        name = _LIBPQ_NAMES.get(name, name)
        if name not in _ASYNCPG_PARAMETERS:
            supported = sorted(_ASYNCPG_PARAMETERS | _LIBPQ_NAMES.keys())
            raise ValueError(
                f"the PostgreSQL URL has an unsupported parameter {name!r}"
                f" (supported: {', '.join(supported)})"
            )
        query[name] = value
    return url.set(drivername="postgresql+asyncpg", query=query)


def create_engines(url: str) -> tuple[Engines, Backend]:
    """Engines on `url` (no I/O yet) and what to call the store in messages."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
        engines = Engines(
            read=engine,
            schema=engine.execution_options(**{_BEGIN: "immediate"}),
            writes=ThreadWrites(_sqlite_sync_engine(parsed)),
        )
        return engines, Backend("SQLite", f"SQLite at {parsed.database}", None)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"the audit log runs on PostgreSQL or SQLite, not {parsed.drivername}")
    connect_args = {k: v for k, v in _POSTGRES_DEFAULTS.items() if k not in parsed.query}
    # pre-ping: a connection a restart or failover closed is replaced, not a failed audit write.
    engine = create_async_engine(
        parsed, connect_args=connect_args, hide_parameters=True, pool_pre_ping=True
    )
    host = parsed.host or parsed.query.get("host") or "localhost"  # `?host=` is a socket dir
    where = f"{host}:{parsed.port or 5432}/{parsed.database or ''}"
    engines = Engines(
        read=engine,
        schema=engine,  # `_migrate` takes an advisory lock inside the transaction
        writes=AsyncWrites(engine.execution_options(isolation_level="AUTOCOMMIT")),
    )
    return engines, Backend("PostgreSQL", f"PostgreSQL at {where}", parsed.password)


def _sqlite_engine(url: URL) -> AsyncEngine:
    # One connection: SQLite runs one writer at a time whatever the pool, and writers queued on
    # the pool wake in order, while writers queued in SQLite's busy handler sleep and retry
    # (measured at 16 callers: p99 0.07 s with one connection, 0.7 s with fifteen).
    engine = create_async_engine(
        url,
        hide_parameters=True,
        pool_size=1,
        max_overflow=0,
        async_creator=partial(_connect_sqlite, url.database or ""),
    )

    _sqlite_settings(engine.sync_engine)
    return engine


def _sqlite_sync_engine(url: URL) -> Engine:
    """The same file through the standard library's sqlite3, for `ThreadWrites`."""
    engine = create_engine(
        url.set(drivername="sqlite+pysqlite"), hide_parameters=True, pool_size=1, max_overflow=0
    )
    _sqlite_settings(engine)
    return engine


def _sqlite_settings(engine: Engine) -> None:
    """WAL, a busy timeout, and SQLAlchemy (not the driver) emitting BEGIN, on every connection."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN: `_on_begin` does
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching to WAL needs a lock another connection may hold.
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode, NORMAL loses no committed write when the process dies (only when the
        # machine does, before the next checkpoint) and saves an fsync per write.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        begin = connection.get_execution_options().get(_BEGIN)
        if begin == "none":  # one statement, in SQLite's autocommit: atomic by itself
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if begin == "immediate" else "BEGIN")


async def _connect_sqlite(database: str) -> aiosqlite.Connection:
    """aiosqlite's connect, except that a failed connect waits for its worker thread to end.

    When the file cannot be opened, aiosqlite stops its worker thread without waiting for it
    (omnilib/aiosqlite#241): the thread later posts to the event loop, which by then may be
    closed ("Event loop is closed" from a daemon thread, once per failed connect). Joining the
    thread (private `_thread`, aiosqlite >= 0.22) before re-raising keeps it inside the loop's life.
    """
    connection = aiosqlite.connect(database)
    connection._thread.daemon = True  # as SQLAlchemy's own connect does: never block exit
    try:
        return await connection
    except BaseException:
        await asyncio.to_thread(connection._thread.join, 5.0)
        raise


def describe(exc: BaseException, backend: Backend) -> str:
    """The driver's error class and message, without SQL, parameters or the password."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    # SQLAlchemy's asyncpg adapter wraps asyncpg's errors in generic classes: name the real one.
    if type(original).__module__.startswith("sqlalchemy") and original.__cause__ is not None:
        original = original.__cause__
    text = f"{type(original).__name__}: {original}".strip().rstrip(":")
    if backend.password:
        text = text.replace(backend.password, "***")
    return text
