"""Alembic environment: run the audit revisions on the connection `AuditLog.migrate()` hands over.

There is no `alembic.ini` and no URL here: the gateway builds the Alembic `Config` in code
(`_migrate.py`) and passes an open connection, inside the transaction (and, on PostgreSQL, the
advisory lock) it already holds. Running `alembic` by hand is therefore not supported.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from invitation_gateway.audit._table import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "the audit migrations run through `invitation-gateway migrate` or AuditLog.migrate()"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    # SQLite alters tables by copying them: later revisions use op.batch_alter_table.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
