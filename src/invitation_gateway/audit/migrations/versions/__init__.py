"""The audit log's schema revisions, oldest first (Alembic skips this file)."""
