"""Create `audit_records`: one row per create or revoke attempt.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "audit_records",
        # BIGINT is not SQLite's rowid alias (it would not autoincrement there).
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target_kind", sa.Text(), nullable=False),
        sa.Column("target_id", sa.Text(), nullable=True),
        sa.Column("target_connection", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("invitation_id", sa.Text(), nullable=True),
        sa.Column("upstream_request_id", sa.Text(), nullable=True),
        sa.CheckConstraint("action IN ('create', 'revoke')", name="ck_audit_records_action"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_records_at", "audit_records", ["at"])
    op.create_index("ix_audit_records_caller", "audit_records", ["caller", "at"])
    op.create_index("ix_audit_records_email", "audit_records", [sa.text("lower(email)"), "at"])
    op.create_index(
        "ix_audit_records_started",
        "audit_records",
        ["id"],
        sqlite_where=sa.text("outcome = 'started'"),
        postgresql_where=sa.text("outcome = 'started'"),
    )


def downgrade() -> None:
    op.drop_table("audit_records")
