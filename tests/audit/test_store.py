"""`AuditLog` on SQLite and PostgreSQL: schema, round trips, filters, concurrency, failures."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from invitation_gateway.audit import (
    UNKNOWN_TARGET,
    AuditEntry,
    AuditLog,
    AuditRecord,
    AuditTarget,
    AuditUnavailable,
    SchemaChange,
    to_json,
)
from invitation_gateway.audit._engine import create_engines
from invitation_gateway.audit._migrate import alembic_config
from invitation_gateway.audit._table import VERSION_TABLE, metadata
from invitation_gateway.emulators import ManualClock
from tests.support.audit import AuditBackend
from tests.support.clock import FIXED_NOW

ORGANIZATION = AuditTarget("CLERK_ORGANIZATION", "org_2abc", "default")
DIRECTORY = AuditTarget("CONDUCTORONE_DIRECTORY", "2fQzDirectory", "emea")
APPLICATION = AuditTarget("CLERK_APPLICATION", None, "staging")
HEAD = "0002"


def _create(caller: str = "user:alice", email: str = "bob@example.com") -> AuditEntry:
    return AuditEntry(caller, "create", ORGANIZATION, email, ("org:admin", "org:member"))


async def test_migrate_creates_the_schema_once_and_then_finds_it_current(
    audit_backend: AuditBackend,
) -> None:
    """The first migrate creates the newest revision; running it again, from any process, changes nothing."""
    first, second = AuditLog.open(audit_backend.url), AuditLog.open(audit_backend.url)
    try:
        assert await first.migrate() == SchemaChange(None, HEAD)
        assert await first.migrate() == SchemaChange(HEAD, HEAD)
        change = await second.migrate()
        assert not change.changed
        assert change.after == HEAD
    finally:
        await first.aclose()
        await second.aclose()


async def test_replicas_migrating_at_the_same_time_all_succeed(audit_backend: AuditBackend) -> None:
    """Four replicas starting together migrate one after another: one creates, three find it done."""
    logs = [AuditLog.open(audit_backend.url) for _ in range(4)]
    try:
        changes = await asyncio.gather(*(log.migrate() for log in logs))
    finally:
        await asyncio.gather(*(log.aclose() for log in logs))
    assert sorted(change.before or "" for change in changes) == ["", HEAD, HEAD, HEAD]
    assert {change.after for change in changes} == {HEAD}


# SQLite cannot reflect the lower(email) index; Alembic says it skips comparing it there.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping")
async def test_the_store_table_matches_the_newest_revision(
    log: AuditLog, audit_backend: AuditBackend
) -> None:
    """`_table.py` and the Alembic revisions describe the same columns, types and indexes."""

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(audit_backend.url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


# SQLite cannot reflect the lower(email) index: its SQL is checked from sqlite_master instead.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
async def test_upgrading_from_0001_keeps_every_record_and_constraint(
    audit_backend: AuditBackend,
) -> None:
    """A log created at 0001 upgrades to the newest revision with its rows, ids, CHECK,
    AUTOINCREMENT (SQLite: no id handed out twice) and indexes kept; only the target may now
    be unknown."""
    engines, _ = create_engines(audit_backend.url)

    def to_0001(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "0001")
        for caller in ("user:old", "user:pruned"):
            connection.execute(
                text(
                    "INSERT INTO audit_records (at, caller, action, target_kind,"
                    " target_connection, roles, outcome) VALUES (:at, :caller, 'create',"
                    " 'CLERK_APPLICATION', 'default', '[]', 'started')"
                ),
                {"at": FIXED_NOW.replace(tzinfo=None), "caller": caller},
            )
        # The newest record pruned: its id must not be handed out again.
        connection.execute(text("DELETE FROM audit_records WHERE caller = 'user:pruned'"))

    try:
        async with engines.schema.begin() as connection:
            await connection.run_sync(to_0001)
    finally:
        await engines.read.dispose()
        await engines.writes.aclose()
    async with AuditLog.open(audit_backend.url) as log:
        assert await log.migrate() == SchemaChange("0001", HEAD)
        [old] = await log.query()
        assert (old.caller, old.target, old.outcome) == (
            "user:old",
            AuditTarget("CLERK_APPLICATION", None, "default"),
            "started",
        )
        assert await log.count_started() == 1  # the partial index's query still answers
        unknown = await log.refused(
            AuditEntry("dev", "revoke", UNKNOWN_TARGET, None, invitation_id="x"), "INVALID_INPUT"
        )
        assert unknown == old.id + 2
    engine = create_async_engine(audit_backend.url)
    try:
        async with engine.connect() as connection:
            with pytest.raises(IntegrityError):  # the CHECK on `action` survived
                await connection.execute(
                    text(
                        "INSERT INTO audit_records (at, caller, action, roles, outcome)"
                        " VALUES (CURRENT_TIMESTAMP, 'x', 'delete', '[]', 'started')"
                    )
                )
            await connection.rollback()
            names = await connection.run_sync(
                lambda sync: {ix["name"] for ix in inspect(sync).get_indexes("audit_records")}
            )
            assert names >= {
                "ix_audit_records_at",
                "ix_audit_records_caller",
                "ix_audit_records_started",
            }
            if audit_backend.kind == "sqlite":
                schema = (
                    await connection.execute(
                        text(
                            "SELECT group_concat(sql, ';') FROM sqlite_master WHERE tbl_name = 'audit_records'"
                        )
                    )
                ).scalar_one()
                assert "AUTOINCREMENT" in schema
                assert "lower(email)" in schema
                assert "WHERE outcome = 'started'" in schema
    finally:
        await engine.dispose()


async def test_a_create_round_trips_every_field(log: AuditLog) -> None:
    """start() records "started" with what the service knew; complete() adds how it ended."""
    record_id = await log.start(_create())
    expected = AuditRecord(
        id=record_id,
        at=FIXED_NOW,
        caller="user:alice",
        action="create",
        target=ORGANIZATION,
        email="bob@example.com",
        roles=("org:admin", "org:member"),
        outcome="started",
        invitation_id=None,
        upstream_request_id=None,
    )
    assert await log.query() == [expected]

    await log.complete(
        record_id, outcome="ok", invitation_id="WyJJbnZpdGF0aW9uIl0", upstream_request_id="req_9"
    )
    [record] = await log.query()
    assert record.at.tzinfo is not None
    assert to_json(record) == {
        "id": record_id,
        "at": "2026-11-15T12:00:00.000000Z",
        "caller": "user:alice",
        "action": "create",
        "target": {"kind": "CLERK_ORGANIZATION", "id": "org_2abc", "connection": "default"},
        "email": "bob@example.com",
        "roles": ["org:admin", "org:member"],
        "outcome": "ok",
        "invitationId": "WyJJbnZpdGF0aW9uIl0",
        "upstreamRequestId": "req_9",
    }


async def test_a_revoke_keeps_its_email_and_a_target_without_id(
    log: AuditLog, clock: ManualClock
) -> None:
    """A revoke record carries the email, no roles, a null target id, microseconds and an error code."""
    clock.current = FIXED_NOW + timedelta(microseconds=123_456)
    entry = AuditEntry("api_key:ci", "revoke", APPLICATION, "carol@example.com")
    record_id = await log.start(entry)
    await log.complete(
        record_id, outcome="UPSTREAM_UNAVAILABLE", invitation_id="inv", upstream_request_id=None
    )
    [record] = await log.query()
    assert (record.action, record.target, record.email, record.roles) == (
        "revoke",
        APPLICATION,
        "carol@example.com",
        (),
    )
    assert (record.outcome, record.at) == ("UPSTREAM_UNAVAILABLE", clock.current)


async def test_a_revoke_names_its_invitation_from_the_start_and_gets_its_email_at_the_end(
    log: AuditLog,
) -> None:
    """A revoke starts with the global id and no email; completing fills the email in, and a
    completion naming no invitation (a failure) keeps the id it started with."""
    entry = AuditEntry("api_key:ci", "revoke", ORGANIZATION, None, invitation_id="gid-1")
    answered, failed = await log.start(entry), await log.start(entry)
    [started, _] = await log.query()
    assert (started.outcome, started.invitation_id, started.email) == ("started", "gid-1", None)

    await log.complete(
        answered,
        outcome="ok",
        invitation_id="gid-1",
        upstream_request_id="req-1",
        email="carol@example.com",
    )
    await log.complete(
        failed, outcome="UPSTREAM_UNAVAILABLE", invitation_id=None, upstream_request_id=None
    )
    done = {r.id: (r.outcome, r.invitation_id, r.email) for r in await log.query()}
    assert done == {
        answered: ("ok", "gid-1", "carol@example.com"),
        failed: ("UPSTREAM_UNAVAILABLE", "gid-1", None),
    }


async def test_completing_a_create_never_replaces_the_email_it_was_asked_for(
    log: AuditLog,
) -> None:
    """The upstream may spell the email otherwise: the record keeps what the caller sent."""
    record_id = await log.start(_create(email="Bob@Example.com"))
    await log.complete(
        record_id,
        outcome="ok",
        invitation_id="gid",
        upstream_request_id=None,
        email="bob@example.com",
    )
    [record] = await log.query()
    assert (record.email, record.invitation_id) == ("Bob@Example.com", "gid")


async def test_a_record_of_an_unknown_target_round_trips(log: AuditLog) -> None:
    """A refused revoke whose id was malformed: target kind, id and connection all null."""
    entry = AuditEntry("dev", "revoke", UNKNOWN_TARGET, None, invitation_id="not-an-id")
    await log.refused(entry, "INVALID_INPUT")
    [record] = await log.query()
    assert to_json(record)["target"] == {"kind": None, "id": None, "connection": None}
    assert (record.invitation_id, record.outcome) == ("not-an-id", "INVALID_INPUT")


async def test_a_record_completes_once(log: AuditLog) -> None:
    """Completing twice, an unknown id, or completing as "started" is refused; the first outcome stays."""
    record_id = await log.start(_create())
    await log.complete(record_id, outcome="FORBIDDEN", invitation_id=None, upstream_request_id=None)
    with pytest.raises(LookupError):
        await log.complete(record_id, outcome="ok", invitation_id="x", upstream_request_id=None)
    with pytest.raises(LookupError):
        await log.complete(
            record_id + 1, outcome="ok", invitation_id=None, upstream_request_id=None
        )
    with pytest.raises(ValueError, match="started"):
        await log.complete(
            record_id, outcome="started", invitation_id=None, upstream_request_id=None
        )
    [record] = await log.query()
    assert (record.outcome, record.invitation_id) == ("FORBIDDEN", None)


async def test_query_filters_by_since_inclusive_caller_and_email_in_any_case(
    log: AuditLog, clock: ManualClock
) -> None:
    """`since` includes its bound (in any offset); `caller` is exact; `email` ignores case."""
    early = await log.start(_create("user:alice", "Bob@Example.com"))
    clock.advance(timedelta(seconds=1))
    bound = clock.current
    at_bound = await log.start(AuditEntry("user:dave", "revoke", DIRECTORY, "bob@example.COM"))
    clock.advance(timedelta(microseconds=1))
    late = await log.start(_create("user:alice", "erin@example.com"))

    def ids(records: list[AuditRecord]) -> list[int]:
        return [record.id for record in records]

    assert ids(await log.query()) == [early, at_bound, late]
    assert ids(await log.query(since=bound)) == [at_bound, late]
    assert ids(await log.query(since=bound.astimezone(timezone(timedelta(hours=2))))) == [
        at_bound,
        late,
    ]
    assert ids(await log.query(since=bound + timedelta(microseconds=1))) == [late]
    assert ids(await log.query(caller="user:alice")) == [early, late]
    assert ids(await log.query(caller="USER:ALICE")) == []
    assert ids(await log.query(email="BOB@example.com")) == [early, at_bound]
    assert ids(await log.query(email="bob@example.com", caller="user:dave")) == [at_bound]
    assert ids(await log.query(limit=2)) == [early, at_bound]


async def test_query_lists_oldest_first_even_when_written_out_of_order(
    log: AuditLog, clock: ManualClock
) -> None:
    """Records are ordered by time, not id: replicas' clocks and commits interleave."""
    clock.advance(timedelta(minutes=5))
    later = await log.start(_create())
    clock.advance(timedelta(minutes=-10))
    earlier = await log.start(_create())
    assert [record.id for record in await log.query()] == [earlier, later]


async def test_count_started_counts_attempts_nobody_completed(log: AuditLog) -> None:
    """Records left "started" (a process died mid-call) are counted; completed ones are not."""
    assert await log.count_started() == 0
    ids = [await log.start(_create()) for _ in range(3)]
    await log.complete(ids[1], outcome="ok", invitation_id="g", upstream_request_id=None)
    assert await log.count_started() == 2


async def test_two_hundred_concurrent_mutations_all_land_with_distinct_ids(log: AuditLog) -> None:
    """200 concurrent start+complete pairs each get their own id and their own outcome."""

    async def mutation(n: int) -> int:
        record_id = await log.start(_create(f"user:{n}", f"u{n}@example.com"))
        await log.complete(
            record_id, outcome="ok", invitation_id=f"inv-{n}", upstream_request_id=f"req-{n}"
        )
        return record_id

    ids = await asyncio.gather(*(mutation(n) for n in range(200)))
    assert len(set(ids)) == 200
    records = await log.query()
    assert {record.id for record in records} == set(ids)
    assert all(record.invitation_id == f"inv-{record.caller[5:]}" for record in records)
    assert await log.count_started() == 0


async def test_a_failing_write_fails_alone_among_concurrent_ones(log: AuditLog) -> None:
    """Writes that share a transaction (SQLite's group commit) keep their own outcomes."""
    started = await asyncio.gather(*(log.start(_create(f"user:{n}")) for n in range(20)))

    async def complete(record_id: int) -> str:
        try:
            await log.complete(
                record_id, outcome="ok", invitation_id=None, upstream_request_id=None
            )
        except LookupError:
            return "unknown"
        return "ok"

    outcomes = await asyncio.gather(*(complete(i) for i in [*started, 999_999, *started[:3]]))
    assert outcomes == ["ok"] * 20 + ["unknown"] * 4  # an unknown id, then three already done
    assert await log.count_started() == 0


async def test_a_refused_attempt_is_one_complete_record(log: AuditLog) -> None:
    """Refused before any upstream call: written once, never `started`."""
    record_id = await log.refused(_create(), "INVALID_INPUT")
    [record] = await log.query()
    assert (record.id, record.outcome) == (record_id, "INVALID_INPUT")
    with pytest.raises(ValueError, match="error code"):
        await log.refused(_create(), "ok")


async def test_check_connects_to_a_reachable_store(audit_backend: AuditBackend) -> None:
    """check() succeeds on a reachable store, before any schema exists."""
    async with AuditLog.open(audit_backend.url) as log:
        await log.check()


async def test_an_unreachable_postgresql_is_unavailable_and_never_shows_the_password() -> None:
    """Every call on a PostgreSQL nobody listens on raises AuditUnavailable naming PostgreSQL."""
    url = "postgresql+asyncpg://auditor:hunter2-secret@127.0.0.1:1/audit"
    async with AuditLog.open(url) as log:
        calls = [log.check(), log.migrate(), log.start(_create()), log.query(), log.count_started()]
        for call in calls:
            with pytest.raises(AuditUnavailable) as caught:
                await call
            assert caught.value.backend == "PostgreSQL"
            assert "PostgreSQL at 127.0.0.1:1/audit" in str(caught.value)
            assert "hunter2" not in str(caught.value)
            assert "hunter2" not in repr(caught.value.__cause__)


async def test_an_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    """A SQLite path that is a directory raises AuditUnavailable naming SQLite and the path."""
    async with AuditLog.open(f"sqlite+aiosqlite:///{tmp_path}") as log:
        with pytest.raises(AuditUnavailable, match=f"SQLite at {tmp_path}") as caught:
            await log.check()
    assert caught.value.backend == "SQLite"


async def test_a_failed_sqlite_connect_leaves_no_worker_thread_behind(tmp_path: Path) -> None:
    """After a failed connect, aiosqlite's thread has ended: it cannot post to a closed loop later."""
    async with AuditLog.open(f"sqlite+aiosqlite:///{tmp_path}") as log:
        for _ in range(20):
            with pytest.raises(AuditUnavailable):
                await log.check()
            assert _sqlite_workers() == []


def _sqlite_workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


async def test_missing_schema_is_unavailable_not_an_empty_log(audit_backend: AuditBackend) -> None:
    """Querying before `migrate` fails loudly instead of reporting no records."""
    async with AuditLog.open(audit_backend.url) as log:
        with pytest.raises(AuditUnavailable, match="audit_records"):
            await log.query()


async def test_times_must_be_timezone_aware(audit_backend: AuditBackend) -> None:
    """A naive `since` or a naive clock is a programming error (ValueError), not a store failure."""
    naive = datetime(2026, 1, 1)  # naive on purpose
    async with AuditLog.open(audit_backend.url, clock=lambda: naive) as log:
        with pytest.raises(ValueError, match="aware"):
            await log.query(since=naive)
        with pytest.raises(ValueError, match="aware"):
            await log.start(_create())


def test_an_entry_is_a_create_or_a_revoke() -> None:
    """Any other action is refused when the entry is built."""
    with pytest.raises(ValueError, match="create"):
        AuditEntry("user:a", "delete", ORGANIZATION, None)  # type: ignore[arg-type]
