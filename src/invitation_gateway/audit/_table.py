"""The `audit_records` table as the store reads and writes it.

The schema itself is created by the Alembic revisions in `migrations/versions/`, which spell
their DDL out so that history never changes; this definition must match the newest revision,
and a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    func,
)

VERSION_TABLE = "audit_alembic_version"
"""Alembic's bookkeeping table, named for the audit log so a shared database can hold others."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC and read back aware.

    PostgreSQL keeps `timestamptz` itself; SQLite has no time type and SQLAlchemy stores a
    naive text form there, so every value is converted to UTC first (then text order is time
    order, and `since` compares correctly) and read back with UTC attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("audit times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

audit_records = Table(
    "audit_records",
    metadata,
    # BIGINT is not SQLite's rowid alias (it would not autoincrement there): INTEGER on SQLite.
    Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", UtcDateTime(), nullable=False),
    Column("caller", Text(), nullable=False),
    Column("action", Text(), nullable=False),
    # Null, all three, for a revoke whose global id could not be read (revision 0002).
    Column("target_kind", Text(), nullable=True),
    Column("target_id", Text(), nullable=True),
    Column("target_connection", Text(), nullable=True),
    Column("email", Text(), nullable=True),
    Column("roles", JSON(), nullable=False),
    Column("outcome", Text(), nullable=False),
    Column("invitation_id", Text(), nullable=True),
    Column("upstream_request_id", Text(), nullable=True),
    CheckConstraint("action IN ('create', 'revoke')", name="ck_audit_records_action"),
    sqlite_autoincrement=True,  # never reuse an id, even after rows are archived away
)

Index("ix_audit_records_at", audit_records.c.at)
Index("ix_audit_records_caller", audit_records.c.caller, audit_records.c.at)
# Email filters are case-insensitive: index the lower-cased form the query compares.
Index("ix_audit_records_email", func.lower(audit_records.c.email), audit_records.c.at)
# Only a few rows are ever "started": a partial index keeps count_started cheap as the log grows.
Index(
    "ix_audit_records_started",
    audit_records.c.id,
    sqlite_where=audit_records.c.outcome == "started",
    postgresql_where=audit_records.c.outcome == "started",
)
