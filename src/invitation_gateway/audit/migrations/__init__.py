"""Alembic's environment and revisions for the audit log; run them with `AuditLog.migrate()`."""
