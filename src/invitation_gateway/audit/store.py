"""`AuditLog`: audit records in SQLite or PostgreSQL, through SQLAlchemy's async engine.

The service writes a record before each upstream call (`start`, outcome "started") and
completes it after (`complete`); `invitation-gateway audit` reads them back (`query`). Each
call is one short transaction on a pooled connection, so concurrent mutations never wait for
one another's upstream calls, only (on SQLite) for each other's few-millisecond commits.

    log = AuditLog.open(database_url(settings_url, sqlite_path))   # no I/O yet
    await log.migrate()                  # create or upgrade the schema (Alembic), idempotent
    record_id = await log.start(entry)
    ...upstream call...
    await log.complete(record_id, outcome="ok", invitation_id=gid, upstream_request_id=rid)
    await log.aclose()

Every store failure is `AuditUnavailable`, naming the backend and where, never the password.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Text, bindparam, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from ._engine import Backend, Engines, create_engines, describe
from ._migrate import SchemaChange, upgrade
from ._table import audit_records
from .errors import AuditUnavailable
from .record import STARTED, Action, AuditEntry, AuditRecord, AuditTarget

# What a driver raises when the store fails: SQLAlchemy's wrappers, and socket errors and
# timeouts that asyncpg raises while connecting (TimeoutError is an OSError).
_STORE_ERRORS = (SQLAlchemyError, OSError)

# Built once: a statement built per call costs more Python time than its round trip.
_START = insert(audit_records).returning(audit_records.c.id)
# Completion adds what the upstream's answer told: the invitation's global id (kept from the
# start when the answer names none: a revoke's), and its email where the start had none (a
# revoke's); a create keeps the email the caller asked for.
_COMPLETE = (
    update(audit_records)
    .where(audit_records.c.id == bindparam("record_id"), audit_records.c.outcome == STARTED)
    .values(
        outcome=bindparam("new_outcome"),
        invitation_id=func.coalesce(
            bindparam("new_invitation_id", type_=Text()), audit_records.c.invitation_id
        ),
        email=func.coalesce(audit_records.c.email, bindparam("new_email", type_=Text())),
        upstream_request_id=bindparam("new_upstream_request_id"),
    )
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


_MIGRATE_PATIENCE = 60.0  # seconds a migration waits for replicas migrating the same file


class AuditLog:
    """The audit records of one database; open with `AuditLog.open(url)`."""

    def __init__(
        self, engines: Engines, backend: Backend, *, clock: Callable[[], datetime]
    ) -> None:
        self._engines = engines
        self._backend = backend
        self._clock = clock

    @classmethod
    def open(cls, url: str, *, clock: Callable[[], datetime] = _utc_now) -> AuditLog:
        """A log on the SQLAlchemy async URL `url` (see `database_url`); connects at first use."""
        engines, backend = create_engines(url)
        return cls(engines, backend, clock=clock)

    @property
    def backend(self) -> str:
        """ "PostgreSQL" or "SQLite"."""
        return self._backend.name

    @property
    def location(self) -> str:
        """Where the records are, for people: "PostgreSQL at host:5432/db", "SQLite at path"."""
        return self._backend.location

    def __repr__(self) -> str:
        return f"<AuditLog {self._backend.location}>"

    async def migrate(self) -> SchemaChange:
        """Create the schema, or upgrade it to this code's newest revision; safe to repeat.

        Replicas starting together on one SQLite file queue for its write lock; one waits
        SQLite's busy timeout (5 s), and on a loaded host that may not be enough for the
        others' migrations, so a migration finding the file locked tries again, for up to
        `_MIGRATE_PATIENCE` seconds. PostgreSQL queues on an advisory lock instead.
        """
        deadline = time.monotonic() + _MIGRATE_PATIENCE
        while True:
            try:
                with self._translated():
                    async with self._engines.schema.begin() as connection:
                        return await connection.run_sync(upgrade)
            except AuditUnavailable as exc:
                locked = "database is locked" in str(exc)
                if not locked or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(0.1)

    async def check(self) -> None:
        """Connect once and run a trivial statement: raises `AuditUnavailable` if it cannot."""
        with self._translated():
            async with self._engines.read.connect() as connection:
                await connection.execute(select(1))

    async def start(self, entry: AuditEntry) -> int:
        """Record an attempt as "started" (before the upstream call); returns the record's id."""
        return await self._insert(entry, STARTED)

    async def refused(self, entry: AuditEntry, outcome: str) -> int:
        """Record an attempt refused before any upstream call, complete in one write."""
        if not outcome or outcome in {STARTED, "ok"}:
            raise ValueError(f"a refused attempt ends with an error code, not {outcome!r}")
        return await self._insert(entry, outcome)

    async def _insert(self, entry: AuditEntry, outcome: str) -> int:
        at = self._clock()
        if at.tzinfo is None:
            raise ValueError("the audit clock must give timezone-aware times")
        values = {
            "at": at,
            "caller": entry.caller,
            "action": entry.action,
            "target_kind": entry.target.kind,
            "target_id": entry.target.id,
            "target_connection": entry.target.connection,
            "email": entry.email,
            "roles": list(entry.roles),
            "outcome": outcome,
            "invitation_id": entry.invitation_id,
        }
        with self._translated():
            return int((await self._engines.writes.run(_START, values)).scalar)

    async def complete(
        self,
        record_id: int,
        *,
        outcome: str,
        invitation_id: str | None,
        upstream_request_id: str | None,
        email: str | None = None,
    ) -> None:
        """Set how a started attempt ended: "ok" or the error code.

        `invitation_id` None keeps the one the record started with; `email` fills in a record
        started without one (a revoke) and never replaces one. A record completes once:
        `LookupError` if `record_id` is unknown or already complete.
        """
        if not outcome or outcome == STARTED:
            raise ValueError(f"an attempt completes as 'ok' or an error code, not {outcome!r}")
        values = {
            "record_id": record_id,
            "new_outcome": outcome,
            "new_invitation_id": invitation_id,
            "new_upstream_request_id": upstream_request_id,
            "new_email": email,
        }
        with self._translated():
            result = await self._engines.writes.run(_COMPLETE, values)
        if result.rowcount != 1:
            raise LookupError(f"no started audit record has the id {record_id}")

    async def query(
        self,
        *,
        since: datetime | None = None,
        caller: str | None = None,
        email: str | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        """Records oldest first: at or after `since`, of `caller`, for `email` (any case)."""
        statement = select(audit_records).order_by(audit_records.c.at, audit_records.c.id)
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("`since` must be timezone-aware (naive times are ambiguous)")
            statement = statement.where(audit_records.c.at >= since)
        if caller is not None:
            statement = statement.where(audit_records.c.caller == caller)
        if email is not None:
            # lower() on both sides: the same folding whatever the backend's lower() does.
            statement = statement.where(func.lower(audit_records.c.email) == func.lower(email))
        if limit is not None:
            statement = statement.limit(limit)
        with self._translated():
            async with self._engines.read.connect() as connection:
                rows = (await connection.execute(statement)).all()
        return [_record(row) for row in rows]

    async def count_started(self) -> int:
        """How many records are still "started": attempts whose outcome no process recorded."""
        statement = select(func.count()).where(audit_records.c.outcome == STARTED)
        with self._translated():
            async with self._engines.read.connect() as connection:
                return int((await connection.execute(statement)).scalar_one())

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._engines.writes.aclose()
        await self._engines.read.dispose()

    async def __aenter__(self) -> AuditLog:
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        await self.aclose()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except _STORE_ERRORS as exc:
            backend = self._backend
            raise AuditUnavailable(
                backend.name, location=backend.location, reason=describe(exc, backend)
            ) from exc


def _record(row: Row[Any]) -> AuditRecord:
    roles = cast("Sequence[str]", row.roles)
    return AuditRecord(
        id=row.id,
        at=row.at,
        caller=row.caller,
        action=cast("Action", row.action),
        target=AuditTarget(
            kind=row.target_kind, id=row.target_id, connection=row.target_connection
        ),
        email=row.email,
        roles=tuple(roles),
        outcome=row.outcome,
        invitation_id=row.invitation_id,
        upstream_request_id=row.upstream_request_id,
    )
