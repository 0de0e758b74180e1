"""Let a record's target be unknown: `target_kind` and `target_connection` become nullable.

A revoke whose global id cannot be read is recorded too (refused, INVALID_INPUT), and the
gateway cannot tell which target it meant: its three target columns are null, rather than a
made-up kind or connection.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_NULLABLE = ("target_kind", "target_connection")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate_on_sqlite(nullable=True)
        return
    for column in _NULLABLE:
        op.alter_column("audit_records", column, existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Audit records are never deleted to fit a schema: an operator decides what becomes of them.
    unknown = op.get_bind().execute(
        sa.text("SELECT count(*) FROM audit_records WHERE target_kind IS NULL")
    )
    if unknown.scalar_one():
        raise RuntimeError(
            "audit_records holds records of revokes with an unknown target (malformed ids);"
            " revision 0001 cannot hold them: archive or remove them first"
        )
    if op.get_bind().dialect.name == "sqlite":
        _recreate_on_sqlite(nullable=False)
        return
    for column in _NULLABLE:
        op.alter_column("audit_records", column, existing_type=sa.Text(), nullable=False)


def _recreate_on_sqlite(*, nullable: bool) -> None:
    """SQLite cannot change NOT NULL in place: batch mode copies the table.

    It copies from the table spelled out in `_table` (reflection would lose AUTOINCREMENT and
    the CHECK); the indexes (reflection misses lower(email) and the partial index's WHERE)
    are dropped first and re-created as 0001 made them; and the AUTOINCREMENT counter is
    carried over, so that the ids of rows pruned from the end are never handed out again.
    """
    bind = op.get_bind()
    sequence = bind.execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'audit_records'")
    ).scalar()
    _drop_indexes()
    with op.batch_alter_table(
        "audit_records", copy_from=_table(nullable_target=not nullable), recreate="always"
    ) as batch:
        for column in _NULLABLE:
            batch.alter_column(column, existing_type=sa.Text(), nullable=nullable)
    _create_indexes()
    if sequence is not None:
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'audit_records'"))
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('audit_records', :seq)"),
            {"seq": sequence},
        )


def _table(*, nullable_target: bool) -> sa.Table:
    """`audit_records` as it stands before the change, for SQLite's copy."""
    return sa.Table(
        "audit_records",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target_kind", sa.Text(), nullable=nullable_target),
        sa.Column("target_id", sa.Text(), nullable=True),
        sa.Column("target_connection", sa.Text(), nullable=nullable_target),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("invitation_id", sa.Text(), nullable=True),
        sa.Column("upstream_request_id", sa.Text(), nullable=True),
        sa.CheckConstraint("action IN ('create', 'revoke')", name="ck_audit_records_action"),
        sqlite_autoincrement=True,
    )


def _drop_indexes() -> None:
    for name in (
        "ix_audit_records_at",
        "ix_audit_records_caller",
        "ix_audit_records_email",
        "ix_audit_records_started",
    ):
        op.drop_index(name, table_name="audit_records")


def _create_indexes() -> None:
    op.create_index("ix_audit_records_at", "audit_records", ["at"])
    op.create_index("ix_audit_records_caller", "audit_records", ["caller", "at"])
    op.create_index("ix_audit_records_email", "audit_records", [sa.text("lower(email)"), "at"])
    op.create_index(
        "ix_audit_records_started",
        "audit_records",
        ["id"],
        sqlite_where=sa.text("outcome = 'started'"),
    )
