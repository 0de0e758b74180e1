"""Run the Alembic revisions in `migrations/` on a connection, with an Alembic `Config` built here.

`AuditLog.migrate()` calls `upgrade` through `AsyncConnection.run_sync`, inside one
transaction: on PostgreSQL that transaction first takes an advisory lock, so replicas starting
together migrate one after the other (the later ones find the schema current); on SQLite it
began IMMEDIATE, which serialises migrating processes the same way. DDL is transactional on
both, so a failed upgrade leaves the schema as it was.

To write a new revision: copy the newest in `versions/` (the next one is `0003`, revising
`0002`), spell the DDL out with `op.*` (SQLite: inside `op.batch_alter_table`, copying from a
spelled-out table as `rev0002_unknown_target.py` does), and update `_table.py` to match; the
test suite checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ._table import VERSION_TABLE

_MIGRATIONS = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key: any fixed 64-bit number the gateway alone uses ("igw-audit").
_LOCK_KEY = 0x6967_772D_6175_6474


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """What `migrate` did: the revision before (None: no schema) and after."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the audit revisions, with `connection` for `env.py` to use."""
    config = Config()
    # Config values go through ConfigParser interpolation: a literal % must be doubled.
    config.set_main_option("script_location", str(_MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(connection: Connection) -> SchemaChange:
    """Upgrade the schema on `connection` (already in a transaction) to the newest revision."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    before = current_revision(connection)
    command.upgrade(alembic_config(connection), "head")
    return SchemaChange(before, current_revision(connection))


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None when the audit schema was never created."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()
