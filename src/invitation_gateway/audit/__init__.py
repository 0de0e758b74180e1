"""The audit log: every create and revoke attempt, written before the upstream call, completed after.

```
AuditLog (store.py)          start / complete / query / count_started, migrate, check
  ├─ _engine.py              URL -> engine: asyncpg for postgresql://, aiosqlite (WAL) for a file
  ├─ _table.py               the `audit_records` table as the store uses it
  └─ _migrate.py             Alembic, driven in code: migrations/env.py, migrations/versions/
record.py                    AuditEntry (written), AuditRecord (read), to_json (DESIGN.md's keys)
errors.py                    AuditUnavailable: the store failed (names the backend, never a password)
config.py                    GATEWAY_DATABASE_URL / GATEWAY_AUDIT__SQLITE_PATH -> URL (CLI only)
report.py, commands.py       `invitation-gateway audit` and `invitation-gateway migrate`
```

The service, around each mutation:

    record_id = await audit.start(AuditEntry(caller, "create", target, email, roles))
    ...the upstream call...
    await audit.complete(record_id, outcome="ok" or code, invitation_id=..., upstream_request_id=...)

A revoke's entry carries the invitation's global id from the start, and `complete` adds its
email; a revoke whose id is malformed is one `refused` write with `UNKNOWN_TARGET`.
"""

from __future__ import annotations

from ._engine import database_url
from ._migrate import SchemaChange
from .errors import AuditUnavailable
from .record import UNKNOWN_TARGET, Action, AuditEntry, AuditRecord, AuditTarget, to_json
from .store import AuditLog

__all__ = [
    "UNKNOWN_TARGET",
    "Action",
    "AuditEntry",
    "AuditLog",
    "AuditRecord",
    "AuditTarget",
    "AuditUnavailable",
    "SchemaChange",
    "database_url",
    "to_json",
]
